"""An honest learning-rate finder: the whole loss-vs-lr curve, a suggestion, then a check.

The sweep (Leslie Smith's range test, fastai's `lr_find`) trains a copy of the model for a
hundred mini-batches while the learning rate grows exponentially, and records the loss. The
suggestion is where the smoothed loss falls fastest. fastai stops there; a suggestion read off a
noisy curve is a guess, so the page then trains three short runs, at the suggestion and either
side of it, and lets the validation accuracy decide.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

from torch import nn

CONFIRM_FACTOR = 3.0  # the confirm runs: suggestion / 3, suggestion, suggestion × 3


def learning_rates(start: float, end: float, steps: int) -> list[float]:
    """`steps` rates from start to end, evenly spaced on a log scale."""
    ratio = (end / start) ** (1 / max(1, steps - 1))
    return [start * ratio**index for index in range(steps)]


def smooth(values: list[float], beta: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction (the first values are not pulled to 0)."""
    average, out = 0.0, []
    for index, value in enumerate(values, start=1):
        average = beta * average + (1 - beta) * value
        out.append(average / (1 - beta**index))
    return out


def lr_sweep(model: nn.Module, batches: Iterable, make_optimizer, start: float = 1e-6,
             end: float = 1.0, steps: int = 100, diverge_factor: float = 4.0,
             device: str = "cpu") -> dict:
    """Loss after each step of a growing learning rate; stops once the loss explodes.

    The model itself is not changed: the sweep trains a deep copy, so its weights (and BatchNorm
    statistics) are exactly what they were before. `make_optimizer(parameters, lr)` builds the
    optimizer the run would use.
    """
    trial = copy.deepcopy(model).to(device).train()
    rates = learning_rates(start, end, steps)
    optimizer = make_optimizer(trial.parameters(), rates[0])
    loss_fn = nn.CrossEntropyLoss()
    tried, losses = [], []
    batch_source = iter(batches)
    for lr in rates:
        try:
            images, labels = next(batch_source)
        except StopIteration:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = loss_fn(trial(images.to(device)), labels.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        tried.append(lr)
        losses.append(value)
        smoothed = smooth(losses)
        if not math.isfinite(value) or smoothed[-1] > diverge_factor * min(smoothed):
            break
    return {"lr": tried, "loss": losses, "smoothed": smooth(losses)}


def suggestion(sweep: dict, skip_start: int = 5, skip_end: int = 3) -> float:
    """The rate where the smoothed loss falls fastest per decade of lr (steepest descent),
    ignoring the first and last few points, where the average is still settling or exploding."""
    rates, smoothed = sweep["lr"], sweep["smoothed"]
    if len(rates) < skip_start + skip_end + 3:
        raise ValueError("the sweep stopped too early to suggest a learning rate: start it "
                         "lower or give it more batches")
    logs = [math.log10(lr) for lr in rates]
    slopes = [(smoothed[i + 1] - smoothed[i - 1]) / (logs[i + 1] - logs[i - 1])
              for i in range(skip_start, len(rates) - skip_end - 1)]
    steepest = min(range(len(slopes)), key=slopes.__getitem__)
    return rates[skip_start + steepest]


def confirm_rates(suggested: float, low: float = 1e-5, high: float = 1.0) -> list[float]:
    """The three confirm runs' rates, rounded to two significant figures, inside the limits."""
    rates = [suggested / CONFIRM_FACTOR, suggested, suggested * CONFIRM_FACTOR]
    return [float(f"{min(high, max(low, lr)):.2g}") for lr in rates]


def verdict(results: dict[float, float], suggested: float) -> dict:
    """Which confirm run won on validation accuracy, and whether the suggestion held up."""
    best = max(results, key=results.get)
    nearest = min(results, key=lambda lr: abs(math.log10(lr) - math.log10(suggested)))
    return {"best_lr": best, "best_accuracy": results[best],
            "suggestion_won": best == nearest,
            "margin": results[best] - results[nearest]}
