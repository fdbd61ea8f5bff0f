"""Device-aware training: which devices this machine has, the loop that moves the model once and
every batch inside the loop, and the error you get when one tensor stays behind.

The loop never names a device: it is handed one, so the same code runs on a laptop CPU, an Apple
GPU (mps) and a CUDA GPU.
"""

from __future__ import annotations

import ast
import inspect
import os
from dataclasses import dataclass

import torch
from torch import nn

from course.concepts import device_timing

# PyTorch's message when a model is on a CUDA GPU and the batch was left on the CPU. A CPU-only
# machine cannot produce it, so the page shows it labelled with where it was recorded.
RECORDED_MISMATCH = ("Expected all tensors to be on the same device, but found at least two "
                     "devices, cuda:0 and cpu! (when checking argument for argument mat1 in method "
                     "wrapper_CUDA_addmm)")
RECORDED_ON = ("recorded on a CUDA machine with PyTorch 2.x (model.to('cuda'), batch left on the "
               "CPU); this machine has no CUDA GPU, so it cannot print it here")


@dataclass(frozen=True)
class MismatchDemo:
    message: str
    live: bool  # True: raised just now on this machine; False: the recorded message
    where: str  # the devices involved, or where the recorded message came from


def device_rows() -> list[dict]:
    """device_timing's rows (cuda, mps, cpu), plus each CUDA GPU's memory when there is one."""
    rows = device_timing.available_devices()
    threads = torch.get_num_threads()
    rows[0] = {**rows[0], "about": f"always there; torch uses {threads} thread"
                                   f"{'s' if threads != 1 else ''} of {os.cpu_count()} cores"}
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            rows.append({"device": f"cuda:{index}", "available": True,
                         "about": f"{torch.cuda.get_device_name(index)}: {total / 2**30:.1f} GiB, "
                                  f"{free / 2**30:.1f} GiB free"})
    return rows


def pick_device() -> torch.device:
    """The usual choice, made once at the top of a script: CUDA, else Apple's mps, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def small_classifier(width: int = 64, inputs: int = 20, classes: int = 4) -> nn.Module:
    """A two-layer MLP: big enough to train, small enough to run in milliseconds."""
    return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, classes))


def toy_batches(count: int = 8, batch_size: int = 32, inputs: int = 20, classes: int = 4,
                seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Batches as a DataLoader gives them: on the CPU. Labels follow the first features' sign."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        x = torch.randn(batch_size, inputs, generator=generator)
        y = (x[:, :classes].argmax(dim=1))  # learnable: the largest of the first few features
        batches.append((x, y))
    return batches


def train_on(device: torch.device, model: nn.Module, batches, epochs: int = 3,
             lr: float = 0.1) -> list[float]:
    """The device-aware loop: the model moves once, every batch moves inside the loop."""
    model = model.to(device)  # parameters move first ...
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)  # ... then the optimizer sees them
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        for inputs, targets in batches:
            inputs, targets = inputs.to(device), targets.to(device)  # both, every batch
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def device_literals(function) -> list[str]:
    """Every string in a function's code that names a device ('cuda', 'cpu:0', 'mps', ...):
    a device-aware function has none (docstring and comments aside)."""
    tree = ast.parse(inspect.getsource(function).lstrip())
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring may mention devices
    names = ("cpu", "cuda", "mps", "xpu")
    return [node.value for statement in body for node in ast.walk(statement)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.split(":")[0] in names]


def forgotten_batch_error() -> MismatchDemo:
    """Model on one device, batch left on the CPU: PyTorch's own error.

    With CUDA the real one; without it the same mistake on the 'meta' device (a device that holds
    shapes but no data, present in every PyTorch) raises live, and the CUDA wording is recorded.
    """
    other = "cuda" if torch.cuda.is_available() else "meta"
    model = small_classifier().to(other)
    try:
        model(torch.randn(2, 20))  # the batch was never moved
    except RuntimeError as error:
        return MismatchDemo(str(error), True, f"model on {other}, batch on cpu")
    raise AssertionError("a model and a batch on different devices ran without an error")


def recorded_cuda_error() -> MismatchDemo:
    """The CUDA wording, for machines that cannot raise it."""
    return MismatchDemo(RECORDED_MISMATCH, False, RECORDED_ON)
