"""Command line: `python -m course train --dataset mnist --model mlp --epochs 5 [--json]`.

With `--run-dir DIR` the run writes its config, status and a checkpoint every epoch into DIR;
`--resume DIR` continues such a run after an interruption, exactly where its last epoch ended.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from course import devices

devices.wait_passively()  # before the imports below load torch and its OpenMP

from course import data  # noqa: E402
from course.models import MODEL_KINDS  # noqa: E402
from course.runs import jobs  # noqa: E402
from course.train import SCHEDULES, RunConfig  # noqa: E402


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model and report its test accuracy")
    train.add_argument("--dataset", choices=sorted(data.DATASETS), default="mnist")
    train.add_argument("--model", choices=MODEL_KINDS, default="mlp")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--dropout", type=float, default=0.3)
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--schedule", choices=SCHEDULES, default="constant",
                       help="learning rate: constant (the course's recipe) or one-cycle (--lr is its peak)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    train.add_argument("--train-subset", type=int, default=None,
                       help="train on the first N training images only")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    train.add_argument("--run-dir", type=Path, help="keep config, status and epoch checkpoints here")
    train.add_argument("--resume", type=Path, metavar="DIR", help="continue the run in DIR")
    train.add_argument("--json", action="store_true", help="print one JSON object at the end")
    return parser.parse_args(argv)


def config_from(arguments: argparse.Namespace) -> RunConfig:
    return RunConfig(dataset=arguments.dataset, model=arguments.model, epochs=arguments.epochs,
                     batch_size=arguments.batch_size, lr=arguments.lr,
                     dropout=arguments.dropout, weight_decay=arguments.weight_decay,
                     seed=arguments.seed, device=devices.resolve_device(arguments.device),
                     train_subset=arguments.train_subset, schedule=arguments.schedule)


def prepare_run_dir(arguments: argparse.Namespace) -> Path:
    if arguments.resume:
        folder = arguments.resume
        if not (folder / jobs.CONFIG_FILE).exists():
            raise ValueError(f"{folder} holds no run to resume (no {jobs.CONFIG_FILE})")
        return folder
    folder = arguments.run_dir
    folder.mkdir(parents=True, exist_ok=True)
    if any((folder / name).exists() for name in (jobs.EPOCH_CHECKPOINT, jobs.FINAL_CHECKPOINT)):
        raise ValueError(f"{folder} already holds a run; use --resume {folder} to continue it")
    return jobs.create_run(folder, config_from(arguments))


def train(arguments: argparse.Namespace) -> dict:
    threads = devices.configure_threads(arguments.threads)
    if not (arguments.threads or os.environ.get("COURSE_TORCH_THREADS")):
        devices.follow_free_cores(threads)  # the default adapts to the load; an explicit count holds
    folder = prepare_run_dir(arguments)
    config = jobs.run_config(folder)
    bar = tqdm(total=None, unit="step", disable=arguments.json, file=sys.stderr)

    def show(event):
        bar.total = event.steps_per_epoch * event.epochs
        bar.update(event.step - bar.n)
        bar.set_postfix(epoch=event.epoch, loss=f"{event.train_loss:.3f}")
        if event.kind == "epoch":
            bar.write(f"epoch {event.epoch}: train loss {event.train_loss:.4f}, train acc "
                      f"{event.train_accuracy:.4f}, test acc {event.test_accuracy:.4f}",
                      file=sys.stderr)

    state = jobs.execute(str(folder), on_event=show)
    bar.close()
    record = jobs.status(folder)
    if state == "failed":
        raise ValueError(record.get("error", "training failed"))
    last = record["history"][-1]
    return {
        "dataset": config.dataset, "model": config.model, "epochs": config.epochs,
        "batch_size": config.batch_size, "lr": config.lr, "schedule": config.schedule,
        "device": config.device,
        "params": record.get("params"), "test_accuracy": last["test_accuracy"],
        "test_loss": last["test_loss"], "train_accuracy": last["train_accuracy"],
        "train_seconds": round(sum(row["seconds"] for row in record["history"]), 3),
        "resumed_from_epoch": record.get("resumed_from_epoch", 0),
        "run_dir": str(folder), "history": record["history"],
    }


def fetch_dataset(name: str) -> None:
    """Download a missing dataset before training, so that its absence is told in this terminal."""
    if data.missing_files(name):
        data.load_dataset(name)  # raises DatasetUnavailable when it cannot be downloaded


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    try:
        if not arguments.resume:  # a resumed run found its data before
            fetch_dataset(arguments.dataset)
        if arguments.run_dir or arguments.resume:
            result = train(arguments)
        else:  # nothing to keep: train in a scratch folder that disappears afterwards
            with tempfile.TemporaryDirectory(prefix="course-run-") as scratch:
                arguments.run_dir = Path(scratch)
                result = train(arguments)
                result["run_dir"] = None
    except data.DatasetUnavailable as error:
        message = data.unavailable_message(error.name, error.root, then="run the command again")
        print(f"error: {message}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
