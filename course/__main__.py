"""Command line: `python -m course train --dataset mnist --model mlp --epochs 5 [--json]`."""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from course import data, devices
from course.models import MODEL_KINDS, parameter_count
from course.train import Run, RunConfig


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model and report its test accuracy")
    train.add_argument("--dataset", choices=sorted(data.DATASETS), default="mnist")
    train.add_argument("--model", choices=MODEL_KINDS, default="mlp")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--dropout", type=float, default=0.3)
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    train.add_argument("--train-subset", type=int, default=None,
                       help="train on the first N training images only")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    train.add_argument("--json", action="store_true", help="print one JSON object at the end")
    return parser.parse_args(argv)


def train(arguments: argparse.Namespace) -> dict:
    devices.configure_threads(arguments.threads)
    config = RunConfig(dataset=arguments.dataset, model=arguments.model, epochs=arguments.epochs,
                       batch_size=arguments.batch_size, lr=arguments.lr,
                       dropout=arguments.dropout, weight_decay=arguments.weight_decay,
                       seed=arguments.seed, device=devices.resolve_device(arguments.device),
                       train_subset=arguments.train_subset)
    run = Run(config)
    total = len(run.train_loader) * config.epochs
    last = None
    with tqdm(total=total, unit="step", disable=arguments.json, file=sys.stderr) as bar:
        for event in run.events(report_every=10):
            bar.update(event.step - bar.n)
            bar.set_postfix(epoch=event.epoch, loss=f"{event.train_loss:.3f}")
            if event.kind == "epoch":
                last = event
                bar.write(f"epoch {event.epoch}: train loss {event.train_loss:.4f}, "
                          f"train acc {event.train_accuracy:.4f}, "
                          f"test acc {event.test_accuracy:.4f}", file=sys.stderr)
    return {
        "dataset": config.dataset, "model": config.model, "epochs": config.epochs,
        "batch_size": config.batch_size, "lr": config.lr, "device": config.device,
        "params": parameter_count(run.model),
        "test_accuracy": last.test_accuracy, "test_loss": last.test_loss,
        "train_accuracy": last.train_accuracy, "train_seconds": round(last.elapsed, 3),
        "history": run.history.epochs,
    }


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    try:
        result = train(arguments)
    except (ValueError, data.DatasetUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
