"""What a trained MLP learned: first-layer templates, hidden activations, saliency maps."""

from __future__ import annotations

import torch
from torch import nn


def first_linear(model: nn.Module) -> nn.Linear:
    """The first nn.Linear of the model: the one that looks at the 784 pixels."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            return module
    raise ValueError("this model has no nn.Linear layer")


def templates(model: nn.Module) -> torch.Tensor:
    """The first layer's weight rows as images [units, 28, 28]: what each hidden unit looks for."""
    weight = first_linear(model).weight.detach().cpu()
    if weight.shape[1] != 28 * 28:
        raise ValueError(f"the first Linear layer takes {weight.shape[1]} inputs, not 784 pixels")
    return weight.reshape(-1, 28, 28)


def order_by_norm(images: torch.Tensor) -> torch.Tensor:
    """Indices of the templates, largest weight norm first."""
    return torch.argsort(images.flatten(1).norm(dim=1), descending=True)


def tile(images: torch.Tensor, columns: int = 16, gap: int = 1) -> torch.Tensor:
    """One image [H, W] holding every image of [N, h, w], each scaled to [-1, 1] by its own
    largest |value| (so zero stays zero), with NaN gaps that a chart shows as background."""
    count, height, width = images.shape
    rows = -(-count // columns)
    scale = images.flatten(1).abs().amax(dim=1).clamp(min=1e-12)
    scaled = images / scale[:, None, None]
    grid = torch.full((rows * (height + gap) - gap, columns * (width + gap) - gap), float("nan"))
    for index in range(count):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        grid[top:top + height, left:left + width] = scaled[index]
    return grid


def hidden_activations(model: nn.Module, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """What each layer's ReLU passes on for one normalised image [1, 28, 28], and the logits."""
    layers: dict[str, torch.Tensor] = {}
    model.eval()
    with torch.no_grad():
        x = image.reshape(1, 1, 28, 28)
        for module in model:
            x = module(x)
            if isinstance(module, nn.ReLU):
                layers[f"hidden layer {len(layers) + 1} ({x.shape[1]} units)"] = x[0].clone()
    layers["logits"] = x[0].clone()
    return layers


def saliency(model: nn.Module, image: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """∂ logit / ∂ pixel for one normalised image [1, 28, 28]: which pixels move the answer.

    The logit is the predicted class's unless `target` says which; the model stays in eval().
    """
    model.eval()
    x = image.detach().reshape(1, 1, 28, 28).clone().requires_grad_(True)
    logits = model(x)
    chosen = int(logits.argmax(dim=1)) if target is None else int(target)
    logits[0, chosen].backward()
    model.zero_grad(set_to_none=True)
    return x.grad.reshape(28, 28).detach()
