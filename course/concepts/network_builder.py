"""Build a network from a list of (width, activation) layers: the printed module, the nn.Module
subclass code that builds the same thing, its parameters and the in x out + out formula."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "none": None}
MIN_LAYERS = 1
MAX_LAYERS = 6


def layer_sizes(in_features: int, layers: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """(in, out) of each Linear, in order: each layer's input is the previous layer's width."""
    sizes, previous = [], in_features
    for width, _ in layers:
        sizes.append((previous, width))
        previous = width
    return sizes


def build_sequential(in_features: int, layers: list[tuple[int, str]]) -> nn.Sequential:
    """The network as nn.Sequential: a Linear per layer, followed by its activation if any."""
    torch.manual_seed(0)
    parts: list[nn.Module] = []
    for (n_in, n_out), (_, activation) in zip(layer_sizes(in_features, layers), layers):
        parts.append(nn.Linear(n_in, n_out))
        if ACTIVATIONS[activation] is not None:
            parts.append(ACTIVATIONS[activation]())
    return nn.Sequential(*parts)


def subclass_code(in_features: int, layers: list[tuple[int, str]]) -> str:
    """The same network written as an nn.Module subclass (a string a test executes)."""
    lines = ["import torch", "from torch import nn", "", "", "class Net(nn.Module):",
             "    def __init__(self):", "        super().__init__()"]
    for i, (n_in, n_out) in enumerate(layer_sizes(in_features, layers), start=1):
        lines.append(f"        self.fc{i} = nn.Linear({n_in}, {n_out})")
    lines += ["", "    def forward(self, x):"]
    for i, (_, activation) in enumerate(layers, start=1):
        call = f"self.fc{i}(x)"
        if activation != "none":
            call = f"torch.{activation.lower()}({call})"
        lines.append(f"        x = {call}")
    lines.append("        return x")
    return "\n".join(lines) + "\n"


def run_subclass_code(code: str) -> nn.Module:
    """Execute the generated code and return a Net built from it."""
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own generated code
    return namespace["Net"]()


def parameter_table(model: nn.Module) -> list[dict]:
    """named_parameters as rows: name, shape, count."""
    return [{"name": name, "shape": str(tuple(p.shape)), "count": p.numel()}
            for name, p in model.named_parameters()]


def formula_count(in_features: int, layers: list[tuple[int, str]]) -> int:
    """in x out + out per Linear (weights plus biases), summed."""
    return sum(n_in * n_out + n_out for n_in, n_out in layer_sizes(in_features, layers))


def parameter_count(model: nn.Module) -> int:
    """What the optimizer receives, counted: sum of p.numel() over model.parameters()."""
    return sum(p.numel() for p in model.parameters())
