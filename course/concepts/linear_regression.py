"""The Foundations linear regression (y = 2x + 1 plus noise) fitted by hand, then with torch.optim.

The explicit version updates w and b by hand under torch.no_grad(); the convenient versions let
nn.Linear, nn.MSELoss and an optimizer (SGD, momentum, Adam) run the same heartbeat. A frame is
(w, b, loss) after one step; every fit starts from w = b = 0 so the fits compare.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from course.concepts import heartbeat

BUGS = {
    "none": "the correct loop",
    "no_zero_grad": "forgot optimizer.zero_grad()",
    "step_before_backward": "optimizer.step() before loss.backward()",
    "target_shape": "target of shape (N,) against an output of (N, 1)",
}


def regression_data(n: int = 50, noise: float = 0.3, seed: int = 0):
    """Foundations 1.1's points: x in [-1, 1], y = 2x + 1 plus Gaussian noise, both (n, 1)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=generator) * 2 - 1
    y = 2 * x + 1 + noise * torch.randn(n, 1, generator=generator)
    return x, y


def fit_by_hand(x, y, lr: float = 0.1, steps: int = 100) -> list[tuple[float, float, float]]:
    """Raw tensors and a hand-written update: exactly what optim.SGD will replace."""
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    frames = []
    for _ in range(steps):
        prediction = x * w + b                      # ① forward
        loss = ((prediction - y) ** 2).mean()       # ② loss (mean squared error)
        loss.backward()                             # ③ backward
        with torch.no_grad():                       # ④ step, by hand
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()                          # and clear, or the next step adds to it
            b.grad.zero_()
        frames.append((w.item(), b.item(), loss.item()))
    return frames


def zero_line() -> nn.Linear:
    """nn.Linear(1, 1) started at w = b = 0, where the hand-written fit starts."""
    line = nn.Linear(1, 1)
    with torch.no_grad():
        line.weight.zero_()
        line.bias.zero_()
    return line


def _frame(line: nn.Linear, loss: float) -> tuple[float, float, float]:
    return line.weight.item(), line.bias.item(), loss


def fit_with_optimizer(x, y, optimizer_name: str = "sgd", lr: float = 0.1,
                       steps: int = 100) -> list[tuple[float, float, float]]:
    """nn.Linear + nn.MSELoss + torch.optim through the shared heartbeat."""
    line = zero_line()
    optimizer = heartbeat.make_optimizer(optimizer_name, line.parameters(), lr)
    frames = []
    heartbeat.train(line, optimizer, x, y, steps, nn.MSELoss(),
                    after_step=lambda loss: frames.append(_frame(line, loss)))
    return frames


def fit_with_bug(x, y, bug: str, lr: float = 0.1, steps: int = 100):
    """The loop with one classic bug; returns (frames, PyTorch's warning or "").

    None of the three raises an error: the loss just goes somewhere else.
    """
    if bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}")
    line = zero_line()
    optimizer = torch.optim.SGD(line.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    target = y.view(-1) if bug == "target_shape" else y  # (N,) broadcasts against (N, 1) to (N, N)
    frames = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            if bug != "no_zero_grad":
                optimizer.zero_grad()
            loss = loss_fn(line(x), target)
            if bug == "step_before_backward":
                optimizer.step()          # uses the gradient of the step before
                loss.backward()
            else:
                loss.backward()
                optimizer.step()
            frames.append(_frame(line, loss.item()))
    return frames, str(caught[0].message) if caught else ""


def loss_surface(x, y, ws, bs) -> torch.Tensor:
    """MSE over a grid of (w, b), [len(ws), len(bs)]: the landscape each optimizer walks down."""
    w = torch.as_tensor(ws, dtype=torch.float32).view(-1, 1, 1)
    b = torch.as_tensor(bs, dtype=torch.float32).view(1, -1, 1)
    predictions = w * x.view(1, 1, -1) + b
    return ((predictions - y.view(1, 1, -1)) ** 2).mean(dim=2)


def divergence_threshold(x) -> float:
    """SGD on this MSE diverges above 2 / (largest Hessian eigenvalue): the curvature sets the limit."""
    design = torch.cat([x, torch.ones_like(x)], dim=1)
    hessian = 2 * design.T @ design / len(x)
    return 2 / torch.linalg.eigvalsh(hessian).max().item()
