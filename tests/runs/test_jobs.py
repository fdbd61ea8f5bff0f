"""Runs in the background: the run folder as the record, spawned workers, the slot limit, Stop, resume."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from course.engine.models import build_model
from course.engine.train import RunConfig
from course.runs import jobs, run_files
from course.runs.checkpoints import load_checkpoint

SMALL = RunConfig(epochs=1, train_subset=2000)
LONG = RunConfig(epochs=30)  # never meant to finish: these runs get stopped


class SimulatedCrash(BaseException):
    """Stands in for a killed process: nothing in execute() may catch it."""


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def runner(data_dir):
    """One worker pool for the module (each spawned worker imports torch once)."""
    with pytest.MonkeyPatch.context() as patch:
        # JobRunner gives each worker usable_cores() // slots threads; one keeps them fast here
        patch.setattr("course.runs.server.usable_cores", lambda: 1)
        pool = jobs.JobRunner(slots=1)
    try:
        yield pool
    finally:
        pool.shutdown()


def new_run(parent: Path, name: str, config: RunConfig) -> Path:
    folder = parent / name
    folder.mkdir()
    return run_files.create_run(folder, config)


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_until_finished(runner: jobs.JobRunner, *folders: Path, timeout: float = 120) -> None:
    wait_for(lambda: not any(runner.is_tracked(folder) for folder in folders), timeout,
             f"{[folder.name for folder in folders]} to finish")


def stop_and_wait(runner: jobs.JobRunner, folder: Path) -> None:
    runner.stop(folder)
    wait_until_finished(runner, folder, timeout=60)


# --- the record -----------------------------------------------------------------------------------


def test_create_run_writes_the_validated_config_and_a_queued_status(tmp_path):
    config = RunConfig(model="mlp-bn", epochs=2, train_subset=1000, seed=5)

    folder = run_files.create_run(tmp_path, config, label="my first run")

    assert run_files.run_config(folder) == config
    assert run_files.run_label(folder) == "my first run"
    record = run_files.status(folder)
    assert record["state"] == "queued" and record["history"] == []
    assert record["submitted"] == pytest.approx(time.time(), abs=60)


def test_create_run_refuses_an_invalid_config_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        run_files.create_run(tmp_path, replace(SMALL, epochs=0))
    assert list(tmp_path.iterdir()) == []


def test_write_json_replaces_the_file_whole_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "status.json"
    run_files.write_json(path, {"state": "queued"})
    run_files.write_json(path, {"state": "running", "history": [1, 2]})

    assert run_files.read_json(path) == {"state": "running", "history": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


def test_read_json_of_a_missing_or_half_written_file_is_empty(tmp_path):
    (tmp_path / "broken.json").write_text('{"state": "runn')

    assert run_files.read_json(tmp_path / "broken.json") == {}
    assert run_files.read_json(tmp_path / "absent.json") == {}


def test_status_of_a_folder_without_a_record_is_missing(tmp_path):
    assert run_files.status(tmp_path) == {"state": "missing", "history": []}


def test_a_silent_record_of_a_live_worker_on_this_machine_is_still_running(tmp_path):
    """A loaded machine can keep a worker silent for long (data, evaluation): alive means alive."""
    record = {"state": "running", "updated": time.time() - 600, "history": [],
              "pid": os.getpid(), "host": socket.gethostname()}
    run_files.write_json(tmp_path / run_files.STATUS_FILE, record)
    assert run_files.status(tmp_path)["state"] == "running"
    run_files.write_json(tmp_path / run_files.STATUS_FILE, {**record, "host": "another-machine"})
    assert run_files.status(tmp_path)["state"] == "interrupted"  # judged by its silence alone


def test_a_fresh_record_of_a_killed_worker_on_this_machine_is_interrupted_at_once(tmp_path):
    """kill -9 leaves the heartbeat fresh: the process, not the silence, tells on this machine."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    record = {"state": "running", "updated": time.time(), "history": [],
              "pid": gone.pid, "host": socket.gethostname()}
    run_files.write_json(tmp_path / run_files.STATUS_FILE, record)
    assert run_files.status(tmp_path)["state"] == "interrupted"
    run_files.write_json(tmp_path / run_files.STATUS_FILE, {**record, "host": "another-machine"})
    assert run_files.status(tmp_path)["state"] == "running"  # elsewhere: fresh means alive


