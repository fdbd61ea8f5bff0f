"""The one training loop every page and the command line use, and the loaders that feed it.

The loop the learner reads is the DataLoader loop: `for images, labels in train_loader:`.
The engine's loader is a real DataLoader too, but each item it fetches is a whole batch sliced
from the in-memory uint8 tensors, instead of 64 PIL images pushed one by one through
ToTensor and Normalize. Same order, same values, a fraction of the Python overhead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from course.engine import data
from course.engine.models import MODEL_KINDS, RECIPE_WEIGHT_DECAY, ModelConfig, build_model

# What one run may ask of a shared CPU server; pages bound their widgets with these too.
SCHEDULES = ("constant", "one-cycle")
OPTIMIZERS = ("adam", "adamw", "sgd")  # sgd: with momentum 0.9, the classic recipe
LIMITS = {
    "epochs": (1, 50),  # 50: the saving lesson crashes a run at epoch 47 of 50
    "batch_size": (1, 4096),
    "lr": (1e-5, 1.0),
    "dropout": (0.0, 0.9),
    "weight_decay": (0.0, 0.1),
    "train_subset": (100, 60_000),
    "seed": (0, 2**31 - 1),
    "validation": (0, 20_000),
}
WIDTH_LIMITS = (1, 2048)  # one hidden layer's units, or one conv block's channels
MAX_HIDDEN_LAYERS = 4


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run, as plain values (the course's recipe by default)."""

    dataset: str = "mnist"
    model: str = "mlp"
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    dropout: float = 0.3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"
    train_subset: int | None = None
    schedule: str = "constant"  # or "one-cycle": lr warms up to `lr`, then anneals to ~0
    bug: str = ""  # a classic mistake injected on purpose (course.concepts.bugs), for the bug lab
    # The capstone's experiment designer (every default keeps older runs exactly as they were):
    hidden: tuple[int, ...] | None = None  # the MLPs' hidden widths; None: the model's own
    channels: tuple[int, ...] | None = None  # the small CNN's two conv blocks; None: (32, 48)
    batch_norm: bool = True  # the improved MLP's and CNN's BatchNorm layers
    optimizer: str = "adam"
    augment: bool = False  # random flips and small shifts of the training images
    validation: int = 0  # training images held out to choose the best epoch on (0: none)

    def to_dict(self) -> dict:
        values = asdict(self)
        for name in ("hidden", "channels"):
            if values[name] is not None:
                values[name] = list(values[name])
        return values

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        known = {key: values[key] for key in cls.__dataclass_fields__ if key in values}
        for name in ("hidden", "channels"):
            if known.get(name) is not None:
                try:
                    known[name] = tuple(int(width) for width in known[name])
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be a list of whole numbers, not "
                                     f"{known[name]!r}") from None
        return validated(cls(**known))

    @property
    def model_config(self) -> ModelConfig:
        defaults = ModelConfig()
        return ModelConfig(kind=self.model, hidden=self.hidden or defaults.hidden,
                           dropout=self.dropout, batch_norm=self.batch_norm,
                           channels=self.channels or defaults.channels)


def validated(config: RunConfig) -> RunConfig:
    """The config unchanged, or a ValueError that says which value is out of range."""
    if config.dataset not in data.DATASETS:
        raise ValueError(f"dataset must be one of {sorted(data.DATASETS)}, not {config.dataset!r}")
    if config.model not in MODEL_KINDS:
        raise ValueError(f"model must be one of {MODEL_KINDS}, not {config.model!r}")
    for name, (low, high) in LIMITS.items():
        value = getattr(config, name)
        if value is not None and not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    if config.schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, not {config.schedule!r}")
    if config.device != "cpu" and not config.device.startswith("cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', not {config.device!r}")
    if not isinstance(config.bug, str):
        raise ValueError(f"bug must be a bug's name, not {config.bug!r}")
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {config.optimizer!r}")
    low, high = WIDTH_LIMITS
    if config.hidden is not None and not (
            1 <= len(config.hidden) <= MAX_HIDDEN_LAYERS
            and all(low <= width <= high for width in config.hidden)):
        raise ValueError(f"hidden must be 1 to {MAX_HIDDEN_LAYERS} widths between {low} and "
                         f"{high}, not {config.hidden}")
    if config.channels is not None and not (
            len(config.channels) == 2 and all(low <= width <= high for width in config.channels)):
        raise ValueError(f"channels must be two widths between {low} and {high}, not "
                         f"{config.channels}")
    return config


def recipe(model: str) -> RunConfig:
    """The course's settings for a model: the defaults plus that model's weight decay."""
    return RunConfig(model=model, weight_decay=RECIPE_WEIGHT_DECAY.get(model, 0.0))


