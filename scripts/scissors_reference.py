"""Train the scissors reference: both recipes on 5,000 images for 15 epochs, where overfitting shows.

On all 60,000 images for 5 epochs the train/test gap stays under a point; on 5,000 images for
15 epochs the simple MLP memorises its training set and the gap opens. The mnist-project page
shows these histories (and the improved model's train() vs eval() accuracies) until the learner
has runs of their own. One torch thread, as scripts/reference_comparison.py: the engine is
deterministic for a given seed and thread count.

    COURSE_DATA_DIR=... python scripts/scissors_reference.py
"""

from __future__ import annotations

import json
import platform
import time

import torch

from course.concepts import evaluation
from course.engine import data, models, train
from course.lessons import REFERENCE_DIR

PATH = REFERENCE_DIR / "mnist_scissors.json"
SETTING = {"epochs": 15, "train_subset": 5_000}
RECIPES = {
    "simple": train.RunConfig(model="mlp", **SETTING),
    "improved": train.RunConfig(model="mlp-bn", dropout=0.3,
                                weight_decay=models.RECIPE_WEIGHT_DECAY["mlp-bn"], **SETTING),
}
KEPT = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


def trained(config: train.RunConfig) -> tuple[train.Run, float]:
    """One recipe trained by the engine, and its training seconds."""
    start = time.perf_counter()
    run = train.Run(config)
    for _event in run.events():
        pass
    return run, round(time.perf_counter() - start, 1)


def main() -> None:
    torch.set_num_threads(1)
    runs = {}
    for name, config in RECIPES.items():
        run, seconds = trained(config)
        runs[name] = {"config": config.to_dict(), "seconds": seconds,
                      "history": [{key: row[key] for key in KEPT} for row in run.history.epochs]}
        if config.model == "mlp-bn":
            run.model.eval()
            runs[name]["modes"] = evaluation.mode_comparison(run.model, data.split_tensors("mnist", False))
        print(f"{name}: {seconds} s, last epoch {runs[name]['history'][-1]}")
    reference = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                 "machine": platform.machine(), "runs": runs}
    PATH.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
