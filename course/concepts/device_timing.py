"""Where a tensor lives and what that costs: the devices here, `.to(device)`, and an honest
matmul timing (warm-up, synchronised timer, median of repeats) on the CPU and, when present,
the GPU, with the price of moving the data there. Small sizes lose on a GPU; big ones win.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch
from torch.utils.benchmark import Timer

SIZES = (16, 64, 128, 256, 384)  # n for an (n x n) @ (n x n) product; the CPU sweep is ~0.15 s
GPU_SIZES = SIZES + (1024, 2048, 4096)
REPEATS = 7
BLOCK_SECONDS = 0.002  # each timed block runs about this long


@dataclass(frozen=True)
class Timing:
    device: str
    size: int
    median_seconds: float  # one n x n matmul, median over REPEATS blocks
    transfer_seconds: float | None  # moving both inputs CPU -> device, when the device isn't the CPU

    @property
    def gflops(self) -> float:
        return 2 * self.size ** 3 / self.median_seconds / 1e9


def available_devices() -> list[dict]:
    """What this machine offers, as `torch.device` strings with a line about each."""
    rows = [{"device": "cpu", "available": True,
             "about": f"{torch.get_num_threads()} thread(s) here; the timings below use 1"}]
    cuda = torch.cuda.is_available()
    rows.append({"device": "cuda", "available": cuda,
                 "about": ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
                 if cuda else "no NVIDIA GPU on this machine"})
    mps = torch.backends.mps.is_available()
    rows.append({"device": "mps", "available": mps,
                 "about": "Apple GPU" if mps else "not an Apple-silicon Mac"})
    return rows


def best_device() -> str:
    """The usual one-liner: the GPU when there is one, else the CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def move(tensor: torch.Tensor, device: str) -> torch.Tensor:
    """`.to(device)`: a copy on the other device (the same tensor when it's already there)."""
    return tensor.to(device)


# Expressions mixing a tensor on `device` with CPU values: which device does the result land on?
MIXED_EXPRESSIONS = {
    "torch.ones(3, device=device) * 2": lambda device: torch.ones(3, device=device) * 2,
    "torch.ones(3, device=device) * torch.tensor(2.0)":
        lambda device: torch.ones(3, device=device) * torch.tensor(2.0),
    "torch.ones(3, device=device) + torch.ones(3)":
        lambda device: torch.ones(3, device=device) + torch.ones(3),
}


def mixed_expression_devices(device: str) -> dict[str, str]:
    """Run each mixed expression: the result's device, or PyTorch's error (a Python number and a
    0-dimensional CPU tensor may join a GPU tensor; a CPU tensor with dimensions may not)."""
    results = {}
    for code, run in MIXED_EXPRESSIONS.items():
        try:
            results[code] = str(run(device).device)
        except RuntimeError as error:
            results[code] = f"RuntimeError: {error}"
    return results


def _median_block(timer: Timer) -> float:
    """Warm up, size a block to BLOCK_SECONDS, then the median of REPEATS blocks (seconds per run)."""
    once = timer.timeit(1).mean  # warm-up: lazy initialisation, caches, the first kernel launch
    number = max(1, int(BLOCK_SECONDS / max(once, 1e-9)))
    once = timer.timeit(number).mean
    number = max(1, int(BLOCK_SECONDS / max(once, 1e-9)))
    return statistics.median(timer.timeit(number).mean for _ in range(REPEATS))


def time_matmul(size: int, device: str = "cpu") -> Timing:
    """One (size x size) matmul on `device`, timed honestly; with the transfer cost off the CPU."""
    a_cpu, b_cpu = torch.randn(size, size), torch.randn(size, size)
    a, b = a_cpu.to(device), b_cpu.to(device)
    # Timer synchronises an accelerator around every measurement, so GPU work is really finished
    median = _median_block(Timer("a @ b", globals={"a": a, "b": b}))
    transfer = None
    if device != "cpu":
        transfer = _median_block(Timer("a.to(device); b.to(device)",
                                       globals={"a": a_cpu, "b": b_cpu, "device": device}))
    return Timing(device, size, median, transfer)


def sweep(device: str = "cpu", sizes: tuple[int, ...] | None = None) -> list[Timing]:
    """time_matmul across sizes: small to large."""
    sizes = sizes or (SIZES if device == "cpu" else GPU_SIZES)
    return [time_matmul(size, device) for size in sizes]


def gpu_wins_from(cpu: list[Timing], gpu: list[Timing], with_transfer: bool = True) -> int | None:
    """The smallest size where the GPU (paying the transfer, by default) beats the CPU; None if never."""
    cpu_time = {t.size: t.median_seconds for t in cpu}
    for timing in gpu:
        if timing.size in cpu_time:
            transfer = (timing.transfer_seconds or 0.0) if with_transfer else 0.0
            total = timing.median_seconds + transfer
            if total < cpu_time[timing.size]:
                return timing.size
    return None


def as_rows(timings: list[Timing]) -> list[dict]:
    """A table a learner reads: microseconds and GFLOP/s."""
    return [{"device": t.device, "n": t.size, "matmul (µs)": round(t.median_seconds * 1e6, 1),
             "GFLOP/s": round(t.gflops, 2),
             "transfer (µs)": None if t.transfer_seconds is None else round(t.transfer_seconds * 1e6, 1)}
            for t in timings]
