"""Which device to train on: CUDA when present, else the CPU."""

from __future__ import annotations


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(requested: str | None) -> str:
    """'auto' or None picks CUDA when present; asking for CUDA without one is a clear error."""
    import torch

    if requested in (None, "auto"):
        return default_device()
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no GPU is available here; use --device cpu")
    return requested
