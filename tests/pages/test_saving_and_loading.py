"""Lesson 2.3.1 through AppTest: every section draws, the widgets answer, a good checkpoint and
each bad one go through the file uploader, and the three checks answer."""

from __future__ import annotations

import pytest

from course.concepts import bad_checkpoints, resume_race
from tests.pages.conftest import metric, open_lesson

PAGE = "pages/saving-and-loading.py"


@pytest.fixture(scope="module")
def at(data_dir):
    return open_lesson(PAGE)


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def upload(at, name: str, blob: bytes):
    at.file_uploader(key="save.upload").set_value((name, blob, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def test_page_draws_every_section_without_errors(at):
    assert not at.error
    assert metric(at, "Reloaded weights identical") == "yes"
    headers = [h.value for h in at.header]
    assert len(headers) == 7 and headers[4].startswith("5. Crash at epoch 47 of 50")
    assert headers[5].startswith("5b. The same crash, with a real process")
    portability = at.table[0].value
    assert portability.loc["after renaming the class", "torch.save(model)"].startswith(
        "AttributeError")
    assert portability.loc["after renaming the class", "torch.save(model.state_dict())"] == "loads"


def test_race_table_shows_only_the_full_resume_equal(at):
    table = frame_with(at, "weights equal (torch.equal)")
    assert table["weights equal (torch.equal)"].tolist() == [False, False, True, True]
    mean = table["mean loss, epochs 48-50"].tolist()
    assert mean[0] > mean[1] and mean[0] > mean[2] and mean[2] == mean[3]


def test_adam_steps_slider_changes_the_step_count(at):
    at.slider(key="save.steps").set_value(12).run()
    assert set(frame_with(at, "exp_avg shape")["step"]) == {12}
    at.slider(key="save.steps").set_value(0).run()
    assert set(frame_with(at, "exp_avg shape")["exp_avg shape"]) == {"(none yet)"}


def test_timeline_slider_reloads_that_epochs_accuracy(at):
    race = resume_race.run_race()
    for epoch in (3, 50):
        at.slider(key="save.epoch").set_value(epoch).run()
        shown = metric(at, f"Test accuracy of epoch {epoch}'s weights")
        assert shown == f"{race.uninterrupted.test_accuracy[epoch]:.1%}"
    assert metric(at, "best.pt holds epoch") == str(race.uninterrupted.best_epoch)


def test_lab_files_each_give_a_clear_error(at):
    for name in bad_checkpoints.BAD_FILES:
        at.selectbox(key="save.lab").set_value(name).run()
        assert not at.exception
        assert at.error, name
    at.selectbox(key="save.lab").select_index(0).run()
    assert not at.error
    assert any("Loaded into: this page's 784-32-10 MLP" in s.value for s in at.success)


@pytest.mark.parametrize("name, expected", [
    ("a pickled whole model (torch.save(model))", "torch.nn.modules.container.Sequential"),
    ("a pickle that would run a command", "os.system"),
    ("a truncated file (half a download)", "damaged or truncated"),
    ("the wrong architecture (784-64-10)", "fit none of the course's models"),
    ("NaN weights (a diverged run)", "NaN"),
    ("best_acc saved as np.float64", "numpy"),
])
def test_uploading_a_bad_checkpoint_explains_why(data_dir, name, expected):
    at = upload(open_lesson(PAGE), "learner.pt", bad_checkpoints.BAD_FILES[name]())
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]
    assert not any("Loaded into" in s.value for s in at.success)


def test_uploading_a_good_checkpoint_evaluates_it(data_dir):
    race = resume_race.run_race()
    at = upload(open_lesson(PAGE), "mine.pt", race.uninterrupted.snapshots[50])
    expected = f"{race.uninterrupted.test_accuracy[50]:.1%}"
    assert any("Loaded into" in s.value and expected in s.value for s in at.success)
    assert not at.error


def test_oversized_upload_is_refused_before_reading(data_dir):
    at = upload(open_lesson(PAGE), "huge.pt", b"PK" + b"\0" * (5 * 1024 * 1024 + 10))
    assert any("this page takes up to 5 MB" in e.value for e in at.error)


def test_three_checks_answer(data_dir):
    at = open_lesson(PAGE)
    at.number_input(key="save.q_state_dict.guess").set_value(470_292)
    at.button(key="save.q_state_dict.check").click().run()
    at.radio(key="save.q_resume.choice").set_value("(c) weights + optimizer + scheduler + RNG")
    at.button(key="save.q_resume.check").click().run()
    at.radio(key="save.q_best.choice").set_value("test accuracy")  # wrong: one retry
    at.button(key="save.q_best.check").click().run()
    assert at.session_state["save.q_best.retry"]
    at.radio(key="save.q_best.choice").set_value("validation accuracy (held out from training)")
    at.button(key="save.q_best.check").click().run()
    assert not at.exception
    assert at.session_state["save.q_state_dict.result"] == 470_292
    assert sum("Right" in s.value for s in at.success) == 3


@pytest.fixture(scope="module")
def run_checkpoint(data_dir, tmp_path_factory):
    """A real run checkpoint as the runs panel's download gives it: 1 epoch of 500 images."""
    import torch

    from course.engine.train import Run, RunConfig
    from course.runs import checkpoints

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = Run(RunConfig(epochs=1, train_subset=500, seed=3))
        for _ in run.events():
            pass
    finally:
        torch.set_num_threads(previous)
    path = tmp_path_factory.mktemp("upload") / "run.pt"
    checkpoints.save_run(run, path)
    return path.read_bytes()


def test_uploaded_run_checkpoint_continues_as_a_new_run(run_checkpoint, runs_root):
    import time

    from course.runs import run_files

    at = upload(open_lesson(PAGE), "run.pt", run_checkpoint)
    assert any("Loaded into: Simple MLP" in s.value for s in at.success)
    at.number_input(key="save.more").set_value(2)
    at.button(key="save.continue").click().run()
    assert not at.exception, at.exception
    run_id = at.session_state["save.continued"]
    folder = next(runs_root.glob(f"*/runs/{run_id}"))
    assert run_files.read_json(folder / run_files.CONFIG_FILE)["epochs"] == 3
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = run_files.read_json(folder / run_files.STATUS_FILE)
        if status.get("state") in ("done", "failed"):
            break
        time.sleep(1)
    assert status.get("state") == "done", status
    assert status["resumed_from_epoch"] == 1
    assert [entry["epoch"] for entry in status["history"]] == [1, 2, 3]


def test_weights_only_file_cannot_be_continued(data_dir):
    race = resume_race.run_race()
    at = upload(open_lesson(PAGE), "weights.pt", race.uninterrupted.snapshots[50])
    assert not [b for b in at.button if b.key == "save.continue"]


def wait_until(at, condition, seconds: float, what: str):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if condition(at):
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.usefixtures("own_worker_pool")
def test_a_run_killed_with_sigkill_resumes_from_the_runs_panel_bit_for_bit(data_dir, runs_root):
    """The main action: kill -9 after epoch 47 (a real process), Resume, equal to the twin."""
    from course.runs import crash, run_files
    from course.ui import real_crash

    at = open_lesson(PAGE)
    at.button(key="save.crash").click().run()
    assert not at.exception, at.exception
    wait_until(at, lambda at: any("killed with SIGKILL after epoch 47" in e.value for e in at.error),
               300, "the kill after epoch 47")
    (folder,) = [path for path in runs_root.glob("*/runs/*") if (path / crash.CRASH_FILE).exists()]
    space_runs = folder.parent
    record = crash.crash_record(folder)
    assert record["killed"] and record["killed_after"] == 47 and record["exit_code"] == -9
    assert run_files.status(folder)["state"] == "interrupted"  # at once: its process is gone
    assert run_files.read_json(folder / run_files.STATUS_FILE)["state"] == "running"  # as left
    assert real_crash.crash_label(47) in [m.value.split("**")[1] for m in at.markdown
                                          if m.value.startswith("**killed with")]
    at.button(key=f"save.runs.resume.{folder.name}").click().run()
    at.radio(key=f"{real_crash.QUESTION}.choice").set_value("bit-for-bit equal")
    at.button(key=f"{real_crash.QUESTION}.check").click().run()
    wait_until(at, lambda at: any("ended **bit-for-bit equal** to its twin" in s.value
                                  for s in at.success), 300, "the resumed run and its twin to end")
    status = run_files.status(folder)
    assert status["resumed_from_epoch"] == 47 and len(status["history"]) == 50
    assert len(list(space_runs.iterdir())) == 2  # the crashed run and its twin, no more
