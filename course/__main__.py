"""Command line: `python -m course train --dataset mnist --model mlp --epochs 5 [--json]`.

Every setting left out comes from the recipe of the dataset and model (course.engine.recipes):
MNIST trains the course's recipe, Fashion-MNIST recipes that pass its published baselines.

With `--run-dir DIR` the run writes its config, status and a checkpoint every epoch into DIR;
`--resume DIR` continues such a run after an interruption, exactly where its last epoch ended.
Ctrl-C stops a run at its next step and keeps it resumable (a second Ctrl-C quits at once).
Exit codes: 0 done, 2 a refused argument or setting, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from course.engine import devices
from course.runs import server

server.wait_passively()  # before the imports below load torch and its OpenMP

try:  # importing torch takes seconds: a Ctrl-C meanwhile is an interruption, not a traceback
    from course.engine import data, recipes  # noqa: E402
    from course.engine.models import MODEL_KINDS, RECIPE_WEIGHT_DECAY  # noqa: E402
    from course.engine.train import LIMITS, SCHEDULES, RunConfig  # noqa: E402
    from course.runs import jobs, run_files  # noqa: E402
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what shells report for Ctrl-C


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default after its help; the description keeps its line breaks.

    An option without a value of its own (None, a flag) says in its help what happens instead.
    """

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def limits(name: str) -> str:
    low, high = LIMITS[name]
    return f"{low:g} to {high:g}" if isinstance(low, float) else f"{low:,} to {high:,}"


def thread_count(text: str) -> int:
    """--threads: a whole number from 1 to the cores this process may use."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    usable = server.usable_cores()
    if not 1 <= value <= usable:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {usable} (the cores usable here), not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__,
                                     formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model and report its test accuracy",
                                description="Train a model and report its test accuracy.",
                                epilog="Ctrl-C stops the run at its next step and keeps it "
                                       "resumable (a second Ctrl-C quits at once). Exit codes: "
                                       "0 done, 2 a refused argument or setting, 130 "
                                       "interrupted.",
                                formatter_class=HelpFormatter)
    train.add_argument("--dataset", choices=sorted(data.DATASETS), default="mnist",
                       help="the images to learn")
    train.add_argument("--model", choices=MODEL_KINDS, default="mlp",
                       help="mlp: the simple MLP; mlp-bn: the improved MLP (BatchNorm, dropout); "
                            "cnn: a small convolutional network")
    train.add_argument("--epochs", type=int, default=None,
                       help=f"passes over the training images, {limits('epochs')}; "
                            f"default: {recipe_default('epochs')}")
    train.add_argument("--batch-size", type=int, default=None,
                       help=f"images per optimizer step, {limits('batch_size')}; "
                            f"default: {recipe_default('batch_size')}")
    train.add_argument("--lr", type=float, default=None,
                       help=f"Adam's learning rate, {limits('lr')}; default: {recipe_default('lr')}")
    train.add_argument("--dropout", type=float, default=None,
                       help=f"dropout probability of the improved MLP, {limits('dropout')}; "
                            f"default: {recipe_default('dropout')}")
    decay = ", ".join(f"{kind} {value:g}" for kind, value in RECIPE_WEIGHT_DECAY.items())
    train.add_argument("--weight-decay", type=float, default=None,
                       help=f"Adam's L2 penalty, {limits('weight_decay')}; "
                            f"default: the model's recipe ({decay})")
    train.add_argument("--schedule", choices=SCHEDULES, default=None,
                       help="learning rate: constant or one-cycle (--lr is its peak); default: "
                            f"{recipe_default('schedule')}")
    train.add_argument("--seed", type=int, default=0,
                       help=f"seed of the initial weights and the shuffling, {limits('seed')}")
    train.add_argument("--device", default="auto", help="cpu, cuda, or auto (CUDA when present)")
    train.add_argument("--train-subset", type=int, default=None, metavar="N",
                       help=f"train on the first N training images only, {limits('train_subset')}; "
                            "default: all of them")
    train.add_argument("--threads", type=thread_count, default=None,
                       help=f"torch CPU threads, 1 to {server.usable_cores()} (the cores usable "
                            "here); default: $COURSE_TORCH_THREADS, else 1. Fixed for the whole "
                            "run and reused by --resume, so the numbers do not depend on load")
    train.add_argument("--run-dir", type=Path, metavar="DIR",
                       help="keep config, status and epoch checkpoints in DIR (created if "
                            "missing); default: a scratch folder, deleted afterwards")
    train.add_argument("--resume", type=Path, metavar="DIR",
                       help="continue the run kept in DIR from its last finished epoch")
    train.add_argument("--json", action="store_true",
                       help="print one JSON object at the end, and no progress bar (default: a "
                            "progress bar and one line per epoch on stderr)")
    return parser


def parse_arguments(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


RECIPE_SETTINGS = ("epochs", "batch_size", "lr", "dropout", "weight_decay", "schedule")


def recipe_default(name: str) -> str:
    """What --help says an option's default is: the course's, or each recipe's that differs."""
    course = getattr(RunConfig(), name)
    others = [f"{dataset} {model} {values[name]:g}" if isinstance(values[name], float)
              else f"{dataset} {model} {values[name]}"
              for (dataset, model), values in recipes.RECIPES.items() if name in values]
    told = f"{course:g}" if isinstance(course, float) else f"{course}"
    return told + (f", or the recipe of the dataset and model: {', '.join(others)}" if others else "")


