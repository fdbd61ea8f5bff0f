"""The resume race: a run that crashes after epoch 47 of 50, resumed three ways from its last
checkpoint, against the same seed trained without a crash.

Small on purpose (1,000 MNIST training images, a 784-32-10 MLP, batches of 100), so the
whole race (one 50-epoch run, three 3-epoch resumes) takes a second or two on one CPU thread.
Every random draw goes through one explicit ``torch.Generator`` (weights and shuffling), never
torch's process-wide RNG, so two learners racing at once cannot disturb each other's numbers.
Checkpoints are real ``torch.save`` bytes, read back with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from course.engine import data

EPOCHS = 50
CRASH_AFTER = 47  # the last finished epoch: the crash happens during epoch 48
BATCH_SIZE = 100
HIDDEN = 32
LR = 3e-3
SEED = 0
# What each resume restores from the checkpoint, besides the weights.
RESUMES = {
    "a": ("weights only (a fresh Adam)", ()),
    "b": ("weights + optimizer", ("optimizer",)),
    "c": ("weights + optimizer + scheduler + RNG", ("optimizer", "scheduler", "rng")),
}


@dataclass(frozen=True)
class RaceData:
    """Flattened, normalised images: a training set, a validation split held out from it, a test set."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str  # "MNIST" or "synthetic" (MNIST's files are missing)


def race_data(train_size: int = 1000, val_size: int = 500, test_size: int = 1000) -> RaceData:
    """MNIST subsets (validation images come from the training split, never from test)."""
    try:
        train = data.split_tensors("mnist", True)
        test = data.split_tensors("mnist", False)
    except (data.DatasetUnavailable, OSError, ValueError):
        return synthetic_data(train_size, val_size, test_size)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(1234))
    train_idx, val_idx = order[:train_size], order[train_size:train_size + val_size]

    def flat(images: torch.Tensor) -> torch.Tensor:
        return data.normalize_batch(images).flatten(1)

    return RaceData(flat(train.images[train_idx]), train.labels[train_idx],
                    flat(train.images[val_idx]), train.labels[val_idx],
                    flat(test.images[:test_size]), test.labels[:test_size], "MNIST")


def synthetic_data(train_size: int = 1000, val_size: int = 500, test_size: int = 1000) -> RaceData:
    """Ten overlapping clusters in 20 dimensions, spread over 784 "pixels": the same race
    when MNIST's files are not on this machine."""
    generator = torch.Generator().manual_seed(1234)
    centres = torch.randn(10, 20, generator=generator)
    pixels = torch.randn(20, 784, generator=generator) / math.sqrt(20)

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.randint(0, 10, (n,), generator=generator)
        points = centres[labels] + torch.randn(n, 20, generator=generator)
        return points @ pixels, labels

    (tx, ty), (vx, vy), (sx, sy) = sample(train_size), sample(val_size), sample(test_size)
    return RaceData(tx, ty, vx, vy, sx, sy, "synthetic")


