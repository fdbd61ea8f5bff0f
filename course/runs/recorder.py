"""What a worker writes about its run while it trains: the status file, step curves, TensorBoard.

status.json stays small (a few hundred step points at most) because every page polling the run
reads it every two seconds; TensorBoard's event files in `tb/` keep every reading, for the
learner's own `tensorboard --logdir` and for pages that read them back.
"""

from __future__ import annotations

import time
from pathlib import Path

from course.engine.train import Progress

MAX_STEP_POINTS = 600  # per run in status.json; older points are thinned, never the newest
EVENTS_DIR = "tb"
SNAPSHOTS_DIR = "epochs"


def events_dir(run_dir: Path) -> Path:
    return Path(run_dir) / EVENTS_DIR


def snapshot_path(run_dir: Path, epoch: int) -> Path:
    return Path(run_dir) / SNAPSHOTS_DIR / f"epoch-{epoch:03d}.pt"


def epoch_snapshots(run_dir: Path) -> dict[int, Path]:
    """The run's weights after each finished epoch: epoch → file (load with load_checkpoint)."""
    folder = Path(run_dir) / SNAPSHOTS_DIR
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.glob("epoch-*.pt"):
        try:
            found[int(path.stem.split("-")[1])] = path
        except ValueError:
            continue
    return dict(sorted(found.items()))


def thinned(points: list[dict], limit: int = MAX_STEP_POINTS) -> list[dict]:
    """Keep at most `limit` points: drop every other one of the older half, keep the recent ones."""
    if len(points) <= limit:
        return points
    half = len(points) // 2
    return points[:half:2] + points[half:]


class StepCurve:
    """Train loss and accuracy over the last few steps (not the epoch's running mean)."""

    def __init__(self, points: list[dict] | None = None):
        self.points = list(points or [])
        self._seen, self._loss_sum, self._correct = 0, 0.0, 0.0

    def add(self, event: Progress) -> None:
        if event.kind == "epoch" or event.samples < self._seen:  # the epoch's tally starts anew
            self._seen, self._loss_sum, self._correct = 0, 0.0, 0.0
            if event.kind == "epoch":
                return
        seen = event.samples - self._seen
        if seen <= 0:
            return
        loss_sum, correct = event.train_loss * event.samples, event.train_accuracy * event.samples
        self.points.append({"step": event.step, "epoch": event.epoch,
                            "loss": (loss_sum - self._loss_sum) / seen,
                            "accuracy": (correct - self._correct) / seen})
        self._seen, self._loss_sum, self._correct = event.samples, loss_sum, correct
        self.points = thinned(self.points)


class TensorBoardLog:
    """The run's SummaryWriter: loss, accuracy and every telemetry reading, by global step."""

    def __init__(self, run_dir: Path, purge_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(events_dir(run_dir)), flush_secs=2, purge_step=purge_step)

    def step(self, point: dict) -> None:
        self.writer.add_scalar("loss/train", point["loss"], point["step"])
        self.writer.add_scalar("accuracy/train", point["accuracy"], point["step"])

    def epoch(self, event: Progress) -> None:
        for tag, value in (("loss/test", event.test_loss), ("accuracy/test", event.test_accuracy),
                           ("accuracy/train_epoch", event.train_accuracy)):
            if value is not None:
                self.writer.add_scalar(tag, value, event.step)

    def reading(self, reading: dict, step_offset: int = 0) -> None:
        step = reading["step"] + step_offset
        for group in ("grad_norm", "update_ratio", "dead_relu"):
            for name, value in reading.get(group, {}).items():
                self.writer.add_scalar(f"{group}/{name}", value, step)  # NaN too: a symptom

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.writer.add_scalar(tag, value, step)

    def close(self) -> None:
        self.writer.close()


def latest_telemetry(record: dict, readings: list[dict], step_offset: int) -> None:
    """Keep the newest reading (and when it was taken) in the status record for the panel."""
    if readings:
        newest = readings[-1]
        record.setdefault("telemetry", {})["latest"] = {**newest,
                                                        "step": newest["step"] + step_offset}
        record["telemetry"]["updated"] = time.time()
