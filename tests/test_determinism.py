"""On one machine a run's numbers are a function of its settings and seed alone: trained twice
while another process keeps a core busy, or killed with SIGKILL after an epoch and resumed, it
ends with bit-identical weights. What makes it so: one torch thread by default, fixed at the
run's start, recorded in its config.json and reused by a resume (course/runs/server.py,
course/runs/jobs.py). The real command line and worker code, real MNIST."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from course.runs import run_files
from course.runs.checkpoints import load_checkpoint

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 3
# Small enough for a run to take seconds, large enough that an epoch outlasts the 10 ms polling
# between the first checkpoint and the kill.
RUN_ARGS = ["--dataset", "mnist", "--model", "mlp", "--epochs", str(EPOCHS),
            "--train-subset", "5000", "--seed", "11", "--device", "cpu"]
TIMEOUT = 240


def environment(data_dir: Path, **extra: str) -> dict:
    """This environment without thread settings, so the runs take the course's own default."""
    unset = ("COURSE_TORCH_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    kept = {key: value for key, value in os.environ.items() if key not in unset}
    return {**kept, "COURSE_DATA_DIR": str(data_dir), **extra}


def start_training(data_dir: Path, *args: str, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "course", "train", *args], cwd=PROJECT_ROOT,
                            env=environment(data_dir, **extra_env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> dict:
    """The --json report of a run that must end well."""
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr[-2000:]
    return json.loads(stdout.strip().splitlines()[-1])


def epochs_done(run_dir: Path) -> int:
    return len(run_files.read_json(run_dir / run_files.STATUS_FILE).get("history", []))


def assert_same_state(actual, expected, where: str = "") -> None:
    """Every tensor bit-identical (torch.equal), every other value equal, in nested state dicts."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), where
        assert actual.dtype == expected.dtype and torch.equal(actual, expected), where
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), where
        for key, value in expected.items():
            assert_same_state(actual[key], value, f"{where}/{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for index, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            assert_same_state(mine, theirs, f"{where}[{index}]")
    else:
        assert actual == expected, where


def assert_same_final_weights(run_dir: Path, reference_dir: Path) -> None:
    final = load_checkpoint(run_dir / run_files.FINAL_CHECKPOINT)
    expected = load_checkpoint(reference_dir / run_files.FINAL_CHECKPOINT)
    assert final.epoch == expected.epoch == EPOCHS
    assert_same_state(final.model_state, expected.model_state, "model")
    assert_same_state(final.optimizer_state, expected.optimizer_state, "optimizer")


@pytest.fixture(scope="module")
def busy_core():
    """Another process spinning on one of the cores for as long as this module's runs train."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)  # let it take its core before the runs start
    yield hog
    hog.kill()
    hog.wait()


@pytest.fixture(scope="module")
def runs(data_dir, busy_core, tmp_path_factory):
    """Three runs of the same seed started together under the load: two left to finish, one
    killed with SIGKILL as soon as its first epoch checkpoint is on disk."""
    root = tmp_path_factory.mktemp("determinism")
    folders = {name: root / name for name in ("first", "second", "killed")}
    processes = {name: start_training(data_dir, *RUN_ARGS, "--run-dir", str(folder), "--json")
                 for name, folder in folders.items()}
    try:
        victim, killed_dir = processes["killed"], folders["killed"]
        deadline = time.monotonic() + TIMEOUT
        while not ((killed_dir / run_files.EPOCH_CHECKPOINT).exists() and epochs_done(killed_dir)):
            assert victim.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never finished its first epoch"
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        victim.communicate()
        reports = {name: finish(processes[name]) for name in ("first", "second")}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    assert busy_core.poll() is None, "the busy process stopped while the runs trained"
    return folders, reports


def test_the_same_seed_twice_under_load_gives_bit_identical_weights(runs):
    folders, reports = runs

    for name in ("first", "second"):
        assert run_files.read_json(folders[name] / run_files.CONFIG_FILE)["threads"] == 1, name
    assert reports["first"]["history"][-1]["epoch"] == EPOCHS
    assert [row["test_loss"] for row in reports["first"]["history"]] == [
        row["test_loss"] for row in reports["second"]["history"]]
    assert_same_final_weights(folders["second"], folders["first"])


def test_a_run_killed_after_its_first_epoch_resumes_to_bit_identical_weights(data_dir, runs,
                                                                              busy_core):
    folders, reports = runs
    killed_dir = folders["killed"]
    killed_at = epochs_done(killed_dir)
    assert 1 <= killed_at < EPOCHS, f"killed after {killed_at} epochs: nothing left to resume"
    assert not (killed_dir / run_files.FINAL_CHECKPOINT).exists()
    assert run_files.read_json(killed_dir / run_files.CONFIG_FILE)["threads"] == 1

    # A new run in this process would take 2 threads; the resume keeps the run's recorded 1.
    resumed = finish(start_training(data_dir, "--resume", str(killed_dir), "--json",
                                    COURSE_TORCH_THREADS="2"))

    assert busy_core.poll() is None, "the busy process stopped while the run resumed"
    assert resumed["resumed_from_epoch"] == killed_at
    assert [row["test_loss"] for row in resumed["history"]] == [
        row["test_loss"] for row in reports["first"]["history"]]
    assert resumed["test_accuracy"] == reports["first"]["test_accuracy"]
    assert_same_final_weights(killed_dir, folders["first"])
