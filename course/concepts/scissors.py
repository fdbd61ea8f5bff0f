"""The scissors: train accuracy climbing away from test accuracy is the model memorising."""

from __future__ import annotations

import json

from course.lessons import REFERENCE_DIR

# Where the gap opens: 5,000 images x 15 epochs, by scripts/scissors_reference.py (committed JSON).
SCISSORS_PATH = REFERENCE_DIR / "mnist_scissors.json"


def scissors_reference() -> dict[str, dict]:
    """{"simple": {"config", "history", "seconds", "modes"}, "improved": ...} of the reference."""
    return json.loads(SCISSORS_PATH.read_text())["runs"]


def gap_points(row: dict) -> float:
    """Train minus test accuracy of one epoch, in percentage points."""
    return (row["train_accuracy"] - row["test_accuracy"]) * 100


def gap_table(histories: dict[str, list[dict]]) -> list[dict]:
    """One row per epoch: each run's train and test accuracy (%) and their gap, side by side."""
    epochs = sorted({row["epoch"] for history in histories.values() for row in history})
    by_epoch = {name: {row["epoch"]: row for row in history} for name, history in histories.items()}
    table = []
    for epoch in epochs:
        line = {"epoch": epoch}
        for name, rows in by_epoch.items():
            row = rows.get(epoch)
            # A shorter run leaves its cells empty rather than shifting the others' rows.
            line[f"{name} · train %"] = round(row["train_accuracy"] * 100, 2) if row else None
            line[f"{name} · test %"] = round(row["test_accuracy"] * 100, 2) if row else None
            line[f"{name} · gap (points)"] = round(gap_points(row), 2) if row else None
        table.append(line)
    return table


def final_gap(history: list[dict]) -> str:
    """Where a run ended, in words: its last epoch's train and test accuracy and their gap."""
    last = history[-1]
    return (f"{last['train_accuracy']:.1%} train / {last['test_accuracy']:.1%} test, a gap of "
            f"{gap_points(last):.1f} points")
