"""The shared run view's pieces on real runs: seed groups and bands, what differs, determinism."""

from __future__ import annotations

import statistics

import pytest

from course.engine.train import RunConfig
from course.runs import jobs, run_files
from course.ui import panel

SMALL = RunConfig(epochs=1, train_subset=1_280, batch_size=64)


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """One torch thread (see conftest)."""


def trained(parent, name: str, config: RunConfig) -> dict:
    folder = parent / name
    folder.mkdir()
    run_files.create_run(folder, config)
    assert jobs.execute(str(folder)) == "done"
    return run_files.status(folder)


def test_same_seed_twice_gives_identical_step_curves_and_history(tmp_path, data_dir):
    first, second = trained(tmp_path, "a", SMALL), trained(tmp_path, "b", SMALL)
    assert first["steps"] == second["steps"] and len(first["steps"]) == 2
    assert first["history"][0]["test_accuracy"] == second["history"][0]["test_accuracy"]
    other = trained(tmp_path, "c", RunConfig(**{**SMALL.to_dict(), "seed": 1}))
    assert other["steps"] != first["steps"]


def test_seed_band_is_the_mean_and_std_of_the_runs_numbers(tmp_path, data_dir):
    configs = panel.with_seeds(SMALL)
    assert [c.seed for c in configs] == [1, 2, 3]
    assert all(RunConfig(**{**c.to_dict(), "seed": 0}) == SMALL for c in configs)
    records = [trained(tmp_path, f"s{c.seed}", c) for c in configs]
    curves_of_group = [{"steps": r["steps"]} for r in records]
    band = panel._band(curves_of_group)
    for index, step in enumerate(band["loss"]["steps"]):
        values = [next(p["loss"] for p in r["steps"] if p["step"] == step) for r in records]
        assert band["loss"]["mean"][index] == pytest.approx(statistics.fmean(values))
        assert band["loss"]["spread"][index] == pytest.approx(statistics.stdev(values))
    groups = panel.seed_groups({f"r{c.seed}": c for c in configs}
                               | {"other": RunConfig(**{**SMALL.to_dict(), "lr": 3e-3})})
    assert sorted(len(members) for members in groups.values()) == [1, 3]


def test_differing_settings_lists_only_the_settings_that_differ():
    table = panel.differing_settings({
        "a": RunConfig(), "b": RunConfig(lr=3e-3, seed=1), "c": RunConfig(seed=2)})
    assert list(table.columns) == ["run", "lr", "seed"]
    assert table["seed"].tolist() == [0, 1, 2]
