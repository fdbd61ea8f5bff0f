"""Diagnosing training: gradient norms, their verdict, TensorBoard event files, torchinfo."""

from __future__ import annotations

from pathlib import Path

from torch import nn


def gradient_norms(model: nn.Module) -> dict[str, float]:
    """L2 norm of each named parameter's `.grad` (parameters without a gradient are skipped)."""
    return {
        name: param.grad.detach().norm().item()
        for name, param in model.named_parameters()
        if param.grad is not None
    }


def read_scalars(logdir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a TensorBoard log folder, read back from its event files: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = Path(logdir)
    if not logdir.is_dir():
        return {}
    scalars: dict[str, list[tuple[int, float]]] = {}
    # A folder may hold several event files (a resumed run writes a second one): read each, merge.
    for events_file in sorted(logdir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events_file), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags().get("scalars", []):
            scalars.setdefault(tag, []).extend((e.step, e.value) for e in accumulator.Scalars(tag))
    return {tag: sorted(points) for tag, points in scalars.items()}


def log_gradient_norms(model: nn.Module, writer, step: int) -> dict[str, float]:
    """Write every parameter's gradient norm to TensorBoard as `grad_norm/<name>`; call after backward."""
    norms = gradient_norms(model)
    for name, norm in norms.items():
        writer.add_scalar(f"grad_norm/{name}", norm, step)
    return norms

