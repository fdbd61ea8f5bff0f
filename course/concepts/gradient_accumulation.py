"""Why zero_grad is not boilerplate: .grad adds up across backward() calls."""

from __future__ import annotations

import torch


def grad_timeline(k: int, zero_each_time: bool, w0: float = 1.0, x: float = 3.0) -> list[float]:
    """w.grad after each of k backward() calls of L = w·x (dL/dw = x every time)."""
    w = torch.tensor(w0, requires_grad=True)
    history = []
    for _ in range(k):
        if zero_each_time and w.grad is not None:
            w.grad.zero_()
        (w * x).backward()
        history.append(w.grad.item())
    return history


def full_batch_grad(x: torch.Tensor, y: torch.Tensor, w0: float = 0.5) -> torch.Tensor:
    w = torch.tensor(w0, requires_grad=True)
    ((w * x - y) ** 2).mean().backward()
    return w.grad


def accumulated_grad(x: torch.Tensor, y: torch.Tensor, k: int, w0: float = 0.5) -> torch.Tensor:
    """k equal micro-batches, each loss divided by k, backward() without zeroing in between:
    the sum is the full-batch gradient of the mean loss."""
    w = torch.tensor(w0, requires_grad=True)
    for xb, yb in zip(x.chunk(k), y.chunk(k)):
        (((w * xb - yb) ** 2).mean() / k).backward()
    return w.grad


def zero_grad_effect(set_to_none: bool) -> object:
    """What optimizer.zero_grad leaves in .grad: None (the default) or a tensor of zeros."""
    w = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=set_to_none)
    return w.grad


def graph_effect(mode: str) -> dict:
    """y = w·x under each way of switching autograd off: does y join the graph?"""
    w = torch.tensor(2.0, requires_grad=(mode != "requires_grad=False"))
    x = torch.tensor(3.0)
    if mode == "torch.no_grad()":
        with torch.no_grad():
            y = w * x
    elif mode == "detach()":
        y = w.detach() * x
    else:
        y = w * x
    return {"requires_grad": y.requires_grad, "grad_fn": type(y.grad_fn).__name__
            if y.grad_fn else None, "value": y.item()}
