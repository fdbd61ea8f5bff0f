"""The four-line heartbeat every training loop in this course shares: forward, loss, backward, step.

The regression, the curve fit and the playground all train through `train`, so "same heartbeat,
new instruments" is literally the same function with another model, loss or optimizer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def make_optimizer(name: str, parameters, lr: float) -> torch.optim.Optimizer:
    """Foundations 1.3.5's optimizers, ready-made: plain SGD, SGD with momentum, or Adam."""
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}: choose sgd, momentum or adam")


def train(model: nn.Module, optimizer, x, y, steps: int, loss_fn=None,
          after_step: Callable[[float], None] | None = None) -> list[float]:
    """Full-batch training, `steps` times; returns each step's loss (before its update)."""
    loss_fn = loss_fn or nn.MSELoss()
    model.train()  # no dropout or batch norm here, but the habit belongs before every loop
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()          # first, clear last step's gradients
        output = model(x)              # ① forward
        loss = loss_fn(output, y)      # ② loss
        loss.backward()                # ③ backward
        optimizer.step()               # ④ step
        losses.append(loss.item())
        if after_step is not None:
            after_step(losses[-1])
    return losses


def set_learning_rate(optimizer, lr: float) -> None:
    """Change the learning rate mid-run: the weights stay exactly where they are."""
    for group in optimizer.param_groups:
        group["lr"] = lr
