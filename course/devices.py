"""Which device to train on, and how many CPU threads torch may use on a shared machine."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

# torch is imported inside the functions: `wait_passively` must run before torch loads OpenMP.


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
    import torch

    wanted = threads or int(os.environ.get("COURSE_TORCH_THREADS", "0") or 0) or usable_cores()
    if wanted < 1:
        raise ValueError(f"threads must be at least 1, not {wanted}")
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def wait_passively(environ=os.environ) -> None:
    """Idle OpenMP threads sleep instead of spinning; set before torch is first imported.

    OpenMP reads its wait policy once, when torch loads it. Spinning threads keep both cores hot
    between parallel regions: with another process on one of two cores, an epoch took 4-5x longer.
    """
    environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


BACKGROUND_NICENESS = 10


def run_in_the_background(niceness: int = BACKGROUND_NICENESS) -> None:
    """Lower this process's CPU priority, so pages answer first and training takes what is left.

    For the app's training workers: on two cores a run's threads and a page's rerun compete,
    and a learner waiting on a slider matters more than a run finishing a moment sooner (a
    first visit's whole page came 1-1.5 s sooner with the fork server niced). Idempotent;
    nothing on systems without priorities.
    """
    if hasattr(os, "getpriority"):
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, 0, niceness)


def _cpu_seconds() -> tuple[float, float, float]:
    """(all CPUs busy, this process busy, wall) in seconds, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user..steal minus idle, iowait; guest is in user
    own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return busy / ticks, (int(own[11]) + int(own[12])) / ticks, time.monotonic()


def threads_for(free_cores: float, ceiling: int) -> int:
    """Threads to use when `free_cores` are left by other processes: never above the ceiling."""
    return max(1, min(ceiling, round(free_cores)))


class FreeCoreThreads:
    """Between optimizer steps, about once a second: as many torch threads as cores others leave.

    A thread that shares its core with another process makes every parallel region wait for it;
    one thread on the free core is faster than two where one is taken. Installed as a global
    optimizer step hook, so it runs on the training thread, whose thread count is the one used.
    """

    def __init__(self, ceiling: int, interval: float = 1.0):
        self.ceiling, self.interval = ceiling, interval
        self.last = _cpu_seconds()
        self.wait = min(interval, 0.25)  # the first look comes early: short runs matter too

    def others_busy_cores(self) -> float:
        busy, own, wall = _cpu_seconds()
        last_busy, last_own, last_wall = self.last
        self.last = busy, own, wall
        return max(0.0, (busy - last_busy) - (own - last_own)) / max(wall - last_wall, 1e-6)

    def __call__(self, *_hook_arguments) -> None:
        if time.monotonic() - self.last[2] < self.wait:
            return
        self.wait = self.interval
        import torch

        free = (os.cpu_count() or 1) - self.others_busy_cores()
        wanted = threads_for(free, self.ceiling)
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)


_governor: FreeCoreThreads | None = None


def follow_free_cores(ceiling: int, interval: float = 1.0) -> FreeCoreThreads | None:
    """Let every optimizer step of this process adapt its threads (up to ceiling) to the load."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    global _governor
    if _governor is not None:  # one per process; a later call only moves the ceiling
        _governor.ceiling = ceiling
        return _governor
    if ceiling <= 1:
        return None
    try:
        _governor = FreeCoreThreads(ceiling, interval)
    except (OSError, ValueError, IndexError):  # no /proc here: keep the ceiling
        return None
    register_optimizer_step_post_hook(_governor)
    return _governor


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
