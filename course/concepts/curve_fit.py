"""Foundations 1.2's neural net, again: a small MLP fits a curve with the very same heartbeat.

Only the instruments change (a network instead of a line, Adam instead of SGD); the loop body
is heartbeat.train, the one the regression used.
"""

from __future__ import annotations

import torch
from torch import nn

from course.concepts import heartbeat


def curve_data(n: int = 80, noise: float = 0.1, seed: int = 0):
    """x in [-3, 3], y = sin(x) plus noise, both (n, 1): no straight line fits this."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=generator) * 6 - 3
    return x, torch.sin(x) + noise * torch.randn(n, 1, generator=generator)


def curve_model(hidden: int = 16, seed: int = 0) -> nn.Sequential:
    """1 -> hidden -> 1 with a tanh between: the 1.2 network."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def fit_curve(hidden: int = 16, steps: int = 400, lr: float = 0.02, seed: int = 0):
    """Train with Adam through heartbeat.train; return (model, losses, eval-mode MSE on a grid)."""
    x, y = curve_data(seed=seed)
    model = curve_model(hidden, seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = heartbeat.train(model, optimizer, x, y, steps)    # model.train() inside
    model.eval()                                               # evaluation mode ...
    with torch.no_grad():                                      # ... and no graph to build
        grid = torch.linspace(-3, 3, 121).view(-1, 1)
        grid_mse = nn.functional.mse_loss(model(grid), torch.sin(grid)).item()
    return model, losses, grid_mse