def race_model(generator: torch.Generator) -> nn.Sequential:
    """784-32-10, initialised like nn.Linear's default but from our own generator."""
    model = nn.Sequential(nn.Linear(784, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            bound = 1 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
    return model


@dataclass
class Trainer:
    """What a training script holds in memory: the model, Adam, a cosine schedule, the RNG."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    epoch: int = 0


def fresh_trainer(seed: int = SEED) -> Trainer:
    """What `python train.py` builds when it starts: everything from the seed."""
    generator = torch.Generator().manual_seed(seed)
    model = race_model(generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    return Trainer(model, optimizer, scheduler, generator)


def train_one_epoch(trainer: Trainer, race: RaceData) -> list[float]:
    """One shuffled pass over the training set; returns each step's loss."""
    loss_fn = nn.CrossEntropyLoss()
    trainer.model.train()
    order = torch.randperm(len(race.train_y), generator=trainer.generator)
    losses = []
    for batch in order.split(BATCH_SIZE):
        loss = loss_fn(trainer.model(race.train_x[batch]), race.train_y[batch])
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()
        losses.append(loss.item())
    trainer.scheduler.step()
    trainer.epoch += 1
    return losses


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction right, in eval mode and without building a graph."""
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def make_checkpoint(trainer: Trainer, loss: float) -> dict:
    """The checkpoint dict: epoch, model, optimizer, loss, plus the scheduler and the RNG."""
    return {
        "epoch": trainer.epoch,
        "model_state_dict": trainer.model.state_dict(),
        "optimizer_state_dict": trainer.optimizer.state_dict(),
        "scheduler_state_dict": trainer.scheduler.state_dict(),
        "rng_state": trainer.generator.get_state(),
        "loss": loss,
    }


def to_bytes(obj) -> bytes:
    """torch.save into memory: the same bytes a .pt file would hold."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def resume(checkpoint_bytes: bytes, restore: tuple[str, ...], seed: int = SEED) -> Trainer:
    """A fresh process picks up the checkpoint: weights always, the rest only if asked."""
    trainer = fresh_trainer(seed)  # the script starts again: seed, model, Adam, schedule
    checkpoint = torch.load(io.BytesIO(checkpoint_bytes), weights_only=True)
    trainer.model.load_state_dict(checkpoint["model_state_dict"])
    if "optimizer" in restore:
        trainer.optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    if "scheduler" in restore:
        trainer.scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
    if "rng" in restore:
        trainer.generator.set_state(checkpoint["rng_state"])
    trainer.epoch = checkpoint["epoch"]
    return trainer


@dataclass
class RaceRun:
    """One run's record: losses per step and epoch, accuracies, and what it saved."""

    label: str
    first_epoch: int  # the first epoch this run trained itself
    step_losses: list[float] = field(default_factory=list)
    epoch_losses: dict[int, float] = field(default_factory=dict)
    val_accuracy: dict[int, float] = field(default_factory=dict)
    test_accuracy: dict[int, float] = field(default_factory=dict)
    snapshots: dict[int, bytes] = field(default_factory=dict)  # epoch -> state_dict bytes
    last_checkpoint: bytes = b""  # what last.pt holds: overwritten after every epoch
    best_epoch: int = 0  # the epoch best.pt holds: the best validation accuracy so far
    best_checkpoint: bytes = b""
    final_state: dict[str, torch.Tensor] = field(default_factory=dict)


def train(race: RaceData, trainer: Trainer, run: RaceRun, epochs: int = EPOCHS,
          keep_snapshots: bool = False) -> RaceRun:
    """Train up to epoch `epochs`: last.pt after every epoch, best.pt when validation improves."""
    while trainer.epoch < epochs:
        losses = train_one_epoch(trainer, race)
        epoch = trainer.epoch
        run.step_losses += losses
        run.epoch_losses[epoch] = sum(losses) / len(losses)
        run.val_accuracy[epoch] = accuracy(trainer.model, race.val_x, race.val_y)
        run.test_accuracy[epoch] = accuracy(trainer.model, race.test_x, race.test_y)
        run.last_checkpoint = to_bytes(make_checkpoint(trainer, run.epoch_losses[epoch]))
        if run.val_accuracy[epoch] > run.val_accuracy.get(run.best_epoch, -1.0):
            run.best_epoch = epoch  # best.pt: chosen on validation, never on test
            run.best_checkpoint = to_bytes(trainer.model.state_dict())
        if keep_snapshots:
            run.snapshots[epoch] = to_bytes(trainer.model.state_dict())
    run.final_state = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    return run


def resumed_run(checkpoint_bytes: bytes, key: str, race: RaceData, seed: int = SEED) -> RaceRun:
    """Resume `key` ("a", "b" or "c") from a checkpoint in a fresh trainer and train to the end."""
    label, restore = RESUMES[key]
    trainer = resume(checkpoint_bytes, restore, seed)
    return train(race, trainer, RaceRun(label, trainer.epoch + 1))


@dataclass
class Race:
    """The uninterrupted run and three resumes from its checkpoint after epoch 47."""

    source: str
    uninterrupted: RaceRun
    crash_checkpoint: bytes  # last.pt when the process died during epoch 48
    resumed: dict[str, RaceRun]
    steps_per_epoch: int


def run_race(seed: int = SEED, race: RaceData | None = None) -> Race:
    """Everything the page's race shows, computed for real.

    Up to epoch 47 the crashed run and the uninterrupted one are the same computation (same
    seed, same thread count, bit for bit), so it is trained once: the file saved after epoch 47
    is the crashed run's last.pt, and the same process carries on as the uninterrupted run.
    """
    race = race or race_data()
    trainer = fresh_trainer(seed)
    uninterrupted = train(race, trainer, RaceRun("uninterrupted", 1), CRASH_AFTER,
                          keep_snapshots=True)
    crash_checkpoint = uninterrupted.last_checkpoint
    train(race, trainer, uninterrupted, EPOCHS, keep_snapshots=True)
    resumed = {key: resumed_run(crash_checkpoint, key, race, seed) for key in RESUMES}
    return Race(race.source, uninterrupted, crash_checkpoint, resumed,
                math.ceil(len(race.train_y) / BATCH_SIZE))


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    """Bit-for-bit equal state_dicts (torch.equal, not allclose)."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def mean_loss_after_resume(race: Race, key: str) -> float:
    """The mean step loss over the resumed epochs (48-50)."""
    losses = race.resumed[key].step_losses
    return sum(losses) / len(losses)


def loss_spike(race: Race, key: str) -> float:
    """How far above the uninterrupted run a resume's losses go, at worst."""
    reference = race.uninterrupted.step_losses[CRASH_AFTER * race.steps_per_epoch:]
    return max(r - u for r, u in zip(race.resumed[key].step_losses, reference, strict=True))
