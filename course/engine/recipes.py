"""The command line's defaults: one recipe per dataset and model.

MNIST keeps the course's recipe (RunConfig's defaults, the model's weight decay): the lessons
teach with it. Fashion-MNIST is harder, and its recipes were chosen on the 2-core machine
(benchmarks/bench_recipes.py) so that `python -m course train --dataset fashion-mnist --model
mlp-bn` with no other flag passes the best published MLP (0.90 in at most 30 s of training) and
`--model cnn` the "2 conv, under 100K parameters" entry's 0.925 in at most a minute. A one-cycle
schedule is what lets so few epochs get there: the rate warms up, then anneals to almost zero.
"""

from __future__ import annotations

from course.engine.models import RECIPE_WEIGHT_DECAY

RECIPES: dict[tuple[str, str], dict] = {
    ("fashion-mnist", "mlp"): {"epochs": 10, "batch_size": 128, "lr": 2e-3, "schedule": "one-cycle"},
    ("fashion-mnist", "mlp-bn"): {"epochs": 12, "batch_size": 128, "lr": 3e-3, "dropout": 0.1,
                                  "schedule": "one-cycle"},
    ("fashion-mnist", "cnn"): {"epochs": 8, "batch_size": 128, "lr": 4e-3, "schedule": "one-cycle"},
}


def recipe(dataset: str, model: str) -> dict:
    """The settings the command line trains with when no flag says otherwise."""
    return {"weight_decay": RECIPE_WEIGHT_DECAY.get(model, 0.0), **RECIPES.get((dataset, model), {})}


def recipe_flags(dataset: str, model: str) -> str:
    """A recipe as the flags that would ask for it: '--epochs 10 --batch-size 128 ...'."""
    parts = []
    for name, value in RECIPES.get((dataset, model), {}).items():
        if isinstance(value, tuple):
            value = " ".join(str(width) for width in value)
        parts.append(f"--{name.replace('_', '-')} {value:g}" if isinstance(value, float)
                     else f"--{name.replace('_', '-')} {value}")
    return " ".join(parts) or "the course's recipe"
