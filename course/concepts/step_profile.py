"""Where the time of one small training step goes, by torch.profiler: the batch's trip to the
device, forward, backward, the optimizer, and the `.item()` that waits for the device.

Each phase is a `record_function` range, so the phases are the step, cut into pieces; inside them
the profiler counts operator calls (on a GPU each launches kernels), copies and syncs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile, record_function

# the record_function names in profiled_step, in order
PHASES = ("batch to device", "forward + loss", "backward", "optimizer step", "loss.item() (sync)")
COPY_OPS = ("aten::copy_", "aten::_to_copy")
SYNC_OPS = ("aten::_local_scalar_dense",)  # what .item() runs: it waits for the device's queue
DATASET_SIZE = 2048


@dataclass(frozen=True)
class StepProfile:
    device: str
    whole_dataset_on_device: bool
    phase_ms: dict[str, float]  # each phase's wall time in the profile, milliseconds
    step_ms: float  # the whole step's range in the profile
    wall_ms: float  # the same step by perf_counter, outside the profiler's bookkeeping
    operator_calls: int  # aten operators called (each a kernel launch, or several, on a GPU)
    gpu_kernels: int  # kernels that ran on the GPU; 0 on the CPU
    copies: int  # copy operators: host-to-device copies when the data is not on the device
    copy_ms: float
    syncs: int  # .item() and friends: the host waits for the device here

    @property
    def phases_total_ms(self) -> float:
        return sum(self.phase_ms.values())


def _setup(width: int, batch: int, device: str, whole_dataset_on_device: bool, seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, 10)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    images = torch.randn(DATASET_SIZE, 784)
    labels = torch.randint(0, 10, (DATASET_SIZE,))
    if whole_dataset_on_device:  # moved once, before training: each batch is a slice on the device
        images, labels = images.to(device), labels.to(device)
    return model, optimizer, images, labels


def profiled_step(model, optimizer, images, labels, start: int, batch: int, device: str) -> float:
    """One step, cut into the named phases."""
    with record_function("batch to device"):
        x = images[start:start + batch].to(device)  # a no-op when the dataset is already there
        y = labels[start:start + batch].to(device)
    with record_function("forward + loss"):
        loss = nn.functional.cross_entropy(model(x), y)
    with record_function("backward"):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    with record_function("optimizer step"):
        optimizer.step()
    with record_function("loss.item() (sync)"):
        return loss.item()


def profile_step(width: int = 128, batch: int = 64, device: str = "cpu",
                 whole_dataset_on_device: bool = False) -> StepProfile:
    """Profile one training step, after two warm-up steps."""
    model, optimizer, images, labels = _setup(width, batch, device, whole_dataset_on_device)
    for start in (0, batch):
        profiled_step(model, optimizer, images, labels, start, batch, device)
    activities = [ProfilerActivity.CPU]
    if device.startswith("cuda"):
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        began = time.perf_counter()
        with record_function("step"):
            profiled_step(model, optimizer, images, labels, 2 * batch, batch, device)
        wall = time.perf_counter() - began
    return summarise(prof.events(), device, whole_dataset_on_device, wall)


def summarise(events, device: str, whole_dataset_on_device: bool, wall_seconds: float) -> StepProfile:
    """The profile's events, reduced to the phases, counts and copy time a learner reads."""
    cpu_events = [e for e in events if e.device_type == DeviceType.CPU]
    ranges = {e.name: e.cpu_time_total / 1e3 for e in cpu_events if e.name in (*PHASES, "step")}
    copies = [e for e in cpu_events if e.name in COPY_OPS]
    return StepProfile(
        device=device, whole_dataset_on_device=whole_dataset_on_device,
        phase_ms={name: ranges.get(name, 0.0) for name in PHASES}, step_ms=ranges["step"],
        wall_ms=wall_seconds * 1e3,
        operator_calls=sum(e.name.startswith("aten::") for e in cpu_events),
        gpu_kernels=sum(e.device_type == DeviceType.CUDA for e in events),
        copies=len(copies), copy_ms=sum(e.cpu_time_total for e in copies) / 1e3,
        syncs=sum(e.name in SYNC_OPS for e in cpu_events))


def as_rows(result: StepProfile) -> list[dict]:
    """The phases with their share of the step."""
    return [{"phase": name, "ms": round(ms, 3),
             "share of the step": f"{100 * ms / result.step_ms:.0f}%"}
            for name, ms in result.phase_ms.items()]