def config_from(arguments: argparse.Namespace) -> RunConfig:
    """The flags given, and for every other setting the dataset and model's recipe."""
    chosen = recipes.recipe(arguments.dataset, arguments.model)
    settings = {name: getattr(arguments, name) if getattr(arguments, name) is not None
                else chosen.get(name, getattr(RunConfig(), name)) for name in RECIPE_SETTINGS}
    return RunConfig(dataset=arguments.dataset, model=arguments.model, **settings,
                     seed=arguments.seed, device=devices.resolve_device(arguments.device),
                     train_subset=arguments.train_subset)


def writable_folder(folder: Path) -> Path:
    """folder, created if missing, or a ValueError that says why a run cannot be kept there."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--run-dir {folder} is a file, not a folder: name a folder "
                         "(it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # root passes os.access; a real write tells
            pass
    except NotADirectoryError:
        raise ValueError(f"--run-dir {folder} cannot be created: a part of its path is a "
                         "file") from None
    except OSError as error:
        raise ValueError(f"--run-dir {folder} cannot be written: "
                         f"{error.strerror or error}") from None
    return folder


def prepare_run_dir(arguments: argparse.Namespace) -> Path:
    if arguments.resume:
        folder = arguments.resume
        if not (folder / run_files.CONFIG_FILE).exists():
            raise ValueError(f"{folder} holds no run to resume (no {run_files.CONFIG_FILE})")
        (folder / run_files.STOP_FILE).unlink(missing_ok=True)  # an earlier Ctrl-C or Stop: continue
        return folder
    folder = writable_folder(arguments.run_dir)
    if any((folder / name).exists() for name in (run_files.EPOCH_CHECKPOINT, run_files.FINAL_CHECKPOINT)):
        raise ValueError(f"{folder} already holds a run; use --resume {folder} to continue it")
    try:
        return run_files.create_run(folder, config_from(arguments))
    except OSError as error:
        raise ValueError(f"--run-dir {folder} cannot be written: "
                         f"{error.strerror or error}") from None


class Interrupted(Exception):
    """Ctrl-C: the run in `folder` (None: not yet created) is kept resumable."""

    def __init__(self, folder: Path | None, epochs_done: int = 0):
        super().__init__(folder)
        self.folder, self.epochs_done = folder, epochs_done


def finished(folder: Path, config: RunConfig) -> dict | None:
    """The status of a run that already trained all its epochs, else None."""
    record = run_files.status(folder)
    done = (record.get("state") == "done" and len(record.get("history", [])) >= config.epochs
            and not (folder / run_files.EPOCH_CHECKPOINT).exists())
    return record if done else None


def report(folder: Path, config: RunConfig, record: dict) -> dict:
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


def mark_interrupted(folder: Path) -> int:
    """After a hard Ctrl-C the worker wrote nothing more: say so in its status; epochs kept."""
    record = run_files.read_json(folder / run_files.STATUS_FILE)
    if record.get("state") in run_files.ACTIVE_STATES:
        record.update(state="interrupted", updated=time.time())
        record.pop("progress", None)
        run_files.write_json(folder / run_files.STATUS_FILE, record)
    return len(record.get("history", []))


def train(arguments: argparse.Namespace) -> dict:
    server.configure_threads(arguments.threads)
    folder = prepare_run_dir(arguments)
    config = run_files.run_config(folder)
    if arguments.resume and (record := finished(folder, config)):
        last = record["history"][-1]
        print(f"{folder} is already finished: {len(record['history'])} epochs, test accuracy "
              f"{last['test_accuracy']:.4f}, test loss {last['test_loss']:.4f}, train accuracy "
              f"{last['train_accuracy']:.4f}; nothing left to train", file=sys.stderr)
        return report(folder, config, record)
    bar = tqdm(total=None, unit="step", disable=arguments.json, file=sys.stderr)

    def show(event):
        if event.kind == "stopped":  # Ctrl-C: the bar keeps the last step's numbers
            return
        bar.total = event.steps_per_epoch * event.epochs
        bar.update(event.step - bar.n)
        bar.set_postfix(epoch=event.epoch, loss=f"{event.train_loss:.3f}")
        if event.kind == "epoch":
            bar.write(f"epoch {event.epoch}: train loss {event.train_loss:.4f}, train acc "
                      f"{event.train_accuracy:.4f}, test acc {event.test_accuracy:.4f}",
                      file=sys.stderr)

    stop_flag = folder / run_files.STOP_FILE

    def stop_at_the_next_step(_signum, _frame):
        if stop_flag.exists():  # the second Ctrl-C: now
            raise KeyboardInterrupt
        # the run system's own interruption: the worker saves its weights and records
        # "interrupted" (resumable), as when the app's server shuts down
        stop_flag.write_text(run_files.SHUTDOWN_REASON)

    previous = signal.signal(signal.SIGINT, stop_at_the_next_step)
    try:
        state = jobs.execute(str(folder), on_event=show)
    except KeyboardInterrupt:
        raise Interrupted(folder, mark_interrupted(folder)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    record = run_files.status(folder)
    if state == "interrupted":
        raise Interrupted(folder, len(record.get("history", [])))
    if state == "failed":
        raise ValueError(record.get("error", "training failed"))
    return report(folder, config, record)


def fetch_dataset(name: str) -> None:
    """Download a missing dataset before training, so that its absence is told in this terminal."""
    if data.missing_files(name):
        data.load_dataset(name)  # raises DatasetUnavailable when it cannot be downloaded


def main(argv=None) -> int:
    try:
        arguments = parse_arguments(argv)
    except SystemExit as exit:  # --help (0) or a refused argument (2), already printed
        return exit.code
    kept = bool(arguments.run_dir or arguments.resume)
    try:
        if not arguments.resume:  # a resumed run found its data before
            fetch_dataset(arguments.dataset)
        if kept:
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
    except (Interrupted, KeyboardInterrupt) as interruption:
        folder = getattr(interruption, "folder", None)
        if kept and folder is not None:
            done = interruption.epochs_done
            print(f"interrupted after {done} finished epoch{'' if done == 1 else 's'}: "
                  f"resume with --resume {folder}", file=sys.stderr)
        else:
            print("interrupted (nothing was kept: train with --run-dir DIR to be able to "
                  "resume)", file=sys.stderr)
        return INTERRUPTED_EXIT
    if arguments.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
