"""The bug lab: the course's training loop with one classic mistake injected on purpose.

Each bug is one `Bug` record (what it does, the buggy line beside the healthy one, the symptom
it shows) and the loop pieces it swaps into `course.engine.train.fit`: the one training loop,
so a run with a bug goes through the run system, its panel and its event files like any other.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.utils.data import DataLoader

from course.engine import data
from course.engine.train import Run, RunConfig, validated
from course.lessons import REFERENCE_DIR

# What a learner sees in the runs, in the order the lab's check offers them.
SYMPTOMS = (
    "The loss falls, then levels off high; accuracy ends well below the healthy run's",
    "The loss stays at 2.30 from the first step: nothing is learned",
    "Training looks like the healthy run; only test accuracy is a little lower",
    "Test accuracy stays near chance (10%) although training runs",
    "The train loss falls to almost nothing, yet test accuracy ends clearly below the healthy "
    "run's",
    "The loss falls as it should, while the reported accuracy stays near 10%",
)


@dataclass(frozen=True)
class Bug:
    """One classic mistake: what it does, its line beside the healthy one, its symptom."""

    name: str
    explanation: str
    buggy: str
    fixed: str
    symptom: str


BUGS: dict[str, Bug] = {bug.name: bug for bug in (
    Bug("silent-accuracy",
        "Accuracy compares predictions of shape [B, 1] with labels of shape [B]: broadcasting "
        "makes a [B, B] table, so it reads ≈ 10% whatever the model does.",
        "correct = (outputs.argmax(dim=1, keepdim=True) == labels).float().mean()",
        "correct = (outputs.argmax(dim=1) == labels).float().mean()", SYMPTOMS[5]),
    Bug("relu-on-logits",
        "A ReLU after the output layer: every negative logit becomes 0 and, worse, gets no "
        "gradient back through the ReLU. Where the right class's logit is negative, the model "
        "cannot raise it for that image, so it learns slower and settles lower.",
        "outputs = torch.relu(model(images))", "outputs = model(images)", SYMPTOMS[0]),
    Bug("zero-grad-misplaced",
        "`optimizer.zero_grad()` between `backward()` and `step()`: the gradients are wiped "
        "before the update, so nothing is learned.",
        "loss.backward()\noptimizer.zero_grad()\noptimizer.step()",
        "optimizer.zero_grad()\nloss.backward()\noptimizer.step()", SYMPTOMS[1]),
    Bug("no-eval",
        "Evaluation without `model.eval()`: Dropout stays on and BatchNorm uses the test batch's "
        "statistics (matters for the improved MLP).",
        "evaluate(model, test_loader)   # still in train mode",
        "model.eval()\nevaluate(model, test_loader)", SYMPTOMS[2]),
    Bug("sorted-data",
        "No shuffling, and the data sorted by label: every epoch ends on a long run of 9s, and "
        "the model forgets the other digits.",
        "order = labels.argsort()   # no shuffle, 0s first, 9s last",
        "DataLoader(train_data, batch_size=64, shuffle=True)", SYMPTOMS[3]),
    Bug("softmax-before-ce",
        "`softmax` applied before `nn.CrossEntropyLoss` (which applies its own): the loss can "
        "never go below 1.46 and the gradients shrink.",
        "loss = loss_fn(torch.softmax(outputs, dim=1), labels)",
        "loss = loss_fn(outputs, labels)", SYMPTOMS[0]),
    Bug("same-batch",
        "`next(iter(train_loader))` outside the loop: the model trains on one batch over and "
        "over; the loss is suspiciously smooth and test accuracy is poor.",
        "images, labels = next(iter(train_loader))\nfor step in range(len(train_loader)):",
        "for images, labels in train_loader:", SYMPTOMS[4]),
)}


# The lab's own bugs; silent-accuracy is kept for the opening puzzle, whose answer it is.
LAB_BUGS = tuple(name for name in BUGS if name != "silent-accuracy")
LAB_SYMPTOMS = tuple(symptom for symptom in SYMPTOMS
                     if any(BUGS[name].symptom == symptom for name in LAB_BUGS))
LAB_RUN = dict(train_subset=5_000, epochs=2)  # a few seconds per run, and the bugs already show


def lab_configs(bug: str) -> dict[str, RunConfig]:
    """The lab's pair: a healthy run and the same settings with the bug, by their legend names.

    no-eval trains the improved MLP: the simple one has no Dropout or BatchNorm, so
    `model.eval()` would change nothing."""
    if bug not in LAB_BUGS:
        raise ValueError(f"bug must be one of {list(LAB_BUGS)}, not {bug!r}")
    model = "mlp-bn" if bug == "no-eval" else "mlp"
    return {"healthy": RunConfig(model=model, **LAB_RUN),
            f"bug: {bug}": RunConfig(model=model, bug=bug, **LAB_RUN)}


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


def buggy_step(bug: str, model, images, labels, loss_fn, optimizer):
    """The heartbeat (forward, loss, backward, update) with the bug in it: fit's `step_fn`."""
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
    """Mean test loss and accuracy, measured the buggy way: fit's `evaluate_fn`."""
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


