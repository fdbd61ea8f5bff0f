"""The same network as nn.Sequential and as a subclass: different state_dict keys, and what
load_state_dict(strict=False) reports when they are mixed."""

from __future__ import annotations

from torch import nn


def sequential_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


class SubclassNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def keys_side_by_side() -> list[tuple[str, str]]:
    """(Sequential key, subclass key) pairs: same tensors, different names."""
    return list(zip(sequential_net().state_dict(), SubclassNet().state_dict()))


def load_mismatched() -> tuple[list[str], list[str]]:
    """Load the Sequential's state_dict into the subclass with strict=False: nothing loads."""
    result = SubclassNet().load_state_dict(sequential_net().state_dict(), strict=False)
    return list(result.missing_keys), list(result.unexpected_keys)


def strict_error() -> str:
    """PyTorch's own error for the same load with strict=True."""
    try:
        SubclassNet().load_state_dict(sequential_net().state_dict())
    except RuntimeError as exc:
        return str(exc)
    return ""
