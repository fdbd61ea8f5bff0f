"""The bug lab: the course's training loop with one classic mistake injected on purpose.

`buggy_fit` takes the same arguments and yields the same `Progress` events as `course.train.fit`,
so a run with a bug goes through the run system, its panel and its event files like any other.
Each bug is one or two lines away from the healthy loop; `BUG_LINES` shows them side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.utils.data import DataLoader

from course.train import Progress, _event

BUGS: dict[str, str] = {
    "silent-accuracy": "Accuracy compares predictions of shape [B, 1] with labels of shape [B]: "
                       "broadcasting makes a [B, B] table, so it reads ≈ 10% whatever the model does.",
    "relu-on-logits": "A ReLU after the output layer: every negative logit becomes 0 and, "
                      "worse, gets no gradient back through the ReLU. Where the right class's "
                      "logit is negative, the model cannot raise it for that image, so it "
                      "learns slower and settles lower.",
    "zero-grad-misplaced": "`optimizer.zero_grad()` between `backward()` and `step()`: the gradients "
                           "are wiped before the update, so nothing is learned.",
    "no-eval": "Evaluation without `model.eval()`: Dropout stays on and BatchNorm uses the test "
               "batch's statistics (matters for the improved MLP).",
    "sorted-data": "No shuffling, and the data sorted by label: every epoch ends on a long run of "
                   "9s, and the model forgets the other digits.",
    "softmax-before-ce": "`softmax` applied before `nn.CrossEntropyLoss` (which applies its own): "
                         "the loss can never go below 1.46 and the gradients shrink.",
    "same-batch": "`next(iter(train_loader))` outside the loop: the model trains on one batch over "
                  "and over; the loss is suspiciously smooth and test accuracy is poor.",
}

# The buggy line next to the healthy one, as the page shows them.
BUG_LINES: dict[str, tuple[str, str]] = {
    "silent-accuracy": ("correct = (outputs.argmax(dim=1, keepdim=True) == labels).float().mean()",
                        "correct = (outputs.argmax(dim=1) == labels).float().mean()"),
    "relu-on-logits": ("outputs = torch.relu(model(images))", "outputs = model(images)"),
    "zero-grad-misplaced": ("loss.backward()\noptimizer.zero_grad()\noptimizer.step()",
                            "optimizer.zero_grad()\nloss.backward()\noptimizer.step()"),
    "no-eval": ("evaluate(model, test_loader)   # still in train mode",
                "model.eval()\nevaluate(model, test_loader)"),
    "sorted-data": ("order = labels.argsort()   # no shuffle, 0s first, 9s last",
                    "DataLoader(train_data, batch_size=64, shuffle=True)"),
    "softmax-before-ce": ("loss = loss_fn(torch.softmax(outputs, dim=1), labels)",
                          "loss = loss_fn(outputs, labels)"),
    "same-batch": ("images, labels = next(iter(train_loader))\nfor step in range(len(train_loader)):",
                   "for images, labels in train_loader:"),
}


def batch_accuracy(outputs: torch.Tensor, labels: torch.Tensor, bug: str = "") -> float:
    """Fraction correct; with the silent-accuracy bug, the broadcasting mistake the puzzle hides."""
    if bug == "silent-accuracy":
        return (outputs.argmax(dim=1, keepdim=True) == labels).float().mean().item()
    return (outputs.argmax(dim=1) == labels).float().mean().item()


def _forward(model: nn.Module, images: torch.Tensor, bug: str) -> torch.Tensor:
    outputs = model(images)
    return torch.relu(outputs) if bug == "relu-on-logits" else outputs


def _loss(outputs: torch.Tensor, labels: torch.Tensor, bug: str, reduction: str = "mean"):
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    if bug == "softmax-before-ce":
        return loss_fn(torch.softmax(outputs, dim=1), labels)
    return loss_fn(outputs, labels)


def buggy_step(bug: str, model, images, labels, optimizer) -> tuple[torch.Tensor, torch.Tensor]:
    """The heartbeat (forward, loss, backward, update) with the bug in it."""
    outputs = _forward(model, images, bug)
    loss = _loss(outputs, labels, bug)
    if bug == "zero-grad-misplaced":
        loss.backward()
        optimizer.zero_grad()  # the bug: wipes the gradients just computed
        optimizer.step()
    else:
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return outputs, loss


def buggy_evaluate(bug: str, model: nn.Module, loader: DataLoader,
                   device: str = "cpu") -> tuple[float, float]:
    """Mean test loss and accuracy, measured the buggy way."""
    if bug != "no-eval":
        model.eval()
    total_loss, correct, seen = 0.0, 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = _forward(model, images, bug)
            total_loss += _loss(outputs, labels, bug, reduction="sum").item()
            correct += batch_accuracy(outputs, labels, bug) * len(labels)
            seen += len(labels)
    return total_loss / max(1, seen), correct / max(1, seen)


def _batches(bug: str, train_loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of training batches, as the bug delivers them."""
    if bug == "sorted-data":
        dataset = train_loader.dataset  # the engine's in-memory batches: indices in, a batch out
        order = torch.argsort(dataset.labels, stable=True)
        for indices in order.split(_batch_size(train_loader)):
            yield dataset[indices]
    else:
        yield from train_loader


