"""The shared "Your runs" panel, driven through AppTest on a minimal training page.

One click on Train makes one run; a waiting run can be cancelled; Stop answers at once with
"stopping…" and the run stops within a second; Delete frees the workspace's space; every run is
listed with its settings. The page is the smallest one that uses the panel like a lesson does.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from course.engine.train import RunConfig
from course.runs import run_files, workspace
from course.ui import panel, widgets

pytestmark = pytest.mark.slow


@pytest.fixture
def page(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COURSE_TRAINING_SLOTS", "1")
    monkeypatch.setattr("course.runs.server.usable_cores", lambda: 1)
    panel.job_runner.clear()
    at = AppTest.from_file(str(Path(__file__).parent / "runs_panel_page.py"), default_timeout=120)
    at.run()
    assert not at.exception
    yield at
    for run_dir in (tmp_path / "runs").glob("*/runs/*"):
        (run_dir / run_files.STOP_FILE).touch()
    panel.job_runner().shutdown()
    panel.job_runner.clear()


def space_of(at: AppTest) -> workspace.Workspace:
    return workspace.Workspace(at.session_state["workspace.token"])


def wait_for(at: AppTest, condition, timeout: float, what: str):
    """Rerun the page until `condition` holds; the page's last run comes after it held, so it
    shows what the condition saw (a run can finish between a rerun and the next look)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = condition()
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        if held:
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption])


def test_double_click_cancel_stop_and_delete_from_the_panel(page):
    at = page
    at.button(key="t.train").click().run()
    assert [t.value for t in at.toast] == ["Queued: simple MLP · epochs=30. Watch it in *Your runs*."]
    at.button(key="t.train").click().run()  # a double click: still one run
    assert not at.toast  # the twin is pointed at, nothing new was queued
    space = space_of(at)
    assert len(space.run_ids()) == 1
    first = space.run_ids()[0]

    at.number_input(key="t.epochs").set_value(1).run()
    at.number_input(key="t.subset").set_value(1_000).run()
    at.button(key="t.train").click().run()
    second = [r for r in space.run_ids() if r != first][0]
    # every run is listed with the settings that differ from the recipe
    assert "simple MLP · epochs=30" in texts(at)
    assert "simple MLP · epochs=1 · 1,000 images" in texts(at)

    wait_for(at, lambda: run_files.status(space.run_dir(first))["state"] == "running"
             and run_files.status(space.run_dir(first)).get("progress"), 180, "the first run to train")
    assert run_files.status(space.run_dir(second))["state"] == "queued"
    assert "Position 1 in the queue" in texts(at)

    at.button(key=f"t.runs.cancel.{second}").click().run()
    assert run_files.status(space.run_dir(second))["state"] == "cancelled"
    assert not at.exception

    at.button(key=f"t.runs.stop.{first}").click().run()
    asked = time.monotonic()
    assert "stopping…" in texts(at)
    while run_files.status(space.run_dir(first))["state"] == "running":
        assert time.monotonic() - asked < 5, "the run did not stop"
        time.sleep(0.05)
    took = time.monotonic() - asked
    assert took < 1.0  # one training step and the final save
    assert run_files.status(space.run_dir(first))["state"] == "stopped"
    at.run()
    assert "⏹️ stopped" in texts(at)

    used = space.used_bytes()
    time.sleep(panel.ACTION_GRACE_SECONDS)  # Stop was this run's last click: not a double click
    at.button(key=f"t.runs.delete.{first}").click().run()
    assert first not in space.run_ids()
    assert space.used_bytes() < used
    at.button(key=f"t.runs.delete.{second}").click().run()
    assert space.run_ids() == []
    assert "No runs yet" in texts(at)
    assert not at.exception


def test_a_finished_run_offers_three_seeds_and_the_run_is_deterministic(page):
    at = page
    at.number_input(key="t.epochs").set_value(1).run()
    at.number_input(key="t.subset").set_value(1_000).run()
    at.button(key="t.train").click().run()
    space = space_of(at)
    first = space.run_ids()[0]
    wait_for(at, lambda: run_files.status(space.run_dir(first))["state"] == "done", 300,
             "the run to finish")
    at.button(key=f"t.runs.seeds.{first}").click().run()
    seeded = [r for r in space.run_ids() if r != first]
    assert sorted(run_files.run_config(space.run_dir(r)).seed for r in seeded) == [1, 2, 3]
    selected = at.session_state["runs.selected"]
    assert selected[0] == first and sorted(selected[1:]) == sorted(seeded)
    for run_id in seeded:  # waiting (Cancel) or already training (Stop): the machine decides
        ends = [b for b in at.button if b.key in (f"t.runs.cancel.{run_id}", f"t.runs.stop.{run_id}")]
        if ends:
            ends[0].click().run()
    assert not at.exception


