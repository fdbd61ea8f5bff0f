"""Layers kept in a plain Python list are invisible to parameters() (and so to the optimizer and
.to()); nn.ModuleList registers them (pytorch/pytorch#8017)."""

from __future__ import annotations

import torch
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


def dtypes_before_and_after_to(model: nn.Module, dtype: torch.dtype = torch.float64) -> list[dict]:
    """Every Linear's weight and bias dtype before and after model.to(dtype), found through the
    model's attributes (so the plain list's layers show too): .to() casts only what is registered.
    On a CPU-only machine a dtype cast shows what .to(device) would move."""
    def all_tensors():
        for i, layer in enumerate(model.layers):
            yield f"layers[{i}].weight", layer.weight
            yield f"layers[{i}].bias", layer.bias

    before = {name: t.dtype for name, t in all_tensors()}
    model.to(dtype)
    return [{"tensor": name, "before .to()": str(before[name]), "after .to()": str(t.dtype),
             "converted": t.dtype == dtype} for name, t in all_tensors()]
