"""A run's network-health readings: what a debugging learner checks first, recorded as it trains.

Every `every` optimizer steps it samples, per layer: the gradient norm, the update-to-data ratio
(how big the step was against the weights it changed, as log10; about -3 is the commonly quoted
guide, a heuristic, not a law) and the fraction of dead ReLU units (zero for every image of the
batch). Hooks on the optimizer and on the ReLU modules do the work, so the training loop itself
stays the lesson's loop; the other steps pay one Python call per hook.
"""

from __future__ import annotations

import math

import torch
from torch import nn

GUIDE_UPDATE_RATIO_LOG10 = -3.0


def initial_loss(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Cross-entropy before any training: about ln(10) = 2.303 for 10 classes and a fair start."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        loss = nn.functional.cross_entropy(model(images), labels).item()
    model.train(was_training)
    return loss


def dead_fraction(activations: torch.Tensor) -> float:
    """The share of units that output zero for every example of the batch."""
    return (activations.detach() <= 0).all(dim=0).float().mean().item()


def update_ratio_log10(before: torch.Tensor, after: torch.Tensor) -> float:
    """log10(|after - before| / |before|): the size of one step against the weights."""
    change = (after - before).norm().item()
    size = before.norm().item()
    if change == 0 or size == 0:
        return float("-inf") if change == 0 else float("inf")
    return math.log10(change / size)


def gradient_norms(model: nn.Module) -> dict[str, float]:
    """Each named parameter's gradient L2 norm (no gradient: skipped)."""
    return {
        name: param.grad.detach().norm().item()
        for name, param in model.named_parameters()
        if param.grad is not None
    }


class Telemetry:
    """Samples gradient norms, update ratios and dead ReLUs every `every` training steps."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, every: int = 50):
        self.gradient_norms = gradient_norms
        self.model, self.every, self.steps = model, max(1, every), 0
        self.readings: list[dict] = []  # taken by the caller with take()
        self._before: dict[str, torch.Tensor] = {}
        self._current: dict = {}
        self._handles = [optimizer.register_step_pre_hook(self._before_step),
                         optimizer.register_step_post_hook(self._after_step)]
        for name, module in model.named_modules():
            if isinstance(module, nn.ReLU):
                self._handles.append(module.register_forward_hook(self._relu_hook(name)))

    def _armed(self) -> bool:
        """The step about to happen is one to sample (the very first one included)."""
        return self.steps % self.every == 0

    def _relu_hook(self, name: str):
        def record(_module, _inputs, output):
            if self._armed() and torch.is_grad_enabled():  # training passes, not evaluation
                self._current.setdefault("dead_relu", {})[name] = dead_fraction(output)
        return record

    def _before_step(self, _optimizer, _args, _kwargs):
        if self._armed():
            self._current["grad_norm"] = self.gradient_norms(self.model)
            self._before = {name: p.detach().clone() for name, p in self.model.named_parameters()
                            if p.requires_grad}

    def _after_step(self, _optimizer, _args, _kwargs):
        if self._armed():
            self._current["update_ratio"] = {
                name: update_ratio_log10(self._before[name], param.detach())
                for name, param in self.model.named_parameters() if name in self._before}
            self.readings.append({"step": self.steps + 1, **self._current})
            self._current, self._before = {}, {}
        self.steps += 1

    def take(self) -> list[dict]:
        readings, self.readings = self.readings, []
        return readings

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
