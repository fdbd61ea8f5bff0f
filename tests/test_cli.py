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

from course.__main__ import build_parser, config_from, main, mark_interrupted, parse_arguments
from course.runs import run_files, server
from course.runs.checkpoints import load_checkpoint

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CRASH_ARGS = ["--epochs", "4", "--train-subset", "10000", "--seed", "3"]


def course_command(*args: str, threads: bool = True) -> list[str]:
    # one thread: reproducible numbers, and no spinning against other work on a shared CPU
    return [sys.executable, "-m", "course", "train", *args, *(["--threads", "1"] if threads else [])]


def environment(data_dir: Path) -> dict:
    return {**os.environ, "COURSE_DATA_DIR": str(data_dir)}


def run_course(data_dir: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(course_command(*args), cwd=PROJECT_ROOT, env=environment(data_dir),
                          capture_output=True, text=True, timeout=timeout)


def start_course(data_dir: Path, *args: str, threads: bool = True, **streams) -> subprocess.Popen:
    return subprocess.Popen(course_command(*args, threads=threads), cwd=PROJECT_ROOT,
                            env=environment(data_dir), text=True, **streams)


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
    assert load_checkpoint(tmp_path / "run" / run_files.FINAL_CHECKPOINT).epoch == 1


@pytest.mark.slow
def test_out_of_range_arguments_exit_2_with_a_message_and_no_traceback(data_dir, tmp_path):
    cases = {
        "epochs": (["--epochs", "0"], "error: epochs must be between 1 and 50, not 0"),
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
        assert not (tmp_path / name / run_files.CONFIG_FILE).exists(), "a refused run left a config"


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
    (tmp_path / run_files.EPOCH_CHECKPOINT).write_bytes(b"an earlier run's epoch")

    assert main(["train", "--run-dir", str(tmp_path), "--threads", "1"]) == 2

    assert f"use --resume {tmp_path} to continue it" in capsys.readouterr().err
    assert (tmp_path / run_files.EPOCH_CHECKPOINT).read_bytes() == b"an earlier run's epoch"


def history_epochs(run_dir: Path) -> int:
    return len(run_files.read_json(run_dir / run_files.STATUS_FILE).get("history", []))


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
    assert not (killed_dir / run_files.FINAL_CHECKPOINT).exists()

    resumed = run_course(data_dir, "--resume", str(killed_dir), "--json")

    assert resumed.returncode == 0, resumed.stderr
    after, reference = json.loads(resumed.stdout), json.loads(straight_out)
    assert after["resumed_from_epoch"] == killed_at
    assert [row["epoch"] for row in after["history"]] == [1, 2, 3, 4]
    assert after["test_accuracy"] == reference["test_accuracy"]
    assert [row["test_loss"] for row in after["history"]] == [
        row["test_loss"] for row in reference["history"]]
    final = load_checkpoint(killed_dir / run_files.FINAL_CHECKPOINT)
    expected = load_checkpoint(straight_dir / run_files.FINAL_CHECKPOINT)
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
    final = load_checkpoint(tmp_path / "run" / run_files.FINAL_CHECKPOINT)
    assert final.config["schedule"] == "one-cycle"
    assert final.scheduler_state is not None and final.scheduler_state["last_epoch"] == 40


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write into (root ignores permission bits: /sys then)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return locked / "run"
    candidate = Path("/sys/course-cli-test-run")
    try:
        candidate.mkdir()
    except OSError:
        return candidate
    candidate.rmdir()
    pytest.skip("no folder here refuses root's writes")


@pytest.mark.slow
def test_refused_command_lines_say_why_in_one_line_exit_2_and_leave_nothing(data_dir, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    usable = server.usable_cores()
    cases = {  # name: (arguments, the one error line)
        "run-dir is a file": (["--run-dir", str(a_file)],
                              f"error: --run-dir {a_file} is a file, not a folder"),
        "run-dir below a file": (["--run-dir", str(a_file / "run")],
                                 f"error: --run-dir {a_file / 'run'} cannot be created: "
                                 "a part of its path is a file"),
        "run-dir unwritable": (["--run-dir", str(unwritable_folder(tmp_path))],
                               "cannot be written: "),
        "zero threads": (["--threads", "0"],
                         f"error: argument --threads: must be between 1 and {usable} "
                         "(the cores usable here), not 0"),
    }
    common = ["--epochs", "1", "--train-subset", "100"]
    # started together: each process spends most of its life importing torch
    processes = {name: start_course(data_dir, *common, *args, threads=False,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for name, (args, _line) in cases.items()}
    outputs = {name: process.communicate(timeout=240) for name, process in processes.items()}

    for name, (_args, line) in cases.items():
        stdout, stderr = outputs[name]
        assert processes[name].returncode == 2, (name, stderr)
        assert line in stderr, (name, stderr)
        assert "Traceback" not in stderr, (name, stderr)
        assert stderr.strip().splitlines()[-1].count("error") == 1, (name, stderr)
        assert stdout == "", name
    assert a_file.read_text() == "not a folder"
    assert not any(tmp_path.rglob(run_files.CONFIG_FILE)), "a refused run left a config"


@pytest.mark.slow
def test_help_describes_every_option_with_its_default_and_range(data_dir):
    result = subprocess.run(course_command("--help", threads=False), cwd=PROJECT_ROOT,
                            env=environment(data_dir), capture_output=True, text=True,
                            timeout=240)

    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # argparse wraps lines at the terminal's width
    for expected in ("--epochs EPOCHS passes over the training images, 1 to 50; default: 5, or "
                     "the recipe of the dataset and model: fashion-mnist mlp",
                     "images per optimizer step, 1 to 4,096; default: 64, or the recipe",
                     "Adam's learning rate, 1e-05 to 1; default: 0.001, or the recipe",
                     "0 to 0.9; default: 0.3",
                     "0 to 2,147,483,647 (default: 0)",
                     "100 to 60,000; default: all of them",
                     f"torch CPU threads, 1 to {server.usable_cores()}",
                     "Adam's L2 penalty, 0 to 0.1; default: the model's recipe (mlp 0, "
                     "mlp-bn 0.0001, cnn 0)",
                     "(default: mnist)", "(default: mlp)", "default: constant, or the recipe",
                     "(default: auto)", "Exit codes: 0 done, 2 a refused argument"):
        assert expected in text, expected
    assert "(default: None)" not in text, "an option without a value says what happens instead"
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    for action in train._actions:
        assert action.help and len(action.help) > 10, action.option_strings


@pytest.mark.parametrize("value, told", [
    ("-1", "must be between 1 and {usable} (the cores usable here), not -1"),
    ("{over}", "must be between 1 and {usable} (the cores usable here), not {over}"),
    ("two", "must be a whole number, not 'two'"),
    ("1.5", "must be a whole number, not '1.5'"),
])
def test_a_thread_count_outside_1_to_the_usable_cores_is_refused(value, told, tmp_path, capsys):
    usable = server.usable_cores()
    value, told = (text.format(usable=usable, over=usable + 1) for text in (value, told))

    assert main(["train", "--threads", value, "--run-dir", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"python -m course train: error: argument --threads: {told}"
    assert not (tmp_path / run_files.CONFIG_FILE).exists()
    assert parse_arguments(["train", "--threads", str(usable)]).threads == usable


def test_the_weight_decay_default_is_the_models_recipe():
    assert config_from(parse_arguments(["train", "--model", "mlp-bn"])).weight_decay == 1e-4
    assert config_from(parse_arguments(["train", "--model", "mlp"])).weight_decay == 0.0
    explicit = parse_arguments(["train", "--model", "mlp-bn", "--weight-decay", "0"])
    assert config_from(explicit).weight_decay == 0.0


def test_no_flag_trains_the_recipe_of_the_dataset_and_model_and_a_flag_wins():
    from course.engine import recipes
    from course.engine.train import RunConfig

    mnist = config_from(parse_arguments(["train", "--model", "mlp"]))
    assert mnist == RunConfig(model="mlp")  # MNIST: the course's recipe, as the lessons teach it
    for model in ("mlp", "mlp-bn", "cnn"):
        config = config_from(parse_arguments(["train", "--dataset", "fashion-mnist", "--model", model]))
        recipe = recipes.RECIPES[("fashion-mnist", model)]
        assert {name: getattr(config, name) for name in recipe} == recipe
        assert config.schedule == "one-cycle" and config.seed == 0
        flags = recipes.recipe_flags("fashion-mnist", model).split()
        again = config_from(parse_arguments(["train", "--dataset", "fashion-mnist", "--model", model,
                                             *flags]))
        assert again == config  # the flags --help and the README print ask for the same run
    chosen = config_from(parse_arguments(["train", "--dataset", "fashion-mnist", "--model", "cnn",
                                          "--epochs", "2", "--schedule", "constant"]))
    assert (chosen.epochs, chosen.schedule) == (2, "constant")
    assert chosen.lr == recipes.RECIPES[("fashion-mnist", "cnn")]["lr"]  # the rest still the recipe


def read_until(stream, text: str, deadline: float) -> str:
    seen = ""
    while text not in seen:
        assert time.monotonic() < deadline, f"never printed {text!r}: {seen[-500:]}"
        chunk = stream.readline()
        assert chunk, f"the run ended before printing {text!r}: {seen[-2000:]}"
        seen += chunk
    return seen


@pytest.mark.slow
def test_ctrl_c_stops_marks_the_run_interrupted_and_resume_finishes_it(data_dir, tmp_path,
                                                                      capsys, restore_threads):
    run_dir = tmp_path / "run"
    process = start_course(data_dir, "--epochs", "6", "--train-subset", "1000", "--seed", "5",
                           "--run-dir", str(run_dir),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        before = read_until(process.stderr, "epoch 1: train loss", time.monotonic() + 120)
        process.send_signal(signal.SIGINT)
        stdout, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = before + rest

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert f"resume with --resume {run_dir}\n" in stderr
    assert stderr.rstrip().splitlines()[-1].startswith("interrupted after ")
    assert stdout == ""
    record = run_files.read_json(run_dir / run_files.STATUS_FILE)
    assert record["state"] == "interrupted"
    kept = len(record["history"])
    assert 1 <= kept < 6, f"{kept} epochs: Ctrl-C came too late to test anything"
    assert f"interrupted after {kept} finished epoch" in stderr
    assert load_checkpoint(run_dir / run_files.EPOCH_CHECKPOINT).epoch == kept

    resumed = run_course(data_dir, "--resume", str(run_dir), "--json")

    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["resumed_from_epoch"] == kept
    assert [row["epoch"] for row in report["history"]] == [1, 2, 3, 4, 5, 6]
    assert run_files.read_json(run_dir / run_files.STATUS_FILE)["state"] == "done"
    assert not (run_dir / run_files.STOP_FILE).exists()

    # resuming the finished run trains nothing and says so, with its final numbers
    final_bytes = (run_dir / run_files.FINAL_CHECKPOINT).read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--threads", "1"]) == 0
    told = capsys.readouterr().err
    last = report["history"][-1]
    assert told == (f"{run_dir} is already finished: 6 epochs, test accuracy "
                    f"{last['test_accuracy']:.4f}, test loss {last['test_loss']:.4f}, train "
                    f"accuracy {last['train_accuracy']:.4f}; nothing left to train\n")
    assert "step" not in told
    assert (run_dir / run_files.FINAL_CHECKPOINT).read_bytes() == final_bytes
    assert main(["train", "--resume", str(run_dir), "--threads", "1", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["test_accuracy"] == report["test_accuracy"]
    assert again["history"] == report["history"]


def test_a_hard_interruption_turns_the_active_status_into_interrupted(tmp_path):
    run_files.write_json(tmp_path / run_files.STATUS_FILE, {"state": "running", "updated": 0.0,
                                                  "progress": {"step": 3},
                                                  "history": [{"epoch": 1}, {"epoch": 2}]})

    assert mark_interrupted(tmp_path) == 2

    record = run_files.read_json(tmp_path / run_files.STATUS_FILE)
    assert record["state"] == "interrupted" and "progress" not in record
    assert record["history"] == [{"epoch": 1}, {"epoch": 2}]
    run_files.write_json(tmp_path / run_files.STATUS_FILE, {"state": "done", "history": []})
    mark_interrupted(tmp_path)
    assert run_files.read_json(tmp_path / run_files.STATUS_FILE)["state"] == "done", "an ended run stays"
