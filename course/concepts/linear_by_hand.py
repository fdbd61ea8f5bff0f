"""nn.Linear is x @ W.T + b: the explicit operation first, then the layer that does the same."""

from __future__ import annotations

import torch
from torch import nn


def make_layer(in_features: int = 3, out_features: int = 2) -> nn.Linear:
    """A small seeded Linear so every learner sees the same weights."""
    torch.manual_seed(0)
    return nn.Linear(in_features, out_features)


def by_hand(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The explicit operation: each output is a weighted sum of the inputs plus a bias."""
    return x @ weight.T + bias


def with_edited_weight(layer: nn.Linear, row: int, col: int, value: float) -> nn.Linear:
    """A copy of the layer with one weight changed (under no_grad: editing is not training)."""
    edited = nn.Linear(layer.in_features, layer.out_features)
    edited.load_state_dict(layer.state_dict())
    with torch.no_grad():
        edited.weight[row, col] = value
    return edited
