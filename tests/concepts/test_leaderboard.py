"""The leaderboard ranks by the best epoch's validation accuracy, never by test."""

from __future__ import annotations

import pytest

from course.concepts import fashion_baselines as fb
from course.concepts import leaderboard
from course.engine.train import Run, RunConfig


def entry(run_id, val, test, params=1000):
    history = [{"epoch": 1, "val_accuracy": val, "test_accuracy": test, "seconds": 2.0}]
    return leaderboard.run_entry(run_id, run_id, {"model": "mlp-bn"},
                                 {"history": history, "params": params, "state": "done"})


def test_runs_are_ranked_by_validation_accuracy_even_when_test_says_otherwise():
    runs = [entry("a", val=0.90, test=0.85), entry("b", val=0.86, test=0.91)]
    board = leaderboard.ranked(runs, [])
    assert [(row["run"], row["rank"]) for row in board] == [("a", 1), ("b", 2)]


def test_the_best_epoch_is_chosen_on_validation_and_its_own_test_accuracy_is_reported():
    history = [{"epoch": 1, "val_accuracy": 0.80, "test_accuracy": 0.79, "seconds": 1.5},
               {"epoch": 2, "val_accuracy": 0.86, "test_accuracy": 0.84, "seconds": 1.5},
               {"epoch": 3, "val_accuracy": 0.86, "test_accuracy": 0.88, "seconds": 1.0},
               {"epoch": 4, "val_accuracy": 0.83, "test_accuracy": 0.89, "seconds": 1.0}]
    row = leaderboard.run_entry("r", "r", {"model": "cnn", "augment": True},
                                {"history": history, "params": 5, "state": "done"})
    assert (row["best_epoch"], row["val_accuracy"], row["test_accuracy"]) == (2, 0.86, 0.84)
    assert row["seconds"] == 5.0 and row["augmentation"] and row["epochs"] == 4


def test_published_results_sit_among_the_runs_unnumbered_and_runs_without_validation_come_last():
    no_validation = leaderboard.run_entry("old", "old", {"model": "mlp"}, {"history": [
        {"epoch": 1, "test_accuracy": 0.99, "seconds": 1.0}], "params": 10})
    board = leaderboard.ranked([entry("a", 0.90, 0.89), entry("b", 0.85, 0.84), no_validation],
                               fb.PUBLISHED)
    names = [row["label"] for row in board]
    assert names.index("MLP 256-128-100") == names.index("a") + 1  # 0.883 between 0.90 and 0.85
    assert names.index("b") < names.index("Humans (no fashion expertise)")
    assert board[-1]["run"] == "old" and board[-1]["rank"] is None
    assert all(row["rank"] is None for row in board if row["published"])
    budget = next(row for row in board if row["label"] == "2 conv, under 100K parameters")
    assert budget["bound"] and budget["parameters"] == 100_000
    assert [row["rank"] for row in board if not row["published"]][:2] == [1, 2]


def test_a_baseline_counts_as_beaten_only_by_the_reported_test_accuracy():
    run = entry("a", val=0.95, test=0.89)
    beaten = leaderboard.baselines_beaten(run, fb.PUBLISHED)
    assert beaten == ["Humans (no fashion expertise)", "MLP 256-128-100"]


def test_pareto_front_keeps_only_points_no_other_beats_on_size_and_accuracy():
    points = [(100, 0.80), (200, 0.85), (150, 0.84), (300, 0.84), (1000, 0.95), (120, 0.79)]
    assert leaderboard.pareto_front(points) == [0, 2, 1, 4]


def test_a_real_short_run_becomes_a_leaderboard_line(data_dir):
    config = RunConfig(dataset="fashion-mnist", model="mlp-bn", epochs=2, train_subset=1_000,
                       validation=1_000, hidden=(32,))
    run = Run(config)
    list(run.events())
    params = sum(p.numel() for p in run.model.parameters())
    row = leaderboard.run_entry("real", "real", config.to_dict(),
                                {"history": run.history.epochs, "params": params, "state": "done"})
    best = run.history.epochs[run.history.best_epoch - 1]
    assert row["best_epoch"] == run.history.best_epoch
    assert row["test_accuracy"] == best["test_accuracy"]
    assert row["val_accuracy"] == pytest.approx(max(r["val_accuracy"] for r in run.history.epochs))
    assert row["parameters"] == 784 * 32 + 32 + 2 * 32 + 32 * 10 + 10
