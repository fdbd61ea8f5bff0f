"""What a DataLoader does with N samples: how many batches, how big, in which order."""

from __future__ import annotations

import difflib
import inspect
import math
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from course.engine import data


def iterations_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    """ceil(N / B) batches, or floor(N / B) when the partial last batch is dropped."""
    if n < 0 or batch_size < 1:
        raise ValueError("need N >= 0 samples and a batch size of at least 1")
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def batch_sizes(n: int, batch_size: int, drop_last: bool = False) -> list[int]:
    """The size of every batch of one epoch, in order: full batches, then the partial one."""
    iterations_per_epoch(n, batch_size, drop_last)  # same input checks
    full, rest = divmod(n, batch_size)
    return [batch_size] * full + ([rest] if rest and not drop_last else [])


def loader_batch_shapes(dataset, batch_size, shuffle=False, drop_last=False,
                        seed=0):
    """Shapes of (inputs, targets) for every batch a real DataLoader yields."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last,
                        generator=torch.Generator().manual_seed(seed))
    shapes = []
    for x, y in loader:
        shapes.append((list(x.shape), list(y.shape)))
    return shapes


def shape_rows(shapes: list[tuple[list, list]], head: int = 3, tail: int = 2) -> list[dict]:
    """Batch shapes as table rows; a long epoch keeps its first `head` and last `tail` batches."""
    rows = [{"iteration": f"{i + 1:,}", "x.shape": str(x), "y.shape": str(y)}
            for i, (x, y) in enumerate(shapes)]
    if len(rows) > head + tail:
        rows = [*rows[:head], {"iteration": "…", "x.shape": "…", "y.shape": "…"}, *rows[-tail:]]
    return rows


def first_batch_per_epoch(dataset: Dataset, batch_size: int, epochs: int = 2,
                          seed: int = 0) -> list[torch.Tensor]:
    """The targets of each epoch's first batch from ONE shuffling DataLoader."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    return [next(iter(loader))[1].flatten() for _ in range(epochs)]


def first_batch_columns(dataset: Dataset, batch_size: int, epochs: int = 2) -> dict[str, list]:
    """Each epoch's first-batch targets as a column, rounded to two decimals for reading."""
    return {f"epoch {epoch + 1}, first batch y": [round(value, 2) for value in batch.tolist()]
            for epoch, batch in enumerate(first_batch_per_epoch(dataset, batch_size, epochs))}


def batch_target_ranges(dataset: Dataset, batch_size: int, shuffle: bool,
                        seed: int = 0) -> list[tuple[float, float]]:
    """(min, max) of the targets inside each batch of one epoch."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                        generator=torch.Generator().manual_seed(seed))
    return [(y.min().item(), y.max().item()) for _, y in loader]


def small_regressor(seed: int = 0) -> nn.Module:
    """1 → 16 → 1 with ReLU: small enough to train in a blink, bendy enough to be misled."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))


def shuffle_race(dataset: Dataset, shuffle: bool, epochs: int = 8, batch_size: int = 32,
                 lr: float = 0.03, seed: int = 0) -> list[float]:
    """Train the small regressor; after every step, its loss on ALL the data."""
    model = small_regressor(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                        generator=torch.Generator().manual_seed(seed))
    everything_x, everything_y = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                losses.append(loss_fn(model(everything_x), everything_y).item())
    return losses


def race_both_ways(dataset: Dataset, epochs: int, range_batch_size: int = 32) -> tuple[dict, dict]:
    """The shuffle race with and without shuffling, and each batch's target range both ways."""
    losses = {f"shuffle={shuffle}": shuffle_race(dataset, shuffle=shuffle, epochs=epochs)
              for shuffle in (False, True)}
    ranges = {
        "shuffle=False: each batch is a narrow slice": batch_target_ranges(
            dataset, range_batch_size, shuffle=False),
        "shuffle=True: each batch spans the range": batch_target_ranges(
            dataset, range_batch_size, shuffle=True),
    }
    return losses, ranges