def _batch_size(loader: DataLoader) -> int:
    sampler = loader.batch_sampler or loader.sampler
    return getattr(sampler, "batch_size", None) or loader.batch_size


def buggy_fit(bug: str, model: nn.Module, optimizer: torch.optim.Optimizer,
              train_loader: DataLoader, test_loader: DataLoader | None, epochs: int,
              device: str = "cpu", should_stop: Callable[[], bool] = lambda: False,
              start_epoch: int = 0, report_every: int = 50,
              before_epoch: Callable[[int], None] | None = None,
              scheduler=None) -> Iterator[Progress]:
    """`course.train.fit` with one bug from BUGS; same arguments, same events."""
    if bug not in BUGS:
        raise ValueError(f"bug must be one of {sorted(BUGS)}, not {bug!r}")
    steps_per_epoch = len(train_loader)
    step = start_epoch * steps_per_epoch
    start = time.perf_counter()
    seen_total = 0
    same_batch = None
    for epoch in range(start_epoch + 1, epochs + 1):
        if before_epoch:
            before_epoch(epoch)
        if bug == "same-batch" and same_batch is None:
            same_batch = next(iter(train_loader))  # the bug: one batch, drawn once
        epoch_start = time.perf_counter()
        model.train()
        loss_sum, correct, seen = 0.0, 0.0, 0
        batches = (same_batch for _ in range(steps_per_epoch)) if same_batch is not None else _batches(
            bug, train_loader)
        for images, labels in batches:
            if should_stop():
                yield _event("stopped", epoch, epochs, step, steps_per_epoch, loss_sum, correct,
                             seen, start, seen_total)
                return
            images, labels = images.to(device), labels.to(device)
            outputs, loss = buggy_step(bug, model, images, labels, optimizer)
            if scheduler is not None:
                scheduler.step()
            step += 1
            loss_sum += loss.item() * len(labels)
            correct += batch_accuracy(outputs.detach(), labels, bug) * len(labels)
            seen += len(labels)
            seen_total += len(labels)
            if step % report_every == 0:
                yield _event("step", epoch, epochs, step, steps_per_epoch, loss_sum, correct,
                             seen, start, seen_total)
        event = _event("epoch", epoch, epochs, step, steps_per_epoch, loss_sum, correct, seen,
                       start, seen_total)
        event.epoch_seconds = time.perf_counter() - epoch_start
        if test_loader is not None:
            event.test_loss, event.test_accuracy = buggy_evaluate(bug, model, test_loader, device)
        yield event


def puzzle_config():
    """The opening puzzle's run: loss falls from 2.3 to about 0.5, reported accuracy stays ≈ 10%."""
    from course.train import RunConfig

    return RunConfig(bug="silent-accuracy", train_subset=10_000, epochs=2, lr=1e-4)


def capstone_model() -> nn.Sequential:
    """The capstone's model."""
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )


def capstone_training(model, train_loader, writer, epochs=5):
    """The capstone's training script: three bugs (one is in the model above)."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = 0
    for epoch in range(epochs):
        for images, labels in train_loader:
            outputs = model(images)
            loss = loss_fn(outputs, labels)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            predicted = outputs.argmax(dim=1, keepdim=True)
            accuracy = (predicted == labels).float().mean()
            writer.add_scalar("loss/train", loss.item(), step)
            writer.add_scalar("accuracy/train", accuracy.item(), step)
            step += 1
    return model


class _NoLog:
    """A writer that keeps nothing, for running the capstone script on one batch."""

    def add_scalar(self, *args, **kwargs) -> None:
        pass


def capstone_norms_at_step(model: nn.Module, images: torch.Tensor,
                           labels: torch.Tensor) -> dict[str, float | None]:
    """Run the capstone script for real on one batch: every gradient's norm when step() runs,
    None where the parameter has no gradient (`.grad is None`: step() skips it)."""
    seen: dict[str, float | None] = {}

    def look(*_):
        seen.update({name: None if param.grad is None else param.grad.norm().item()
                     for name, param in model.named_parameters()})

    # The script makes its own optimizer: a hook on every optimizer reaches it (removed after).
    handle = register_optimizer_step_pre_hook(look)
    try:
        capstone_training(model, [(images, labels)], _NoLog(), epochs=1)
    finally:
        handle.remove()
    return seen
