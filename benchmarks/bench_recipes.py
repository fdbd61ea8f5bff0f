"""The command line's Fashion-MNIST recipes, beside PyTorch's "Learn the Basics" recipe measured in
the same run.

    python benchmarks/bench_recipes.py                  # both recipes, the tutorial's 10 epochs
    python benchmarks/bench_recipes.py --short          # smoke run: 1 tutorial epoch, nothing judged
    python benchmarks/bench_recipes.py --models cnn --repeats 3

Per recipe: `python -m course train --dataset fashion-mnist --model M --json` with **no other
flag** (the defaults are the recipe, course.engine.recipes), in a fresh process; its test accuracy
and training seconds (evaluation excluded, from --json), judged against its targets (issue #23):
mlp-bn >= 0.90 in <= 30 s, cnn >= 0.925 in <= 60 s.

The baseline, outside the project: the "Learn the Basics" quickstart's code as it is published
(pytorch.org/tutorials/beginner/basics/quickstart_tutorial.html): torchvision FashionMNIST with
ToTensor, DataLoader(batch_size=64), 784-512-512-10 with ReLU, CrossEntropyLoss, SGD(lr=1e-3),
10 epochs, torch's own thread count. Its test accuracy after each epoch and its seconds per epoch
(training only, as for the recipes). Each recipe run is paired with a baseline epoch timed just
before it; the ratio of a recipe's seconds to the baseline's epoch is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from course.engine import recipes  # noqa: E402

TARGETS = {"mlp-bn": (0.90, 30.0), "cnn": (0.925, 60.0)}
TUTORIAL_EPOCHS = 10


def tutorial_data():
    """The quickstart's datasets and loaders, exactly as published (the data root from the env)."""
    from torch.utils.data import DataLoader
    from torchvision import datasets
    from torchvision.transforms import ToTensor

    from course.engine.data import data_root

    root = str(data_root())
    training_data = datasets.FashionMNIST(root=root, train=True, download=True, transform=ToTensor())
    test_data = datasets.FashionMNIST(root=root, train=False, download=True, transform=ToTensor())
    return DataLoader(training_data, batch_size=64), DataLoader(test_data, batch_size=64)


def tutorial_model():
    from torch import nn

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                nn.Linear(512, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    return NeuralNetwork()


class Tutorial:
    """The quickstart's train() and test() loops, one epoch at a time."""

    def __init__(self):
        import torch

        torch.manual_seed(0)
        self.train_loader, self.test_loader = tutorial_data()
        self.model = tutorial_model()
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1e-3)
        self.epochs: list[dict] = []

    def train_epoch(self) -> float:
        start = time.perf_counter()
        self.model.train()
        for X, y in self.train_loader:
            loss = self.loss_fn(self.model(X), y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
        return time.perf_counter() - start

    def test(self) -> float:
        import torch

        self.model.eval()
        correct = 0
        with torch.no_grad():
            for X, y in self.test_loader:
                correct += (self.model(X).argmax(1) == y).type(torch.float).sum().item()
        return correct / len(self.test_loader.dataset)

    def epoch(self) -> dict:
        seconds = self.train_epoch()
        row = {"epoch": len(self.epochs) + 1, "seconds": seconds, "test_accuracy": self.test()}
        self.epochs.append(row)
        return row


def run_recipe(model: str) -> dict:
    """The command line with no flag but the dataset and model, in a fresh process."""
    command = [sys.executable, "-m", "course", "train", "--dataset", "fashion-mnist",
               "--model", model, "--json"]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True,
                               env=os.environ.copy())
    return json.loads(completed.stdout.strip().splitlines()[-1])


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "-"}[ok]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1 tutorial epoch, nothing judged")
    parser.add_argument("--models", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--repeats", type=int, default=1, help="runs of each recipe (default 1)")
    arguments = parser.parse_args(argv)
    import torch

    tutorial_epochs = 1 if arguments.short else TUTORIAL_EPOCHS
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads for the tutorial, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    tutorial = Tutorial()
    results: dict[str, list[dict]] = {model: [] for model in arguments.models}
    pairs: dict[str, list[float]] = {model: [] for model in arguments.models}
    plan = [model for _ in range(arguments.repeats) for model in arguments.models]
    while plan or len(tutorial.epochs) < tutorial_epochs:
        row = tutorial.epoch() if len(tutorial.epochs) < tutorial_epochs else None
        if row:
            print(f"  Learn the Basics epoch {row['epoch']}: {row['seconds']:.1f} s, "
                  f"test accuracy {row['test_accuracy']:.4f}", flush=True)
        if plan:
            model = plan.pop(0)
            result = run_recipe(model)
            results[model].append(result)
            baseline = row["seconds"] if row else tutorial.epochs[-1]["seconds"]
            pairs[model].append(result["train_seconds"] / baseline)
            print(f"  recipe {model}: {result['epochs']} epochs, test accuracy "
                  f"{result['test_accuracy']:.4f}, {result['train_seconds']:.1f} s of training",
                  flush=True)

    print("\nrow | measured | target | verdict")
    seconds = [row["seconds"] for row in tutorial.epochs]
    print(f"Learn the Basics (784-512-512-10, SGD 1e-3, batch 64): seconds per epoch | "
          f"median {statistics.median(seconds):.1f} s | - | -")
    print(f"Learn the Basics: test accuracy after {len(tutorial.epochs)} epochs | "
          f"{tutorial.epochs[-1]['test_accuracy']:.4f} | - | -")
    for model, runs in results.items():
        if not runs:
            continue
        accuracy = statistics.median(run["test_accuracy"] for run in runs)
        taken = statistics.median(run["train_seconds"] for run in runs)
        goal_accuracy, goal_seconds = TARGETS[model]
        judged = None if arguments.short else (accuracy >= goal_accuracy and taken <= goal_seconds)
        config = recipes.recipe_flags("fashion-mnist", model)
        print(f"recipe {model} ({config}): test accuracy, training s | {accuracy:.4f}, {taken:.1f} s "
              f"({statistics.median(pairs[model]):.1f}x a tutorial epoch) | >= {goal_accuracy}, "
              f"<= {goal_seconds:g} s | {verdict(judged)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
