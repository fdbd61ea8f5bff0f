"""The live TensorBoard-scalars view: each section finds its runs, overlays their event files and
names their states; a run deleted while the page watches it is shown as missing, not a crash."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest
from torch.utils.tensorboard import SummaryWriter

from course.engine.train import RunConfig
from course.runs import recorder, run_files, workspace

HEALTHY = RunConfig(train_subset=5_000, epochs=2)
UNTRAINED = RunConfig(train_subset=5_000, epochs=2, lr=0.1)


class IdleRunner:
    """Stands in for the worker pool: these tests write the run folders themselves."""

    slots = 1

    def is_tracked(self, run_dir) -> bool:
        return True

    def failure(self, run_dir) -> None:
        return None

    def running_count(self) -> int:
        return 0


@pytest.fixture
def space(tmp_path, monkeypatch):
    from course.ui import panel

    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(panel, "job_runner", IdleRunner)
    return workspace.Workspace(workspace.new_token())


def trained_run(space: workspace.Workspace, config: RunConfig, state: str = "done") -> str:
    """A run folder as a worker leaves it: config, status and TensorBoard event files."""
    run_dir = run_files.create_run(space.new_run_dir(), config)
    writer = SummaryWriter(str(recorder.events_dir(run_dir)))
    for step in range(1, 6):
        writer.add_scalar("loss/train", 2.3 / step, step)
    writer.add_scalar("accuracy/test", 0.9, 5)
    writer.close()
    record = run_files.status(run_dir)
    run_files.write_json(run_dir / run_files.STATUS_FILE, {**record, "state": state,
                                                           "updated": time.time()})
    return run_dir.name


def view(token: str, deleted: str = "") -> None:
    """The page's use: find the section's runs, then draw them."""
    from course.engine.train import RunConfig
    from course.runs import workspace
    from course.ui import event_curves

    space = workspace.Workspace(token)
    runs = event_curves.section_runs(space, {
        "healthy": RunConfig(train_subset=5_000, epochs=2),
        "too large": RunConfig(train_subset=5_000, epochs=2, lr=0.1)})
    if deleted:
        runs["deleted"] = deleted
    event_curves.event_curves(space, runs, ["loss/train", "accuracy/test", "dead_relu/2"],
                              "test", log_y=True)


def charts(at: AppTest) -> dict[str, dict]:
    specs = [json.loads(element.proto.spec) for element in at.get("plotly_chart")]
    return {spec["layout"]["title"]["text"]: spec for spec in specs}


def test_a_section_overlays_its_runs_event_files_one_chart_per_logged_tag(space):
    trained_run(space, HEALTHY)
    trained_run(space, RunConfig(train_subset=5_000, epochs=1))  # another section's run
    at = AppTest.from_function(view, args=(space.token,), default_timeout=60).run()
    assert not at.exception, at.exception
    shown = charts(at)
    assert list(shown) == ["loss/train", "accuracy/test"]  # dead_relu/2 was never logged
    assert [trace["name"] for trace in shown["loss/train"]["data"]] == ["healthy"]
    assert shown["loss/train"]["layout"]["yaxis"]["type"] == "log"
    assert shown["accuracy/test"]["layout"]["yaxis"]["range"] == [0, 1.02]
    assert at.caption[0].value == "**healthy**: ✅ finished"


def test_a_training_run_is_drawn_with_its_state_and_joined_by_a_second_run(space):
    trained_run(space, HEALTHY, state="running")
    at = AppTest.from_function(view, args=(space.token,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.caption[0].value == "**healthy**: 🟡 starting…"  # no progress written yet
    trained_run(space, UNTRAINED)
    at.run()
    names = [trace["name"] for trace in charts(at)["loss/train"]["data"]]
    assert names == ["healthy", "too large"]
    assert at.caption[0].value == "**healthy**: 🟡 starting… · **too large**: ✅ finished"


def test_a_run_deleted_while_watched_shows_as_missing_instead_of_failing(space):
    gone = trained_run(space, UNTRAINED)
    trained_run(space, HEALTHY)
    space.delete_run(gone)
    at = AppTest.from_function(view, args=(space.token, gone), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.caption[0].value == "**healthy**: ✅ finished · **deleted**: ❔ missing"
    assert [trace["name"] for trace in charts(at)["loss/train"]["data"]] == ["healthy"]
