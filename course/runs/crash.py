"""A real crash: a run trained by the command line in a process of its own, killed with SIGKILL
right after it checkpointed a chosen epoch.

Why a process of its own: killing a worker of the run system's pool would break the pool for
every learner on the server. `python -m course train --resume DIR` trains the same run folder
with the same code (jobs.execute), so the runs panel shows it training, finds it interrupted
the moment its process is gone, and its Resume continues it in the pool from the checkpoint.
What the kill did is kept in the run's folder (crash.json), so a reload still tells it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

from course.runs import server
from course.runs.run_files import FINAL_CHECKPOINT, STATUS_FILE, read_json, write_json

CRASH_FILE = "crash.json"
LOG_FILE = "cli.log"
POLL_SECONDS = 0.01  # an epoch of the page's crash run takes a few hundredths of a second
START_TIMEOUT_SECONDS = 300  # the new process imports torch and loads MNIST first


def start_in_its_own_process(run_dir: Path) -> subprocess.Popen:
    """`python -m course train --resume run_dir`: trains the queued run's folder from epoch 1,
    at the pool's background priority, its output kept in the folder's cli.log."""
    with open(Path(run_dir) / LOG_FILE, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "course", "train", "--resume", str(run_dir), "--json"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # a Ctrl-C in the server's terminal is not for it
    try:
        os.setpriority(os.PRIO_PROCESS, process.pid, server.BACKGROUND_NICENESS)
    except (AttributeError, OSError):  # no priorities here, or it has already exited
        pass
    # That process has the run from now on: "queued" with no pool worker would read as
    # interrupted (and offer Resume, a second trainer on one folder) while it imports torch.
    record = read_json(Path(run_dir) / STATUS_FILE)
    if record.get("state") == "queued":  # not yet rewritten by the process itself
        record.update(state="running", pid=process.pid, host=socket.gethostname(),
                      updated=time.time())
        write_json(Path(run_dir) / STATUS_FILE, record)
    return process


def epochs_done(run_dir: Path) -> int:
    return len(read_json(Path(run_dir) / STATUS_FILE).get("history", []))


def kill_after_epoch(run_dir: Path, process: subprocess.Popen, epoch: int,
                     timeout: float = START_TIMEOUT_SECONDS) -> dict:
    """SIGKILL the process as soon as its status lists `epoch` finished epochs (the epoch's
    checkpoint is written before its status); returns and keeps what happened."""
    run_dir = Path(run_dir)
    record = {"pid": process.pid, "kill_after": epoch, "started": time.time()}
    write_json(run_dir / CRASH_FILE, record)  # the page tells the PID while it trains
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if epochs_done(run_dir) >= epoch:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(POLL_SECONDS)
    else:
        if process.poll() is None:  # never reached the epoch in time: end it all the same
            process.send_signal(signal.SIGKILL)
    process.wait()  # reaped: a zombie would still answer os.kill(pid, 0)
    killed = process.returncode == -signal.SIGKILL
    record.update(killed=killed, killed_after=epochs_done(run_dir) if killed else None,
                  exit_code=process.returncode, ended=time.time())
    write_json(run_dir / CRASH_FILE, record)
    return record


def crash_in_the_background(run_dir: Path, epoch: int) -> threading.Thread:
    """Start the run's own process and a watcher that kills it after `epoch`; returns the watcher."""
    process = start_in_its_own_process(run_dir)
    watcher = threading.Thread(target=kill_after_epoch, args=(run_dir, process, epoch),
                               name=f"course-crash-{process.pid}", daemon=True)
    watcher.start()
    return watcher


def crash_record(run_dir: Path) -> dict:
    """What crash.json says ({} for a run that was never crashed on purpose)."""
    return read_json(Path(run_dir) / CRASH_FILE)


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    from course.runs.checkpoints import load_checkpoint

    return load_checkpoint(Path(run_dir) / FINAL_CHECKPOINT).model_state


def weight_difference(run_a: Path, run_b: Path) -> tuple[bool, float]:
    """(every tensor torch.equal, the largest absolute difference) of two finished runs' weights."""
    a, b = final_weights(run_a), final_weights(run_b)
    if a.keys() != b.keys():
        return False, float("inf")
    equal = all(torch.equal(a[name], b[name]) for name in a)
    largest = max((float((a[name].double() - b[name].double()).abs().max()) for name in a
                   if a[name].numel()), default=0.0)
    return equal, largest
