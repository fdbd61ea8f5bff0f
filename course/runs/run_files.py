"""A run's folder, the one record of a run: its file names, its states, reading and writing them.

config.json holds the settings and label (written once by the page); status.json the state,
progress and history (rewritten atomically by the worker); STOP asks the worker to stop;
last_epoch.pt / final.pt are the checkpoints. Every other module reads a run through here.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path

from course.engine.train import RunConfig, validated

CONFIG_FILE, STATUS_FILE, STOP_FILE = "config.json", "status.json", "STOP"
EPOCH_CHECKPOINT, FINAL_CHECKPOINT = "last_epoch.pt", "final.pt"
SHUTDOWN_REASON = "server shutdown"  # written into STOP when the app exits: resumable later
CANCEL_REASON = "cancelled"  # written into STOP when the learner takes a waiting run out of the queue
STALE_AFTER_SECONDS = 15.0
ACTIVE_STATES = ("queued", "running")  # a worker has it, or will
# A run in one of these gives the numbers a new run with its settings would: reuse it, never
# train its twin (same settings and seed, same numbers step for step).
REUSABLE_STATES = ("queued", "running", "done")




def write_json(path: Path, values: dict) -> None:
    """Write via a temp file and rename, so a reader never sees half a file."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    os.replace(temporary, path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def create_run(run_dir: Path, config: RunConfig, label: str = "", lesson: str = "") -> Path:
    """A new run's folder: its settings (checked, a bug lab's bug included), the lesson it was
    made in (a learner's progress counts it there) and "queued"."""
    if config.bug:
        from course.concepts.bugs import loop_pieces

        loop_pieces(config.bug)  # an unknown bug is refused here, before a worker sees it
    write_json(run_dir / CONFIG_FILE, {**validated(config).to_dict(), "label": label,
                                       "lesson": lesson})
    write_json(run_dir / STATUS_FILE, {"state": "queued", "updated": time.time(),
                                       "submitted": time.time(), "history": []})
    return run_dir


def run_config(run_dir: Path) -> RunConfig:
    return RunConfig.from_dict(read_json(Path(run_dir) / CONFIG_FILE))


def run_label(run_dir: Path) -> str:
    return str(read_json(Path(run_dir) / CONFIG_FILE).get("label", ""))


def status(run_dir: Path) -> dict:
    """The run's last written status, with 'interrupted' when its worker is gone."""
    record = read_json(Path(run_dir) / STATUS_FILE) or {"state": "missing", "history": []}
    if record.get("state") == "running" and not _worker_alive(record):
        record["state"] = "interrupted"
    return record


def _worker_alive(record: dict) -> bool:
    """Whether the process training this run still exists. A worker on this machine is judged by
    its process: killed is interrupted at once (a kill -9 leaves a fresh heartbeat behind), and
    alive is alive however long it is silent on a loaded machine (loading data, evaluating). One
    on another machine sharing the runs folder, or a record without a pid, by its silence alone."""
    if record.get("host") != socket.gethostname() or not record.get("pid"):
        return time.time() - record.get("updated", 0) <= STALE_AFTER_SECONDS
    try:
        os.kill(int(record["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def checkpoint_stamp(run_dir: Path) -> tuple[str, float] | None:
    """(path, modification time) of the run's latest checkpoint: changes when its weights do."""
    path = latest_checkpoint(run_dir)
    return None if path is None else (str(path), path.stat().st_mtime)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The run's latest weights: final.pt when it finished, else the last finished epoch's."""
    for name in (FINAL_CHECKPOINT, EPOCH_CHECKPOINT):
        if (Path(run_dir) / name).exists():
            return Path(run_dir) / name
    return None
