"""The capstone's figures carry the numbers they are given."""

from __future__ import annotations

import torch

from course.charts import fashion
from course.concepts import fashion_baselines as fb


def test_pareto_chart_places_runs_by_validation_and_labels_published_points_and_the_budget():
    runs = [{"label": "mine", "parameters": 50_000, "val_accuracy": 0.88, "test_accuracy": 0.87},
            {"label": "big", "parameters": 500_000, "val_accuracy": 0.90, "test_accuracy": 0.89}]
    figure = fashion.pareto_chart(runs, fb.PUBLISHED)
    mine, published = figure.data[0], figure.data[1]
    assert list(mine.y) == [0.88, 0.90]
    assert "MLP 256-128-100" in published.text and "≤ 2 conv, under 100K parameters" in published.text
    assert 247_766 in published.x
    assert any(shape.x0 == 100_000 for shape in figure.layout.shapes)
    assert any(a.text == "< 100K parameters" for a in figure.layout.annotations)
    front = next(trace for trace in figure.data if trace.name.startswith("best trade-offs"))
    assert list(front.x) == sorted(front.x)


def test_lr_chart_draws_the_whole_curve_and_marks_suggestion_and_confirm_rates():
    sweep = {"lr": [1e-5, 1e-4, 1e-3, 1e-2], "loss": [2.3, 2.0, 1.0, 5.0],
             "smoothed": [2.3, 2.1, 1.5, 3.0]}
    figure = fashion.lr_sweep_chart(sweep, 1e-3, [3e-4, 1e-3, 3e-3])
    assert list(figure.data[0].y) == sweep["loss"] and list(figure.data[1].y) == sweep["smoothed"]
    assert len(figure.layout.shapes) == 4


def test_similarity_heatmap_shows_every_value():
    figure = fashion.similarity_heatmap(torch.eye(10), fb.CLASS_NAMES)
    assert figure.data[0].text[0][0] == "1.00" and list(figure.data[0].x) == fb.CLASS_NAMES