def test_describe_names_every_setting_that_differs_from_the_recipe():
    assert panel.describe(RunConfig()) == "simple MLP"
    assert panel.describe(RunConfig(model="mlp", dropout=0.5)) == "simple MLP"  # no dropout there
    label = panel.describe(RunConfig(model="mlp-bn", dropout=0.5, weight_decay=1e-4,
                                     train_subset=1_000, batch_size=128, seed=2))
    # the improved MLP's recipe has weight decay 1e-4: only a departure from it is named
    assert label == "improved MLP · B=128 · p=0.5 · seed=2 · 1,000 images"
    assert panel.describe(RunConfig(model="mlp-bn", weight_decay=0.0)) == "improved MLP · wd=0"
    assert panel.describe(RunConfig(model="mlp", weight_decay=1e-4)) == "simple MLP · wd=0.0001"


def test_a_shared_address_restores_the_run_settings_and_follows_changes(data_dir, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(Path(__file__).parents[2] / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/mnist-project.py")
    for name, value in {"model": "mlp-bn", "epochs": "3", "batch_size": "128", "lr": "0.003",
                        "dropout": "0.5", "weight_decay": "0.0001", "train_subset": "5000",
                        "seed": "7"}.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.radio(key="mnist.model").value.startswith("Improved MLP")
    assert at.slider(key="mnist.epochs").value == 3
    assert at.select_slider(key="mnist.batch").value == 128
    assert at.select_slider(key="mnist.lr").value == 3e-3
    assert at.slider(key="mnist.dropout").value == 0.5
    assert at.select_slider(key="mnist.wd.mlp-bn").value == 1e-4
    assert at.select_slider(key="mnist.subset").value == 5_000
    assert at.number_input(key="mnist.seed_value").value == 7
    at.slider(key="mnist.epochs").set_value(4).run()
    assert at.query_params["epochs"] == ["4"] or at.query_params["epochs"] == "4"
    at.select_slider(key="mnist.subset").set_value(60_000).run()
    assert "train_subset" not in at.query_params  # back at the recipe's value: out of the link


def test_settings_out_of_range_in_the_address_fall_back_to_the_recipe(data_dir, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(Path(__file__).parents[2] / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/mnist-project.py")
    at.query_params["epochs"] = "900"
    at.query_params["lr"] = "abc"
    at.run()
    assert not at.exception
    assert at.slider(key="mnist.epochs").value == 5
    assert any("out of range" in str(w.value) for w in at.warning)


def test_train_uses_the_settings_changed_in_the_same_interaction(page):
    at = page
    at.number_input(key="t.epochs").set_value(2)
    at.button(key="t.train").click().run()  # the value and the click reach the server together
    space = space_of(at)
    assert [run_files.run_config(space.run_dir(r)).epochs for r in space.run_ids()] == [2]
    at.button(key=f"t.runs.cancel.{space.run_ids()[0]}").click().run()


def test_a_full_workspace_points_at_the_runs_panel_and_makes_no_run(page, monkeypatch):
    def full(self, extra_bytes=0):
        raise workspace.WorkspaceError("Your workspace is full (200 MB of 200 MB).")

    monkeypatch.setattr(workspace.Workspace, "check_quota", full)
    page.button(key="t.train").click().run()
    assert not page.exception
    assert space_of(page).run_ids() == []
    assert any("Delete" in str(e.value) and "Your runs" in str(e.value) for e in page.error)


def finished_run(space: workspace.Workspace, config: RunConfig, name: str | None = None) -> str:
    """A run folder as a finished run leaves it (no training needed to test the panel)."""
    run_dir = space.path / "runs" / name if name else space.new_run_dir()
    run_dir.mkdir(exist_ok=True)
    run_files.create_run(run_dir, config, panel.describe(config))
    run_files.write_json(run_dir / run_files.STATUS_FILE, {
        "state": "done", "updated": time.time(), "history": [
            {"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.9, "test_accuracy": 0.91}]})
    return run_dir.name


def test_repeat_with_3_seeds_clicked_three_times_makes_three_runs(page):
    at = page
    space = space_of(at)
    first = finished_run(space, RunConfig(epochs=1, train_subset=1_000))
    at.run()
    for _ in range(3):  # a triple click: the first makes the runs, the rest are the same click
        at.button(key=f"t.runs.seeds.{first}").click().run()
    time.sleep(panel.ACTION_GRACE_SECONDS)
    at.button(key=f"t.runs.seeds.{first}").click().run()  # a later click: Train's twin rule
    assert not at.exception
    seeded = [r for r in space.run_ids() if r != first]
    assert sorted(run_files.run_config(space.run_dir(r)).seed for r in seeded) == [1, 2, 3]
    assert [t.value for t in at.toast] == ["The runs with seeds 1, 2, 3 exist already: they are "
                                           "selected below."]
    assert [p.proto.text for p in at.get("progress")][0].endswith("used by 4 runs")
    for run_id in seeded:
        (space.run_dir(run_id) / run_files.STOP_FILE).write_text(run_files.CANCEL_REASON)


def test_delete_asks_first_and_the_panel_keeps_the_other_runs(page):
    at = page
    space = space_of(at)
    runs = [finished_run(space, RunConfig(epochs=1, seed=seed)) for seed in (1, 2, 3)]
    at.run()
    popovers = [p for p in at.get("popover") if "Delete" in str(p.proto)]
    assert len(popovers) == 3  # Delete is behind a popover that asks first
    at.button(key=f"t.runs.delete.{runs[1]}").click().run()
    assert not at.exception
    assert space.run_ids() == sorted([runs[0], runs[2]])
    assert [t.value for t in at.toast] == [f"Deleted {panel.describe(RunConfig(epochs=1, seed=2))}."]
    assert {b.key for b in at.button if b.key and ".delete." in b.key} == {
        f"t.runs.delete.{runs[0]}", f"t.runs.delete.{runs[2]}"}
    at.button(key=f"t.runs.delete.{runs[0]}").click()
    at.button(key=f"t.runs.delete.{runs[0]}").click().run()  # stale second click: nothing breaks
    assert not at.exception and space.run_ids() == [runs[2]]


def test_a_training_run_is_never_folded_into_the_older_runs(page):
    at = page
    space = space_of(at)
    oldest = "run-20200101-000000-aaaaaa"
    (space.path / "runs" / oldest).mkdir()
    run_files.create_run(space.path / "runs" / oldest, RunConfig(epochs=3), "the oldest run")
    run_files.write_json(space.path / "runs" / oldest / run_files.STATUS_FILE, {
        "state": "running", "updated": time.time() + 600, "history": [],
        "progress": {"epoch": 1, "step": 10, "fraction": 0.1, "train_loss": 1.0,
                     "samples_per_second": 1000.0}})
    for seed in range(1, 8):
        finished_run(space, RunConfig(epochs=1, seed=seed))
    at.run()
    assert not at.exception
    assert [e.label for e in at.expander] == ["1 older run"]
    assert not [b for b in at.expander[0].button if oldest in (b.key or "")]
    assert at.button(key=f"t.runs.stop.{oldest}")  # in view, above the fold
    (space.path / "runs" / oldest / run_files.STOP_FILE).touch()


def test_a_well_formed_link_to_no_workspace_says_so_and_starts_a_new_one(data_dir, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(Path(__file__).parent / "runs_panel_page.py"), default_timeout=120)
    at.query_params["ws"] = "A" * 22
    at.run()
    assert not at.exception
    assert any("No workspace was found" in str(w.value) for w in at.warning)
    assert at.session_state["workspace.token"] != "A" * 22
    assert not (tmp_path / "runs" / ("A" * 22)).exists()
    at.run()
    assert not any("No workspace was found" in str(w.value) for w in at.warning)  # said once


def test_plurals():
    assert widgets.plural(1, "run") == "1 run"
    assert widgets.plural(0, "epoch") == "0 epochs"
    assert widgets.plural(1_000, "run") == "1,000 runs"