@pytest.mark.parametrize(("state", "age", "reported"), [
    ("running", 60.0, "interrupted"),
    ("running", 1.0, "running"),
    ("done", 3600.0, "done"),
    ("queued", 3600.0, "queued"),
    ("stopped", 3600.0, "stopped"),
])
def test_status_reports_interrupted_only_for_a_silent_running_record(tmp_path, state, age, reported):
    run_files.write_json(tmp_path / run_files.STATUS_FILE,
                    {"state": state, "updated": time.time() - age, "history": []})

    assert run_files.status(tmp_path)["state"] == reported


# --- execute in this process ----------------------------------------------------------------------


def test_execute_with_stop_already_requested_trains_nothing(tmp_path):
    folder = new_run(tmp_path, "run", SMALL)
    (folder / run_files.STOP_FILE).touch()

    assert jobs.execute(str(folder)) == "stopped"
    assert run_files.status(folder)["state"] == "stopped"
    assert not (folder / run_files.FINAL_CHECKPOINT).exists()


def test_execute_of_a_hand_edited_invalid_config_fails_with_the_reason(tmp_path):
    folder = new_run(tmp_path, "run", SMALL)
    config = json.loads((folder / run_files.CONFIG_FILE).read_text())
    (folder / run_files.CONFIG_FILE).write_text(json.dumps({**config, "lr": 5.0}))

    assert jobs.execute(str(folder)) == "failed"
    record = run_files.status(folder)
    assert record["state"] == "failed"
    assert record["error"] == "lr must be between 1e-05 and 1.0, not 5.0"


def test_execute_without_the_dataset_fails_with_a_friendly_error(tmp_path, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(empty))
    folder = new_run(tmp_path, "run", SMALL)

    state = jobs.execute(str(folder))

    record = run_files.status(folder)
    assert state == record["state"] == "failed"
    assert record["error"].startswith("The mnist dataset is not available")
    assert str(empty) in record["error"] and "COURSE_DATA_DIR" in record["error"]
    assert "Traceback" not in record["error"]
    assert not (folder / run_files.FINAL_CHECKPOINT).exists()


@pytest.mark.slow
def test_execute_after_a_crash_resumes_from_the_epoch_checkpoint_and_ends_identical(tmp_path, data_dir):
    config = RunConfig(model="mlp-bn", epochs=3, train_subset=2000, seed=8)
    crashed = new_run(tmp_path, "crashed", config)
    straight = new_run(tmp_path, "straight", config)

    def crash_in_epoch_two(event):
        if event.epoch == 2:
            raise SimulatedCrash

    with pytest.raises(SimulatedCrash):
        jobs.execute(str(crashed), on_event=crash_in_epoch_two)
    assert load_checkpoint(crashed / run_files.EPOCH_CHECKPOINT).epoch == 1
    assert not (crashed / run_files.FINAL_CHECKPOINT).exists()
    assert run_files.status(crashed)["state"] == "running"  # the worker died mid-run, its heartbeat fresh
    record = run_files.read_json(crashed / run_files.STATUS_FILE)
    # silent for a minute, but its process (this one) is alive: still training, just slow
    run_files.write_json(crashed / run_files.STATUS_FILE, {**record, "updated": time.time() - 60})
    assert run_files.status(crashed)["state"] == "running"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process that has exited: its pid names no worker now
    run_files.write_json(crashed / run_files.STATUS_FILE,
                         {**record, "updated": time.time() - 60, "pid": gone.pid})
    assert run_files.status(crashed)["state"] == "interrupted"

    assert jobs.execute(str(crashed)) == "done"
    assert jobs.execute(str(straight)) == "done"

    resumed, reference = run_files.status(crashed), run_files.status(straight)
    assert resumed["resumed_from_epoch"] == 1 and "resumed_from_epoch" not in reference
    assert [row["epoch"] for row in resumed["history"]] == [1, 2, 3]
    assert [row["test_accuracy"] for row in resumed["history"]] == [
        row["test_accuracy"] for row in reference["history"]]
    final, expected = (load_checkpoint(folder / run_files.FINAL_CHECKPOINT) for folder in (crashed, straight))
    assert final.epoch == expected.epoch == 3
    for name, tensor in expected.model_state.items():
        assert torch.equal(final.model_state[name], tensor), name


