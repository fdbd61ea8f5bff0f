"""Which device to train on, and how many CPU threads torch may use on a shared machine."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch


def cpu_quota(cgroup_file: Path = Path("/sys/fs/cgroup/cpu.max")) -> int | None:
    """The container's CPU limit in whole cores (cgroup v2), or None when there is none."""
    try:
        quota, period = cgroup_file.read_text().split()[:2]
        if quota == "max":
            return None
        return max(1, math.floor(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def usable_cores() -> int:
    """Cores this process may really use: the smaller of the host's count and the quota."""
    counts = [os.cpu_count() or 1]
    if hasattr(os, "sched_getaffinity"):
        counts.append(len(os.sched_getaffinity(0)))
    quota = cpu_quota()
    if quota:
        counts.append(quota)
    return max(1, min(counts))


def configure_threads(threads: int | None = None) -> int:
    """Set torch's process-global thread count once: COURSE_TORCH_THREADS, else usable cores.

    torch counts the host's cores, not a container's quota, and oversubscribes without this.
    """
    wanted = threads or int(os.environ.get("COURSE_TORCH_THREADS", "0") or 0) or usable_cores()
    if wanted < 1:
        raise ValueError(f"threads must be at least 1, not {wanted}")
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(requested: str | None) -> str:
    """'auto' or None picks CUDA when present; asking for CUDA without one is a clear error."""
    if requested in (None, "auto"):
        return default_device()
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no GPU is available here; use --device cpu")
    return requested