def first_epochs(losses: dict[str, list[float]], epochs: int,
                 trained_epochs: int) -> dict[str, list[float]]:
    """The first `epochs` of a race trained for `trained_epochs`: same seed, so a true prefix."""
    return {name: values[:epochs * len(values) // trained_epochs]
            for name, values in losses.items()}


def naive_batches(x, batch_size):
    """The usual hand-rolled loop, to count what it gets wrong."""
    batches = []
    for i in range(len(x) // batch_size):  # forgets the partial batch
        start = i * batch_size
        batches.append(x[start:start + batch_size])  # same order every time
    return batches


def first_images(split, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A split's first `count` images normalised as the loaders do, with their labels."""
    return data.normalize_batch(split.images[:count], split.name), split.labels[:count]


def mlp_for_images(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def activation_bytes(model: nn.Module, inputs: torch.Tensor) -> int:
    """Bytes of the input batch plus every layer's output for one forward pass."""
    total = inputs.numel() * inputs.element_size()
    sizes = []

    def record(_module, _inputs, output):
        sizes.append(output.numel() * output.element_size())

    hooks = [layer.register_forward_hook(record) for layer in model.children()]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return total + sum(sizes)


def gradient_noise(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                   batch_size: int, draws: int = 20, seed: int = 0) -> float:
    """How far one batch's gradient lands from the full-data gradient (relative distance)."""
    loss_fn = nn.CrossEntropyLoss()

    def gradient(x, y):
        model.zero_grad()
        loss_fn(model(x), y).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    full = gradient(images, labels)
    generator = torch.Generator().manual_seed(seed)
    distances = []
    for _ in range(draws):
        pick = torch.randperm(len(labels), generator=generator)[:batch_size]
        distances.append(((gradient(images[pick], labels[pick]) - full).norm() / full.norm()).item())
    model.zero_grad()
    return sum(distances) / len(distances)


def batch_size_row(images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                   updates: int | None = None, seed: int = 0) -> dict:
    """Train a fresh MLP at one batch size; measure memory, speed, gradient noise, generalization.

    images: float [N, 1, 28, 28] already normalised; labels int64 [N]. The first four fifths
    train, the last fifth is held out. updates=None trains one epoch (a fixed-epoch budget);
    a number trains exactly that many updates, epoch after epoch (an equal-updates budget).
    """
    cut = len(labels) * 4 // 5
    train_x, train_y = images[:cut], labels[:cut]
    model = mlp_for_images(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    noise = gradient_noise(model, train_x, train_y, batch_size, seed=seed)
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    target = len(loader) if updates is None else updates
    done, seen = 0, 0
    start = time.perf_counter()
    while done < target:
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done, seen = done + 1, seen + len(y)
            if done == target:
                break
    seconds = time.perf_counter() - start
    with torch.no_grad():
        train_accuracy = (model(train_x).argmax(dim=1) == train_y).float().mean().item()
        held_accuracy = (model(images[cut:]).argmax(dim=1) == labels[cut:]).float().mean().item()
    return {
        "batch size": batch_size,
        "updates per epoch": len(loader),
        "updates made": done,
        "epochs": seen / cut,
        "activation memory (KB)": activation_bytes(model, images[:batch_size]) / 1024,
        "seconds": seconds,
        "samples / s": seen / seconds,
        "gradient noise": noise,
        "train accuracy": train_accuracy,
        "held-out accuracy": held_accuracy,
        "gap (train − held-out)": train_accuracy - held_accuracy,
    }


def comparison_rows(rows: list[dict]) -> list[dict]:
    """The rows for people: whole KB and samples/s, accuracies in percent, no per-epoch count."""
    shown = []
    for row in rows:
        row = {key: value for key, value in row.items() if key != "updates per epoch"}
        for key in ("activation memory (KB)", "samples / s"):
            row[key] = round(row[key])
        for key in ("train accuracy", "held-out accuracy", "gap (train − held-out)"):
            row[key] = row[key] * 100
        shown.append(row)
    return shown


def fastest(rows: list[dict]) -> dict:
    """The row that pushed the most samples per second through training."""
    return max(rows, key=lambda row: row["samples / s"])


def source_diff(before, after) -> str:
    """A diff of two functions' sources, ignoring indentation (as `git diff -w` shows it)."""
    old = inspect.getsource(before).splitlines()
    new = inspect.getsource(after).splitlines()
    matcher = difflib.SequenceMatcher(a=[line.strip() for line in old],
                                      b=[line.strip() for line in new], autojunk=False)
    lines = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            lines += [f"  {line}" for line in new[b0:b1]]
            continue
        lines += [f"- {line}" for line in old[a0:a1]]
        lines += [f"+ {line}" for line in new[b0:b1]]
    return "\n".join(lines)


def describe_comparison(rows: list[dict], budget_updates: int | None) -> str:
    """The caption, written from the learner's own rows rather than from folklore."""
    by_size = sorted(rows, key=lambda row: row["batch size"])
    small, large = by_size[0], by_size[-1]
    fast = fastest(rows)
    slow = min(rows, key=lambda row: row["samples / s"])
    best = max(rows, key=lambda row: row["held-out accuracy"])
    lines = []
    if len(rows) > 1:
        lines.append(
            f"**Memory** grows with B: {small['activation memory (KB)']:,.0f} KB of activations "
            f"at B={small['batch size']} against {large['activation memory (KB)']:,.0f} KB at "
            f"B={large['batch size']}. **Gradient noise** shrinks: {small['gradient noise']:.2f} "
            f"against {large['gradient noise']:.2f}.")
        verdict = ("the largest batch was also the fastest" if fast is large else
                   "bigger was not faster all the way: per-sample work in this loop dominates "
                   "once a batch is big enough")
        lines.append(
            f"**Speed**, as measured here: B={fast['batch size']} trained fastest "
            f"({fast['samples / s']:,.0f} samples/s), B={slow['batch size']} slowest "
            f"({slow['samples / s']:,.0f} samples/s); {verdict}.")
    if budget_updates is None:
        lines.append(
            f"**Accuracy, fixed-epoch budget:** one epoch each means B={small['batch size']} made "
            f"{small['updates made']:,} updates and B={large['batch size']} only "
            f"{large['updates made']:,}, so the held-out accuracy here mostly counts updates "
            f"(best: B={best['batch size']}, {best['held-out accuracy']:.1%}). Switch to the "
            "equal-updates budget to take that away.")
    else:
        lines.append(
            f"**Accuracy, equal-updates budget:** {budget_updates:,} updates each, so "
            f"B={large['batch size']} saw {large['epochs']:,.1f} epochs of images and "
            f"B={small['batch size']} {small['epochs']:,.2f} (best held-out: "
            f"B={best['batch size']}, {best['held-out accuracy']:.1%}).")
    gaps = ", ".join(f"B={row['batch size']}: {row['gap (train − held-out)'] * 100:+.1f}"
                     for row in by_size)
    lines.append(
        "**Generalization** is how well the model does on images it never trained on; the gap "
        "between train and held-out accuracy measures it, in percentage points "
        f"({gaps}). A growing gap means the model is memorising its training images rather "
        "than learning digits.")
    if len(rows) > 1:
        other = "updates made" if budget_updates is None else "epochs of images seen"
        lines.append(
            "**Neither budget isolates batch size.** Here the batch sizes also differ in "
            f"{other} (above), so the gaps may follow that rather than B. Equal epochs and "
            "equal updates at once are impossible: epochs = updates × B ÷ training images, so "
            "at equal epochs a bigger B makes fewer updates, and at equal updates it sees more "
            "epochs. One budget gives a bigger B less training, the other more: a trend in the "
            "gap that shows under both is more likely B's own.")
    return "\n\n".join(lines)