# --- the runner: spawned workers, one slot ----------------------------------------------------------


@pytest.mark.slow
def test_one_slot_runs_one_job_while_the_next_waits_first_in_line(runner, tmp_path):
    first = new_run(tmp_path, "first", replace(SMALL, epochs=2))
    second = new_run(tmp_path, "second", replace(SMALL, seed=1))

    runner.submit(first)
    runner.submit(second)
    wait_for(lambda: run_files.status(first)["state"] == "running" and runner.queue_position(second) == 1,
             120, "the first run to train while the second waits first in line")
    assert runner.queue_position(first) is None
    assert run_files.status(second)["state"] == "queued"
    assert runner.running_count() == 1
    wait_until_finished(runner, first, second)

    one, two = run_files.status(first), run_files.status(second)
    assert one["state"] == two["state"] == "done"
    assert [len(one["history"]), len(two["history"])] == [2, 1]
    assert two["started"] >= one["updated"] - 0.1, "the second run started before the first ended"
    assert runner.queue_position(second) is None and runner.running_count() == 0
    for folder, epochs in ((first, 2), (second, 1)):
        checkpoint = load_checkpoint(folder / run_files.FINAL_CHECKPOINT)
        assert checkpoint.epoch == epochs
        assert checkpoint.metrics["test_accuracy"] > 0.8
        assert run_files.status(folder)["params"] == 235_146


@pytest.mark.slow
def test_stop_ends_a_running_run_quickly_keeping_loadable_weights(runner, tmp_path):
    folder = new_run(tmp_path, "long", LONG)
    runner.submit(folder)
    wait_for(lambda: run_files.status(folder).get("progress"), 120, "the run to report training steps")

    asked = time.monotonic()
    stop_and_wait(runner, folder)
    took = time.monotonic() - asked

    record = run_files.status(folder)
    assert record["state"] == "stopped"
    assert took < 10
    assert 0 < record["progress"]["step"] < 30 * 938
    checkpoint = load_checkpoint(folder / run_files.FINAL_CHECKPOINT)
    assert checkpoint.epoch == len(record["history"]) < 30
    torch.manual_seed(LONG.seed)  # what Run builds before its first step
    untrained = build_model(LONG.model_config).state_dict()
    assert checkpoint.model_state.keys() == untrained.keys()
    assert not torch.equal(checkpoint.model_state["1.weight"], untrained["1.weight"])
    assert run_files.run_config(folder) == LONG


@pytest.mark.slow
def test_stop_of_the_run_waiting_next_marks_it_stopped_at_once(runner, tmp_path):
    busy = new_run(tmp_path, "busy", LONG)
    waiting = new_run(tmp_path, "waiting", SMALL)
    runner.submit(busy)
    runner.submit(waiting)
    try:
        wait_for(lambda: run_files.status(busy)["state"] == "running", 120, "the first run to start")
        assert runner.queue_position(waiting) == 1

        runner.stop(waiting)

        # The learner pressed Stop on a waiting run: it must not keep showing "queued, position 1"
        # until the run ahead of it ends.
        assert run_files.status(waiting)["state"] == "stopped"
        assert runner.queue_position(waiting) is None
    finally:
        stop_and_wait(runner, busy)
        wait_until_finished(runner, waiting)
    assert run_files.status(waiting)["state"] == "stopped"
    assert not (waiting / run_files.FINAL_CHECKPOINT).exists()