def differences(config: RunConfig, other: RunConfig | None = None) -> dict:
    """The settings of config that differ from other (the model's recipe by default)."""
    base = (other or recipe(config.model)).to_dict()
    return {key: value for key, value in config.to_dict().items() if base.get(key) != value}


class InMemoryBatches(Dataset):
    """A Dataset whose items are whole batches: indices in, normalised [B, 1, 28, 28] out.

    With `augment` (a generator), each batch's images are randomly flipped and shifted first
    (data.random_flips_and_shifts); the labels are untouched.
    """

    def __init__(self, split: data.SplitTensors, limit: int | None = None,
                 augment: torch.Generator | None = None):
        self.images = split.images[:limit] if limit else split.images
        self.labels = split.labels[:limit] if limit else split.labels
        self.name = split.name
        self.augment = augment

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, indices):
        indices = torch.as_tensor(indices)
        images = self.images.index_select(0, indices)
        if self.augment is not None:
            images = data.random_flips_and_shifts(images, self.augment)
        return (data.normalize_batch(images, self.name), self.labels.index_select(0, indices))


class BatchOrder(Sampler):
    """One epoch's batches as index tensors: RandomSampler + BatchSampler's order, sliced at once.

    BatchSampler hands out Python lists of ints, one int at a time; slicing one permutation
    tensor gives the same indices for a fraction of the cost.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool,
                 generator: torch.Generator | None = None):
        self.n, self.batch_size, self.shuffle, self.generator = n, batch_size, shuffle, generator

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        if not self.shuffle:
            yield from torch.arange(self.n).split(self.batch_size)
            return
        generator = self.generator
        if generator is None:  # as RandomSampler: a fresh generator seeded from torch's global RNG
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator().manual_seed(seed)
        yield from torch.randperm(self.n, generator=generator).split(self.batch_size)
        # RandomSampler draws one more permutation (and uses none of it) when an epoch ends;
        # drawing it too keeps every later epoch in step with DataLoader(shuffle=True).
        torch.randperm(self.n, generator=generator)


def fast_loader(split: data.SplitTensors, batch_size: int, shuffle: bool,
                generator: torch.Generator | None = None, limit: int | None = None,
                augment: torch.Generator | None = None) -> DataLoader:
    """Means what DataLoader(batch_size, shuffle) means: new order each epoch, last batch kept."""
    dataset = InMemoryBatches(split, limit, augment)
    # The loader draws its worker seed from the same generator, exactly as DataLoader(shuffle=True)
    # does, so both pipelines consume the generator alike and yield the same order.
    return DataLoader(dataset, sampler=BatchOrder(len(dataset), batch_size, shuffle, generator),
                      batch_size=None, generator=generator)


def textbook_loader(name: str, batch_size: int, shuffle: bool, train: bool = True,
                    generator: torch.Generator | None = None) -> DataLoader:
    """The lesson's pipeline: torchvision dataset, per-sample ToTensor + Normalize, collation."""
    dataset = data.load_dataset(name, train=train, transform=data.normalize_transform(name))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


@dataclass
class Progress:
    """One event of a run: a step (for progress bars) or an epoch's metrics."""

    kind: str  # "step" | "epoch" | "stopped"
    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    train_loss: float
    train_accuracy: float
    elapsed: float
    samples_per_second: float
    test_loss: float | None = None
    test_accuracy: float | None = None
    epoch_seconds: float | None = None  # training time of this epoch, evaluation excluded
    samples: int = 0  # images seen so far in this epoch (train_loss and accuracy average them)
    val_loss: float | None = None  # on the held-out validation images, when the run has them
    val_accuracy: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / max(1, self.steps_per_epoch * self.epochs))


def evaluate(model: nn.Module, loader: DataLoader, device: str = "cpu") -> tuple[float, float]:
    """Mean loss and accuracy with dropout off and BatchNorm on its running statistics."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total_loss += loss_fn(outputs, labels).item()
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    return total_loss / max(1, seen), correct / max(1, seen)


@dataclass
class History:
    """Per-epoch metrics, the run's memory (stored in checkpoints for exact resume)."""

    epochs: list[dict] = field(default_factory=list)

    def add(self, event: Progress) -> None:
        self.epochs.append({"epoch": event.epoch, "train_loss": event.train_loss,
                            "train_accuracy": event.train_accuracy,
                            "test_loss": event.test_loss, "test_accuracy": event.test_accuracy,
                            "seconds": event.epoch_seconds})
        if event.val_accuracy is not None:  # only runs with a validation split: older ones stay
            self.epochs[-1].update(val_loss=event.val_loss, val_accuracy=event.val_accuracy)

    @property
    def best_epoch(self) -> int | None:
        """The first epoch with the highest validation accuracy; None without a validation split."""
        scored = [(row["val_accuracy"], -row["epoch"]) for row in self.epochs
                  if row.get("val_accuracy") is not None]
        return -max(scored)[1] if scored else None


