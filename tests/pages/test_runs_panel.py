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

from course.runs import jobs, panel, workspace
from course.train import RunConfig

pytestmark = pytest.mark.slow


@pytest.fixture
def page(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COURSE_TRAINING_SLOTS", "1")
    monkeypatch.setattr("course.devices.usable_cores", lambda: 1)
    panel.job_runner.clear()
    at = AppTest.from_file(str(Path(__file__).parent / "runs_panel_page.py"), default_timeout=120)
    at.run()
    assert not at.exception
    yield at
    for run_dir in (tmp_path / "runs").glob("*/runs/*"):
        (run_dir / jobs.STOP_FILE).touch()
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

    wait_for(at, lambda: jobs.status(space.run_dir(first))["state"] == "running"
             and jobs.status(space.run_dir(first)).get("progress"), 180, "the first run to train")
    assert jobs.status(space.run_dir(second))["state"] == "queued"
    assert "Position 1 in the queue" in texts(at)

    at.button(key=f"t.runs.cancel.{second}").click().run()
    assert jobs.status(space.run_dir(second))["state"] == "cancelled"
    assert not at.exception

    at.button(key=f"t.runs.stop.{first}").click().run()
    asked = time.monotonic()
    assert "stopping…" in texts(at)
    while jobs.status(space.run_dir(first))["state"] == "running":
        assert time.monotonic() - asked < 5, "the run did not stop"
        time.sleep(0.05)
    took = time.monotonic() - asked
    assert took < 1.0  # one training step and the final save
    assert jobs.status(space.run_dir(first))["state"] == "stopped"
    at.run()
    assert "⏹️ stopped" in texts(at)

    used = space.used_bytes()
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
    wait_for(at, lambda: jobs.status(space.run_dir(first))["state"] == "done", 300,
             "the run to finish")
    at.button(key=f"t.runs.seeds.{first}").click().run()
    seeded = [r for r in space.run_ids() if r != first]
    assert sorted(jobs.run_config(space.run_dir(r)).seed for r in seeded) == [1, 2, 3]
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
    assert label == "improved MLP · B=128 · p=0.5 · wd=0.0001 · seed=2 · 1,000 images"


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
    assert [jobs.run_config(space.run_dir(r)).epochs for r in space.run_ids()] == [2]
    at.button(key=f"t.runs.cancel.{space.run_ids()[0]}").click().run()


def test_a_full_workspace_points_at_the_runs_panel_and_makes_no_run(page, monkeypatch):
    def full(self, extra_bytes=0):
        raise workspace.WorkspaceError("Your workspace is full (200 MB of 200 MB).")

    monkeypatch.setattr(workspace.Workspace, "check_quota", full)
    page.button(key="t.train").click().run()
    assert not page.exception
    assert space_of(page).run_ids() == []
    assert any("Delete" in str(e.value) and "Your runs" in str(e.value) for e in page.error)
