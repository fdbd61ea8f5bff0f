"""The command line, as a learner runs it: `python -m course train ...` in its own process."""

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

from course.__main__ import main
from course.runs import jobs
from course.runs.checkpoints import load_checkpoint

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CRASH_ARGS = ["--epochs", "4", "--train-subset", "10000", "--seed", "3"]


def course_command(*args: str) -> list[str]:
    # one thread: reproducible numbers, and no spinning against other work on a shared CPU
    return [sys.executable, "-m", "course", "train", *args, "--threads", "1"]


def environment(data_dir: Path) -> dict:
    return {**os.environ, "COURSE_DATA_DIR": str(data_dir)}


def run_course(data_dir: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(course_command(*args), cwd=PROJECT_ROOT, env=environment(data_dir),
                          capture_output=True, text=True, timeout=timeout)


def start_course(data_dir: Path, *args: str, **streams) -> subprocess.Popen:
    return subprocess.Popen(course_command(*args), cwd=PROJECT_ROOT, env=environment(data_dir),
                            text=True, **streams)


@pytest.mark.slow
def test_json_output_reports_accuracy_time_epochs_and_parameters(data_dir, tmp_path):
    result = run_course(data_dir, "--epochs", "1", "--train-subset", "5000", "--json",
                        "--run-dir", str(tmp_path / "run"))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one object and nothing else"
    report = json.loads(lines[0])
    assert report["test_accuracy"] > 0.85
    assert 0 < report["train_seconds"] < 120
    assert report["epochs"] == 1 and len(report["history"]) == 1
    assert report["params"] == 235_146
    assert (report["dataset"], report["model"], report["batch_size"]) == ("mnist", "mlp", 64)
    assert report["resumed_from_epoch"] == 0
    assert report["test_accuracy"] == report["history"][-1]["test_accuracy"]
    assert Path(report["run_dir"]) == tmp_path / "run"
    assert load_checkpoint(tmp_path / "run" / jobs.FINAL_CHECKPOINT).epoch == 1


@pytest.mark.slow
def test_out_of_range_arguments_exit_2_with_a_message_and_no_traceback(data_dir, tmp_path):
    cases = {
        "epochs": (["--epochs", "0"], "error: epochs must be between 1 and 30, not 0"),
        "batch": (["--batch-size", "0"], "error: batch_size must be between 1 and 4096, not 0"),
    }
    # started together: each process spends most of its life importing torch
    processes = {name: start_course(data_dir, *args, "--run-dir", str(tmp_path / name),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for name, (args, _message) in cases.items()}
    outputs = {name: process.communicate(timeout=240) for name, process in processes.items()}

    for name, (_args, message) in cases.items():
        stdout, stderr = outputs[name]
        assert processes[name].returncode == 2, stderr
        assert message in stderr
        assert "Traceback" not in stderr
        assert stdout == ""
        assert not (tmp_path / name / jobs.CONFIG_FILE).exists(), "a refused run left a config"


@pytest.fixture
def restore_threads():
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


def test_resume_of_a_folder_without_a_run_is_refused_naming_the_folder(tmp_path, capsys,
                                                                      restore_threads):
    assert main(["train", "--resume", str(tmp_path), "--json", "--threads", "1"]) == 2

    captured = capsys.readouterr()
    assert captured.err == f"error: {tmp_path} holds no run to resume (no config.json)\n"
    assert captured.out == ""


def test_a_run_dir_that_already_holds_a_run_is_refused_pointing_to_resume(tmp_path, capsys,
                                                                          restore_threads):
    (tmp_path / jobs.EPOCH_CHECKPOINT).write_bytes(b"an earlier run's epoch")

    assert main(["train", "--run-dir", str(tmp_path), "--threads", "1"]) == 2

    assert f"use --resume {tmp_path} to continue it" in capsys.readouterr().err
    assert (tmp_path / jobs.EPOCH_CHECKPOINT).read_bytes() == b"an earlier run's epoch"


def test_a_negative_thread_count_is_refused_with_a_message_not_a_traceback(tmp_path, capsys,
                                                                           restore_threads):
    # torch.set_num_threads(-1) raises RuntimeError, which main() does not catch
    assert main(["train", "--threads", "-1", "--run-dir", str(tmp_path)]) == 2

    assert "threads" in capsys.readouterr().err


def history_epochs(run_dir: Path) -> int:
    return len(jobs.read_json(run_dir / jobs.STATUS_FILE).get("history", []))


@pytest.mark.slow
def test_killed_run_resumed_ends_with_the_same_accuracy_and_weights(data_dir, tmp_path):
    killed_dir, straight_dir = tmp_path / "killed", tmp_path / "straight"
    # both start together to share the wait for torch's import; threads=1 keeps them independent
    straight = start_course(data_dir, *CRASH_ARGS, "--run-dir", str(straight_dir), "--json",
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    victim = start_course(data_dir, *CRASH_ARGS, "--run-dir", str(killed_dir),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while history_epochs(killed_dir) < 2:
            assert victim.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never finished two epochs"
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        straight_out, _ = straight.communicate(timeout=240)
    finally:
        for process in (victim, straight):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert straight.returncode == 0
    killed_at = history_epochs(killed_dir)
    assert 2 <= killed_at < 4, f"killed after {killed_at} epochs: nothing left to resume"
    assert not (killed_dir / jobs.FINAL_CHECKPOINT).exists()

    resumed = run_course(data_dir, "--resume", str(killed_dir), "--json")

    assert resumed.returncode == 0, resumed.stderr
    after, reference = json.loads(resumed.stdout), json.loads(straight_out)
    assert after["resumed_from_epoch"] == killed_at
    assert [row["epoch"] for row in after["history"]] == [1, 2, 3, 4]
    assert after["test_accuracy"] == reference["test_accuracy"]
    assert [row["test_loss"] for row in after["history"]] == [
        row["test_loss"] for row in reference["history"]]
    final = load_checkpoint(killed_dir / jobs.FINAL_CHECKPOINT)
    expected = load_checkpoint(straight_dir / jobs.FINAL_CHECKPOINT)
    assert final.epoch == expected.epoch == 4
    assert final.model_state.keys() == expected.model_state.keys()
    for name, tensor in expected.model_state.items():
        assert torch.equal(final.model_state[name], tensor), name


@pytest.mark.slow
def test_one_cycle_schedule_is_reported_and_its_state_is_checkpointed(data_dir, tmp_path, capsys,
                                                                      restore_threads):
    code = main(["train", "--epochs", "2", "--train-subset", "2000", "--batch-size", "100",
                 "--lr", "0.005", "--schedule", "one-cycle", "--threads", "1", "--json",
                 "--run-dir", str(tmp_path / "run")])

    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["schedule"], report["lr"], report["epochs"]) == ("one-cycle", 0.005, 2)
    assert report["test_accuracy"] > 0.8
    final = load_checkpoint(tmp_path / "run" / jobs.FINAL_CHECKPOINT)
    assert final.config["schedule"] == "one-cycle"
    assert final.scheduler_state is not None and final.scheduler_state["last_epoch"] == 40
