"""A forward pass that reports each layer's input and output shape through forward hooks, and
stops at the layer whose in-features do not match with PyTorch's own error."""

from __future__ import annotations

import torch
from torch import nn


def trace_shapes(model: nn.Sequential, x: torch.Tensor) -> tuple[list[dict], str | None]:
    """Rows (layer, input shape, output shape, parameters) for the layers that ran, and the
    error text of the layer that failed (None when the pass went through)."""
    rows: list[dict] = []

    def hook(module, inputs, output):
        rows.append({"layer": rows_name[module], "input": str(tuple(inputs[0].shape)),
                     "output": str(tuple(output.shape)),
                     "parameters": sum(p.numel() for p in module.parameters())})

    rows_name = {module: f"{name}: {module}" for name, module in model.named_children()}
    handles = [m.register_forward_hook(hook) for m in model.children()]
    error = None
    try:
        with torch.no_grad():
            model(x)
    except RuntimeError as exc:
        error = str(exc)
    finally:
        for handle in handles:
            handle.remove()
    return rows, error


def failing_layer(model: nn.Sequential, rows: list[dict]) -> str:
    """The layer after the last one that ran: the one whose in-features did not match."""
    names = [f"{name}: {module}" for name, module in model.named_children()]
    return names[len(rows)] if len(rows) < len(names) else names[-1]