def adam(parameters, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """The lesson's Adam as one fused kernel per step: same maths, about a fifth less time per epoch."""
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, fused=True)


def make_optimizer(name: str, parameters, lr: float, weight_decay: float = 0.0):
    """The run's optimizer by name: Adam (the course's), AdamW (decoupled decay) or SGD + momentum."""
    if name == "adam":
        return adam(parameters, lr, weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {name!r}")


def one_cycle(optimizer: torch.optim.Optimizer, peak_lr: float, total_steps: int):
    """A short warm-up to peak_lr, then a long anneal: more accuracy from the same few epochs."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak_lr, total_steps=total_steps)


def train_step(model, images, labels, loss_fn, optimizer):
    """The heartbeat: forward, loss, backward, update."""
    outputs = model(images)
    loss = loss_fn(outputs, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return outputs, loss


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train_loader: DataLoader,
        test_loader: DataLoader | None, epochs: int, device: str = "cpu",
        should_stop: Callable[[], bool] = lambda: False, start_epoch: int = 0,
        report_every: int = 50,
        before_epoch: Callable[[int], None] | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        step_fn: Callable | None = None, evaluate_fn: Callable | None = None,
        batches: Callable[[DataLoader], Iterable] | None = None,
        count_correct: Callable[[torch.Tensor, torch.Tensor], float] | None = None,
        ) -> Iterator[Progress]:
    """Train, yielding progress; stops between steps when asked, keeping what it has learned.

    The heartbeat's pieces can be swapped (the bug lab injects its mistakes this way, through
    this one loop): `step_fn` like train_step, `evaluate_fn` like evaluate, `batches(loader)` one
    epoch's batches, `count_correct(outputs, labels)` how many a step got right.
    """
    step_fn = step_fn or train_step
    evaluate_fn = evaluate_fn or evaluate
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = len(train_loader)
    step = start_epoch * steps_per_epoch
    start = time.perf_counter()
    seen_total = 0
    for epoch in range(start_epoch + 1, epochs + 1):
        if before_epoch:
            before_epoch(epoch)
        epoch_start = time.perf_counter()
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        pending = []  # the steps since the last report, read out together (see _tally)
        for images, labels in (batches(train_loader) if batches else train_loader):
            if should_stop():
                loss_sum, correct = _tally(pending, loss_sum, correct, count_correct)
                yield _event("stopped", epoch, epochs, step, steps_per_epoch, loss_sum, correct,
                             seen, start, seen_total)
                return
            images, labels = images.to(device), labels.to(device)
            outputs, loss = step_fn(model, images, labels, loss_fn, optimizer)
            if scheduler is not None:
                scheduler.step()

            step += 1
            pending.append((outputs.detach(), labels, loss.detach()))
            seen += len(labels)
            seen_total += len(labels)
            if step % report_every == 0:
                loss_sum, correct = _tally(pending, loss_sum, correct, count_correct)
                yield _event("step", epoch, epochs, step, steps_per_epoch, loss_sum, correct,
                             seen, start, seen_total)
        loss_sum, correct = _tally(pending, loss_sum, correct, count_correct)
        event = _event("epoch", epoch, epochs, step, steps_per_epoch, loss_sum, correct, seen,
                       start, seen_total)
        event.epoch_seconds = time.perf_counter() - epoch_start
        if test_loader is not None:
            event.test_loss, event.test_accuracy = evaluate_fn(model, test_loader, device)
        yield event


def _tally(pending: list, loss_sum: float, correct: float,
           count_correct: Callable | None = None) -> tuple[float, float]:
    """Add the pending steps' summed loss and correct count, then forget those steps.

    Reading a number out of a tensor (.item()) after every step makes a GPU wait for each step to
    finish and costs a few operations per step on a CPU; once per report is enough.
    """
    if not pending:
        return loss_sum, correct
    if count_correct is not None:  # a step's own way of counting (the bug lab's broadcasting)
        correct += sum(count_correct(outputs, labels) for outputs, labels, _ in pending)
    outputs = torch.cat([step_outputs for step_outputs, _, _ in pending])
    labels = torch.cat([step_labels for _, step_labels, _ in pending])
    losses = torch.stack([step_loss for _, _, step_loss in pending]).double()
    sizes = torch.tensor([len(step_labels) for _, step_labels, _ in pending],
                         dtype=torch.float64, device=losses.device)
    pending.clear()
    if count_correct is not None:
        return loss_sum + (losses * sizes).sum().item(), correct
    return (loss_sum + (losses * sizes).sum().item(),
            correct + (outputs.argmax(dim=1) == labels).sum().item())


def _event(kind, epoch, epochs, step, steps_per_epoch, loss_sum, correct, seen, start,
           seen_total) -> Progress:
    elapsed = time.perf_counter() - start
    return Progress(kind, epoch, epochs, step, steps_per_epoch,
                    train_loss=loss_sum / max(1, seen), train_accuracy=correct / max(1, seen),
                    elapsed=elapsed, samples_per_second=seen_total / max(elapsed, 1e-9),
                    samples=seen)


class Run:
    """A run built from a RunConfig: data, model and optimizer, ready to iterate with events()."""

    def __init__(self, config: RunConfig, split_loader=data.split_tensors,
                 loop_pieces: dict | None = None):
        """`loop_pieces`: fit's swappable pieces (a bug run's, from course.concepts.bugs)."""
        self.config = validated(config)
        if config.bug and not loop_pieces:
            raise ValueError(f"a run with the bug {config.bug!r} needs its loop pieces: build it "
                             "with course.concepts.bugs.bug_run")
        self.loop_pieces = loop_pieces or {}
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)
        train_split = split_loader(config.dataset, True)
        test_split = split_loader(config.dataset, False)
        self.val_loader = None
        if config.validation:
            train_split, val_split = data.validation_split(train_split, config.validation)
            self.val_loader = fast_loader(val_split, 1000, shuffle=False)
        self.augment_generator = (torch.Generator().manual_seed(config.seed) if config.augment
                                  else None)
        self.train_loader = fast_loader(train_split, config.batch_size, shuffle=True,
                                        generator=self.generator, limit=config.train_subset,
                                        augment=self.augment_generator)
        self.test_loader = fast_loader(test_split, 1000, shuffle=False)
        self.model = build_model(config.model_config).to(config.device)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(), config.lr,
                                        config.weight_decay)
        self.scheduler = None
        if config.schedule == "one-cycle":
            self.scheduler = one_cycle(self.optimizer, config.lr, config.epochs * len(self.train_loader))
        self.history = History()
        self.completed_epochs = 0
        self.best_state: dict | None = None  # the best epoch's weights (trained in this process)

    def _reseed_loader(self, epoch: int) -> None:
        """Each epoch's order depends on (seed, epoch) alone, so a resumed run replays it exactly."""
        self.generator.manual_seed(self.config.seed * 1_000 + epoch)
        if self.augment_generator is not None:  # and so do its flips and shifts
            self.augment_generator.manual_seed(self.config.seed * 1_000 + epoch + 500)

    def events(self, should_stop: Callable[[], bool] = lambda: False,
               report_every: int = 50) -> Iterator[Progress]:
        for event in fit(self.model, self.optimizer, self.train_loader, self.test_loader,
                         self.config.epochs, self.config.device, should_stop,
                         start_epoch=self.completed_epochs, report_every=report_every,
                         before_epoch=self._reseed_loader, scheduler=self.scheduler,
                         **self.loop_pieces):
            if event.kind == "epoch":
                if self.val_loader is not None:
                    event.val_loss, event.val_accuracy = evaluate(self.model, self.val_loader,
                                                                  self.config.device)
                self.history.add(event)
                self.completed_epochs = event.epoch
                if self.val_loader is not None and self.history.best_epoch == event.epoch:
                    self.best_state = {name: tensor.detach().to("cpu", copy=True)
                                       for name, tensor in self.model.state_dict().items()}
            yield event


def loader_speeds(split: data.SplitTensors, batches: int = 200, batch_size: int = 64) -> list[dict]:
    """Seconds per epoch of the textbook pipeline and the engine's loader, extrapolated."""
    rows = []
    for name, make in (
        ("textbook: per-sample ToTensor + Normalize", lambda g: textbook_loader(
            split.name, batch_size, shuffle=True, train=split.train, generator=g)),
        ("engine: whole batches from memory", lambda g: fast_loader(
            split, batch_size, shuffle=True, generator=g)),
    ):
        loader = make(torch.Generator().manual_seed(0))
        start = time.perf_counter()
        for index, _batch in enumerate(loader):
            if index + 1 == batches:
                break
        seconds = time.perf_counter() - start
        rows.append({"loader": name, f"seconds for {batches} batches": seconds,
                     "seconds per epoch (extrapolated)": seconds * len(loader) / batches})
    textbook, engine = (row["seconds per epoch (extrapolated)"] for row in rows)
    rows[0]["speed-up"], rows[1]["speed-up"] = 1.0, textbook / engine
    return rows
