"""When the GPU wins: one training step timed across model width x batch size, per device and
precision (fp32, bf16 autocast, fp16 autocast with a GradScaler), with the batch either already
on the device or copied there every step.

Timed honestly: torch.utils.benchmark.Timer (it synchronises an accelerator around each block),
a warm-up first, the median of several blocks (device_timing's block size and repeats, with
fewer repeats for a slow step so the CPU sweep stays a few seconds long).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.utils.benchmark import Timer

from course.concepts import device_timing

INPUTS, CLASSES = 784, 10  # an MNIST-shaped step
CPU_WIDTHS = (32, 128, 512)
CPU_BATCHES = (16, 64)
GPU_WIDTHS = CPU_WIDTHS + (2048, 8192)
GPU_BATCHES = CPU_BATCHES + (1024,)
POINT_SECONDS = 0.1  # the most one sweep point spends on its repeats (at least MIN_REPEATS)
MIN_REPEATS = 3
CPU_PRECISIONS = ("fp32", "bf16")
GPU_PRECISIONS = ("fp32", "bf16", "fp16+scaler")
AUTOCAST_DTYPE = {"bf16": torch.bfloat16, "fp16+scaler": torch.float16}


class SweepError(ValueError):
    """A sweep asked for something this machine cannot run."""


@dataclass(frozen=True)
class StepTiming:
    device: str
    precision: str
    width: int
    batch: int
    data_on_device: bool
    median_seconds: float
    loss: float  # the last step's loss: finite, or the precision broke the step

    @property
    def label(self) -> str:
        where = "" if self.device == "cpu" else (", data on device" if self.data_on_device
                                                 else ", copy each step")
        return f"{self.device} {self.precision}{where}"


def mlp(width: int) -> nn.Module:
    """784 -> width -> width -> 10: the width is the knob that makes the step big or small."""
    return nn.Sequential(nn.Linear(INPUTS, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, CLASSES))


def step_flops(width: int, batch: int) -> float:
    """Floating-point operations in one step: forward 2 per multiply-add, backward about twice
    the forward. The x axis that puts every width and batch on one line."""
    weights = INPUTS * width + width * width + width * CLASSES
    return 3 * 2 * batch * weights


def make_step(width: int, batch: int, device: str = "cpu", precision: str = "fp32",
              data_on_device: bool = True, seed: int = 0):
    """One full training step as a function of no arguments (returns the loss tensor)."""
    if precision not in AUTOCAST_DTYPE and precision != "fp32":
        raise SweepError(f"unknown precision {precision!r}: choose fp32, bf16 or fp16+scaler")
    torch.manual_seed(seed)
    model = mlp(width).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x_host, y_host = torch.randn(batch, INPUTS), torch.randint(0, CLASSES, (batch,))
    x_dev, y_dev = x_host.to(device), y_host.to(device)
    dtype = AUTOCAST_DTYPE.get(precision)
    scaler = torch.amp.GradScaler(device, enabled=precision == "fp16+scaler")

    def step() -> torch.Tensor:
        x, y = (x_dev, y_dev) if data_on_device else (x_host.to(device), y_host.to(device))
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device, dtype=dtype, enabled=dtype is not None):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()  # enabled=False: scale() returns the loss unchanged
        scaler.step(optimizer)
        scaler.update()
        return loss

    return step


def median_seconds(timer: Timer) -> float:
    """Warm up, size a block to device_timing.BLOCK_SECONDS, then the median of up to REPEATS
    blocks (fewer, never under MIN_REPEATS, when a step is slow)."""
    # warm-up: lazy initialisation, allocator caches, the first kernel launches; it also gives
    # an upper bound on one step's time, enough to size the blocks
    once = timer.timeit(1).mean
    number = max(1, int(device_timing.BLOCK_SECONDS / max(once, 1e-9)))
    repeats = max(MIN_REPEATS, min(device_timing.REPEATS, int(POINT_SECONDS / (once * number))))
    return statistics.median(timer.timeit(number).mean for _ in range(repeats))


def time_step(width: int, batch: int, device: str = "cpu", precision: str = "fp32",
              data_on_device: bool = True) -> StepTiming:
    """The median time of one training step, warm-up first."""
    step = make_step(width, batch, device, precision, data_on_device)
    median = median_seconds(Timer("step()", globals={"step": step}))
    loss = float(step().detach().float().cpu())
    return StepTiming(device, precision, width, batch, data_on_device, median, loss)


def sweep_plan(device: str = "cpu", widths=None, batches=None, precisions=None) -> list[dict]:
    """Every (width, batch, precision, data placement) the sweep will time, in order."""
    on_cpu = device == "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SweepError("no CUDA GPU on this machine: the sweep can only time the CPU here")
    widths = widths or (CPU_WIDTHS if on_cpu else GPU_WIDTHS)
    batches = batches or (CPU_BATCHES if on_cpu else GPU_BATCHES)
    precisions = precisions or (CPU_PRECISIONS if on_cpu else GPU_PRECISIONS)
    placements = (True,) if on_cpu else (True, False)  # on the CPU there is nothing to copy
    return [dict(width=w, batch=b, device=device, precision=p, data_on_device=d)
            for w in widths for b in batches for p in precisions for d in placements]


def run_sweep(plan: list[dict], progress=None) -> list[StepTiming]:
    """time_step for each point of a plan; progress(done, total) after each one."""
    timings = []
    for done, point in enumerate(plan, start=1):
        timings.append(time_step(**point))
        if progress is not None:
            progress(done, len(plan))
    return timings


def fastest_cpu(timings: list[StepTiming]) -> dict[tuple[int, int], float]:
    """The CPU's best time for each (width, batch), whichever precision won."""
    best: dict[tuple[int, int], float] = {}
    for t in timings:
        if t.device == "cpu":
            key = (t.width, t.batch)
            best[key] = min(best.get(key, float("inf")), t.median_seconds)
    return best


