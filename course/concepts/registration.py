"""Layers kept in a plain Python list are invisible to parameters() (and so to the optimizer and
.to()); nn.ModuleList registers them (pytorch/pytorch#8017)."""

from __future__ import annotations

from torch import nn


class PlainListNet(nn.Module):
    def __init__(self, n_layers: int = 3, width: int = 4):
        super().__init__()
        self.layers = [nn.Linear(width, width) for _ in range(n_layers)]  # not registered

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class ModuleListNet(nn.Module):
    def __init__(self, n_layers: int = 3, width: int = 4):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(n_layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def visible_parameters(model: nn.Module) -> int:
    """What model.parameters() (and the optimizer) sees."""
    return sum(p.numel() for p in model.parameters())
