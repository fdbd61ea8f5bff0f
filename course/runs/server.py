"""Server plumbing for training on a shared machine: usable cores (a container's CPU quota),
torch's thread count fixed per run, passive OpenMP waits, and background priority."""

from __future__ import annotations

import math
import os
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


REPLICAS_SETTING = "COURSE_REPLICAS_PER_HOST"


def replicas_per_host(environ=os.environ) -> int | None:
    """How many app replicas share this host's cores (COURSE_REPLICAS_PER_HOST), None unset.

    Replicas cannot see each other: each one sized for the whole host, so two of them on two
    cores trained four runs at once and every run took 50x its solo time (issue #24).
    """
    raw = environ.get(REPLICAS_SETTING, "").strip()
    if not raw:
        return None
    try:
        replicas = int(raw)
    except ValueError:
        raise ValueError(f"{REPLICAS_SETTING} must be a whole number, not {raw!r}") from None
    if replicas < 1:
        raise ValueError(f"{REPLICAS_SETTING} must be at least 1, not {replicas}")
    return replicas


def core_budget(environ=os.environ) -> int | None:
    """This replica's share of the usable cores (at least one), None without the setting.

    Its training slots times its torch threads stay within this share, so all replicas together
    stay within the host's cores (more replicas than cores still get one core's worth each).
    """
    replicas = replicas_per_host(environ)
    if replicas is None:
        return None
    return max(1, usable_cores() // replicas)


DEFAULT_THREADS = 1
_configured: int | None = None  # the count this process chose for its runs (configure_threads)


def chosen_threads(threads: int | None = None) -> int:
    """The thread count asked for: `threads`, else COURSE_TORCH_THREADS, else one thread;
    the last two never above this replica's core budget (COURSE_REPLICAS_PER_HOST).

    One thread by default, fixed for the whole run: a run's numbers then depend on its settings
    and seed alone, whatever else the machine runs (a count that followed the load rounded
    differently each time it moved), and a busy neighbour costs it little, since it never waits
    for a thread that shares a core (benchmarks/README.md measures the options side by side).
    """
    wanted = threads
    if wanted is None:
        wanted = int(os.environ.get("COURSE_TORCH_THREADS", "0") or 0) or DEFAULT_THREADS
        budget = core_budget()
        if budget is not None:  # a replica's neighbours have the other cores
            wanted = min(wanted, budget)
    if wanted < 1:
        raise ValueError(f"threads must be at least 1, not {wanted}")
    return wanted


def configure_threads(threads: int | None = None) -> int:
    """Set torch's process-global thread count once (chosen_threads) and remember it for runs."""
    import torch

    global _configured
    wanted = chosen_threads(threads)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    _configured = wanted
    return wanted


def configured_threads() -> int:
    """The count configure_threads set in this process (chosen_threads() if it never ran)."""
    return _configured or chosen_threads()


def threads_for_run(recorded: int | None) -> int:
    """Set and return the count a run trains with: the one its config recorded (a resume), else
    this process's. The same count on resume is what makes the resumed run end identical."""
    import torch

    threads = recorded or configured_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


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


def first_optimizer_step() -> None:
    """One fused-Adam step on a toy model, once per process: an optimizer's first step imports
    torch._dynamo (about 1.4 s of CPU, more on a busy machine), which the fork server's workers
    and the page that first trains in the app's own process would otherwise each pay."""
    import torch

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)  # as train.adam
    model(torch.zeros(1, 2)).sum().backward()
    optimizer.step()


def warm_in_the_background() -> None:
    """The app's own process pays the first optimizer step on a side thread at start-up, while
    the first page renders, not inside a page's first fit (the training-loop page fits in-page)."""
    import threading

    def warm() -> None:
        configure_threads(1)  # what every lesson page sets in this process (course.ui.lesson)
        first_optimizer_step()

    threading.Thread(target=warm, name="warm-optimizer", daemon=True).start()