def crossover(timings: list[StepTiming]) -> list[dict]:
    """For each GPU setting, the smallest steps (width x batch) where it beats the CPU's best."""
    cpu = fastest_cpu(timings)
    rows = []
    for label in dict.fromkeys(t.label for t in timings if t.device != "cpu"):
        wins = [t for t in timings if t.label == label and (t.width, t.batch) in cpu
                and t.median_seconds < cpu[(t.width, t.batch)]]
        smallest = min(wins, key=lambda t: t.width * t.batch, default=None)
        rows.append({"setting": label, "GPU first wins at": None if smallest is None
                     else f"width {smallest.width}, batch {smallest.batch}",
                     "speed-up there": None if smallest is None
                     else round(cpu[(smallest.width, smallest.batch)] / smallest.median_seconds, 2)})
    return rows


def bf16_vs_fp32(timings: list[StepTiming], device: str = "cpu") -> list[dict]:
    """bf16 autocast's time over fp32's, per step size: above 1 means bf16 is slower here."""
    fp32 = {(t.width, t.batch): t.median_seconds for t in timings
            if t.device == device and t.precision == "fp32" and t.data_on_device}
    return [{"width": t.width, "batch": t.batch, "bf16 / fp32": round(t.median_seconds
                                                                      / fp32[(t.width, t.batch)], 2)}
            for t in timings if t.device == device and t.precision == "bf16" and t.data_on_device
            and (t.width, t.batch) in fp32]


def as_rows(timings: list[StepTiming]) -> list[dict]:
    """A table a learner reads: milliseconds per step."""
    return [{"setting": t.label, "width": t.width, "batch": t.batch,
             "step (ms)": round(t.median_seconds * 1e3, 3), "loss": round(t.loss, 4)}
            for t in timings]


def to_records(timings: list[StepTiming]) -> list[dict]:
    """Plain dicts, for a JSON file."""
    return [asdict(t) for t in timings]


def from_records(records: list[dict]) -> list[StepTiming]:
    return [StepTiming(**record) for record in records]


def load_reference(path) -> dict | None:
    """A sweep measured elsewhere (benchmarks/gpu_figures.py writes it): None when absent."""
    import json
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    return {**saved, "timings": from_records(saved["timings"])}