@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="no fork server on this platform (spawn is used)")
def test_workers_fork_from_a_server_that_preloaded_torch_and_the_data():
    context = jobs.pool_context()

    assert context.get_start_method() == "forkserver"
    assert "course.runs.preload" in __import__("multiprocessing").forkserver._forkserver._preload_modules


def test_workers_train_at_a_lower_priority_than_the_app(runner):
    import os

    from course.runs import server

    worker = runner.executor.submit(os.getpriority, os.PRIO_PROCESS, 0).result(timeout=120)

    assert worker >= server.BACKGROUND_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, 0) < server.BACKGROUND_NICENESS  # the app keeps its own


def test_warm_returns_at_once_and_a_shutdown_meanwhile_raises_nothing(monkeypatch):
    import threading

    errors = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    pool = jobs.JobRunner(slots=1)
    pool.shutdown()
    pool.warm()  # its thread finds the pool shut down
    for thread in threading.enumerate():
        if thread.name == "course-warm-workers":
            thread.join(timeout=30)
    assert errors == []


def test_a_finished_run_keeps_only_its_final_checkpoint_and_resuming_it_trains_nothing(tmp_path,
                                                                                     data_dir):
    folder = new_run(tmp_path, "done", SMALL)
    assert jobs.execute(str(folder)) == "done"
    assert not (folder / run_files.EPOCH_CHECKPOINT).exists()
    final = load_checkpoint(folder / run_files.FINAL_CHECKPOINT)
    steps = run_files.status(folder)["steps"]

    assert jobs.execute(str(folder)) == "done"

    again = load_checkpoint(folder / run_files.FINAL_CHECKPOINT)
    assert torch.equal(again.model_state["1.weight"], final.model_state["1.weight"])
    assert run_files.status(folder)["steps"] == steps
    assert run_files.status(folder)["history"] == final.history


def test_cancel_takes_a_waiting_run_out_of_the_queue_for_good(tmp_path):
    folder = new_run(tmp_path, "waiting", SMALL)
    pool = jobs.JobRunner(slots=1)  # never submitted to: its workers never start
    pool.cancel(folder)
    pool.shutdown()
    assert run_files.status(folder)["state"] == "cancelled"
    assert jobs.execute(str(folder)) == "cancelled"  # a worker that picks it up trains nothing
    assert not (folder / run_files.FINAL_CHECKPOINT).exists()


@pytest.mark.slow
def test_workers_never_run_the_apps_main_script(tmp_path, data_dir, monkeypatch):
    # Streamlit swaps sys.modules["__main__"] to the page script it runs; a worker started then is
    # told to re-run that script first. Here the "page" would fail loudly if it ran.
    import sys
    import types

    page = tmp_path / "page.py"
    page.write_text("raise SystemExit('a lesson page ran inside a training worker')\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    monkeypatch.setattr("course.runs.server.usable_cores", lambda: 1)
    pool = jobs.JobRunner(slots=1)
    try:
        folder = new_run(tmp_path, "run", SMALL)
        pool.submit(folder)
        wait_until_finished(pool, folder, timeout=180)
        assert pool.failure(folder) is None
        assert run_files.status(folder)["state"] == "done"
    finally:
        pool.shutdown()


def test_a_run_trains_on_the_data_folder_the_server_uses_now(tmp_path, data_dir, monkeypatch):
    """A worker process started while a page had no data keeps that in its environment: the run
    is told the server's data folder at submit, and trains on it."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(empty))  # the worker's stale environment
    folder = new_run(tmp_path, "run", SMALL)
    assert jobs.execute(str(folder), data_root=str(data_dir)) == "done"

    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))  # what the server sees at the click
    pool = jobs.JobRunner(slots=1)
    sent = []
    monkeypatch.setattr(pool.executor, "submit", lambda *args: sent.append(args) or Future())
    pool.submit(new_run(tmp_path, "queued", SMALL))
    assert sent[0][0] is jobs.execute and sent[0][-1] == str(data_dir)
    pool.shutdown()
