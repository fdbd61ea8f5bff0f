"""Two learners at once: separate workspaces, both runs finish, the slot limit holds.

Two AppTest sessions share this process (and so the `st.cache_resource` JobRunner, created
once with the slot count it read from COURSE_TRAINING_SLOTS at that moment), so the slot limit
itself is checked on a `course.runs.jobs.JobRunner(slots=1)` of our own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from course.engine.train import RunConfig
from course.runs import jobs, run_files, workspace
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

PAGE = "pages/mnist-project.py"
RUN_SECONDS = 600  # one epoch on 1,000 images, plus a cold worker pool, on a shared 2-core box


def open_trainer(runs_root: Path) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.slider(key="mnist.epochs").set_value(1)
    at.select_slider(key="mnist.subset").set_value(1_000)
    return at


def finished(at: AppTest) -> bool:
    return any("finished after" in str(caption.value) for caption in at.caption)


def running_now(runs_root: Path) -> int:
    return sum(1 for run in runs_root.glob("*/runs/*")
               if run_files.read_json(run / run_files.STATUS_FILE).get("state") == "running")


def stop_everything(runs_root: Path) -> None:
    for run_dir in runs_root.glob("*/runs/*"):
        (run_dir / run_files.STOP_FILE).touch()


def shut_down_cached_runner() -> None:
    """The page's cached pool must not outlive this test (nor keep pytest from exiting)."""
    from course.ui import panel

    runner = panel.job_runner()  # already cached by the page runs above: no new pool
    runner.shutdown()
    panel.job_runner.clear()


def test_two_sessions_train_at_once_in_their_own_workspaces(data_dir, tmp_path, monkeypatch):
    runs_root = tmp_path / "runs"
    monkeypatch.setenv("COURSE_RUNS_DIR", str(runs_root))
    monkeypatch.chdir(PROJECT_ROOT)
    sessions = []
    page_loaded = False
    try:
        sessions = [open_trainer(runs_root), open_trainer(runs_root)]
        page_loaded = True
        for at in sessions:  # both clicks before either session is polled
            at.button(key="mnist.train").click()
        for at in sessions:
            at.run()
            assert not at.exception, [e.message for e in at.exception]

        from course.ui import panel

        slots = panel.job_runner().slots
        most_running = 0
        deadline = time.monotonic() + RUN_SECONDS
        while not all(finished(at) for at in sessions):
            assert time.monotonic() < deadline, "the two 1-epoch runs did not both finish"
            time.sleep(1)
            most_running = max(most_running, running_now(runs_root))
            for at in sessions:
                if not finished(at):
                    at.run()
                    assert not at.exception, [e.message for e in at.exception]
        assert most_running <= slots

        tokens = [at.query_params["ws"] for at in sessions]
        assert all(workspace.is_token(token) for token in tokens)
        assert tokens[0] != tokens[1]
        assert sorted(p.name for p in runs_root.iterdir()) == sorted(tokens)
        for at, token in zip(sessions, tokens):
            own_runs = workspace.Workspace(token, root=runs_root).run_ids()
            assert own_runs == [at.session_state["mnist.current"]], f"workspace {token}"
            assert run_files.status(runs_root / token / "runs" / own_runs[0])["state"] == "done"
            captions = [str(caption.value) for caption in at.caption]
            assert any("finished after 1 epoch" in text for text in captions), captions
            # The page lists this session's run only: the evaluation picker names it.
            pickers = [box for box in at.selectbox if box.label == "Model to evaluate"]
            assert [[option[-7:-1] for option in box.options] for box in pickers] \
                == [[own_runs[0][-6:]]]
    finally:
        stop_everything(runs_root)
        if page_loaded:
            shut_down_cached_runner()


def test_job_runner_with_one_slot_trains_one_run_at_a_time(data_dir, tmp_path):
    config = RunConfig(epochs=1, train_subset=1_000)
    run_dirs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        run_dirs.append(run_files.create_run(tmp_path / name, config, label=name))
    runner = jobs.JobRunner(slots=1)
    try:
        for run_dir in run_dirs:
            runner.submit(run_dir)
        most_running = 0
        deadline = time.monotonic() + RUN_SECONDS
        while True:
            states = [run_files.read_json(run_dir / run_files.STATUS_FILE).get("state")
                      for run_dir in run_dirs]
            most_running = max(most_running, states.count("running"))
            assert most_running <= 1, f"two runs trained at once with one slot: {states}"
            if all(state not in run_files.ACTIVE_STATES for state in states):
                break
            assert time.monotonic() < deadline, f"runs did not finish: {states}"
            time.sleep(0.1)
        records = [run_files.status(run_dir) for run_dir in run_dirs]
        assert [record["state"] for record in records] == ["done", "done"], records
        assert most_running == 1
        # One after the other, not merely never caught overlapping: the second run started
        # after the first one's final status was written.
        first, second = sorted(records, key=lambda record: record["started"])
        assert second["started"] >= first["updated"]
        assert all(len(record["history"]) == 1 for record in records)
    finally:
        for run_dir in run_dirs:
            (run_dir / run_files.STOP_FILE).touch()
        runner.shutdown()