def sorted_batches(train_loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch without shuffling, sorted by label: fit's `batches` for sorted-data."""
    dataset = train_loader.dataset  # the engine's in-memory batches: indices in, a batch out
    order = torch.argsort(dataset.labels, stable=True)
    for indices in order.split(_batch_size(train_loader)):
        yield dataset[indices]


def _batch_size(loader: DataLoader) -> int:
    sampler = loader.batch_sampler or loader.sampler
    return getattr(sampler, "batch_size", None) or loader.batch_size


class SameBatch:
    """fit's `batches` for same-batch: one batch, drawn once, repeated every step of every epoch."""

    def __init__(self):
        self.batch = None

    def __call__(self, train_loader: DataLoader):
        if self.batch is None:
            self.batch = next(iter(train_loader))  # the bug: one batch, drawn once
        return itertools.repeat(self.batch, len(train_loader))


def loop_pieces(bug: str) -> dict:
    """The pieces of `fit` this bug replaces (everything else is the healthy loop)."""
    if bug not in BUGS:
        raise ValueError(f"bug must be one of {sorted(BUGS)}, not {bug!r}")
    pieces = {"step_fn": functools.partial(buggy_step, bug),
              "evaluate_fn": functools.partial(buggy_evaluate, bug)}
    if bug == "silent-accuracy":
        pieces["count_correct"] = lambda outputs, labels: (
            batch_accuracy(outputs, labels, bug) * len(labels))
    if bug == "sorted-data":
        pieces["batches"] = sorted_batches
    if bug == "same-batch":
        pieces["batches"] = SameBatch()
    return pieces


def bug_run(config: RunConfig, **options) -> Run:
    """A Run of the engine, with its bug's pieces in the loop when it has one."""
    config = validated(config)
    return Run(config, loop_pieces=loop_pieces(config.bug) if config.bug else None, **options)


def puzzle_config() -> RunConfig:
    """The opening puzzle's run: loss falls from 2.3 to about 0.5, reported accuracy stays ≈ 10%."""
    return RunConfig(bug="silent-accuracy", train_subset=10_000, epochs=2, lr=1e-4)


PUZZLE_REFERENCE = REFERENCE_DIR / "debugging_puzzle.json"
PUZZLE_TEST_IMAGES = 2_000


def puzzle_reference() -> dict:
    """The puzzle run's numbers, measured once by the worker (tests/concepts/test_bugs.py measures again)."""
    return json.loads(PUZZLE_REFERENCE.read_text())


def puzzle_accuracies(model: nn.Module) -> tuple[float, float]:
    """A model's accuracy on the first 2,000 test images: as the puzzle's code computes it, and right."""
    test = data.split_tensors("mnist", False)
    images = data.normalize_batch(test.images[:PUZZLE_TEST_IMAGES], "mnist")
    labels = test.labels[:PUZZLE_TEST_IMAGES]
    with torch.no_grad():
        logits = model.eval()(images)
    return batch_accuracy(logits, labels, "silent-accuracy"), batch_accuracy(logits, labels)


def compared_shapes(model: nn.Module, images: torch.Tensor,
                    labels: torch.Tensor) -> tuple[list[int], list[int], list[int]]:
    """The shapes the puzzle's accuracy line compares: predictions, labels, and what `==` makes."""
    with torch.no_grad():
        predicted = model(images).argmax(dim=1, keepdim=True)
    return list(predicted.shape), list(labels.shape), list((predicted == labels).shape)


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
