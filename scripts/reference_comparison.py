"""Train the course's two MNIST recipes for 5 epochs and write their per-epoch history.

The mnist-project page shows this comparison (simple vs improved MLP, train and test accuracy per
epoch) until the learner has finished runs of their own; tests/test_reference.py checks it
against a fresh run. One torch thread: the engine is deterministic for a given seed and thread
count, so the same command reproduces the same numbers on the same torch build.

    COURSE_DATA_DIR=... python scripts/reference_comparison.py
"""

from __future__ import annotations

import json
import platform
import time

import torch

from course.concepts import evaluation
from course.engine import train

RECIPES = {
    "simple": train.RunConfig(model="mlp", epochs=5),
    "improved": train.RunConfig(model="mlp-bn", epochs=5, dropout=0.3, weight_decay=1e-4),
}
KEPT = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


def history_of(config: train.RunConfig) -> list[dict]:
    """Train one recipe with the engine and keep the per-epoch metrics (no timings)."""
    run = train.Run(config)
    for _event in run.events():
        pass
    return [{key: row[key] for key in KEPT} for row in run.history.epochs]


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    runs = {name: {"config": config.to_dict(), "history": history_of(config)}
            for name, config in RECIPES.items()}
    reference = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                 "machine": platform.machine(), "seconds": round(time.perf_counter() - start),
                 "runs": runs}
    evaluation.REFERENCE_PATH.parent.mkdir(parents=True, exist_ok=True)
    evaluation.REFERENCE_PATH.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {evaluation.REFERENCE_PATH} in {reference['seconds']} s")


if __name__ == "__main__":
    main()
