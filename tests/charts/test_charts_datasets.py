"""The datasets page's figures: right titles at any N, readable log ticks, binned histograms."""

from __future__ import annotations

import json

import plotly.io
import pytest
import torch

from course.charts import figures
from course.concepts import batching


def test_batch_bars_title_counts_every_iteration_not_just_the_bars_drawn():
    figure = figures.batch_size_bars(batching.batch_sizes(100_000, 1), 1)
    assert figure.layout.title.text == "100,000 iterations in one epoch (bars: the first 199 and the last)"
    assert len(figure.data[0].y) == 200


def test_batch_bars_keep_the_partial_last_batch_visible_at_large_n():
    figure = figures.batch_size_bars(batching.batch_sizes(60_000, 64), 64)
    assert list(figure.data[0].y[-2:]) == [64, 32]
    assert figure.data[0].customdata[-1] == 938
    assert figure.data[0].marker.color[-1] == figures.ORANGE


def test_batch_bars_for_a_small_epoch_show_every_batch():
    figure = figures.batch_size_bars(batching.batch_sizes(100, 8), 8)
    assert figure.layout.title.text == "13 iterations in one epoch"
    assert list(figure.data[0].y) == [8] * 12 + [4]


def test_log_ticks_are_1_2_5_per_decade_inside_the_range():
    assert figures.log_ticks([0.03, 7.0]) == pytest.approx([0.05, 0.1, 0.2, 0.5, 1, 2, 5])


def test_log_curves_label_0_5_and_0_05_and_5_differently():
    figure = figures.curves({"a": [6.0, 0.5, 0.04]}, log_y=True)
    labels = list(figure.layout.yaxis.ticktext)
    assert {"0.05", "0.5", "5"} <= set(labels)
    assert len(labels) == len(set(labels))


def test_curves_legend_sits_below_the_plot_clear_of_the_title():
    figure = figures.curves({"a": [1.0, 2.0], "b": [2.0, 1.0]}, title="t")
    assert figure.layout.legend.y < 0


def test_pixel_histograms_send_bins_not_pixels():
    before = torch.rand(2000, 28, 28)
    after = (before - 0.1307) / 0.3081
    figure = figures.pixel_histograms(before, after)
    for trace in figure.data:
        assert len(trace.y) == 50
        assert sum(trace.y) == pytest.approx(2000 * 28 * 28)
    assert len(plotly.io.to_json(figure)) < 50_000  # was 2 × 1.5 million raw values


def test_batch_size_comparison_shows_train_and_held_out_accuracy_side_by_side():
    rows = [{"batch size": b, "activation memory (KB)": b * 7.0, "samples / s": 1000.0 * b,
             "gradient noise": 1 / b, "train accuracy": 0.9, "held-out accuracy": 0.8}
            for b in (8, 64)]
    figure = figures.batch_size_comparison(rows)
    names = [trace.name for trace in figure.data if trace.name]
    assert names == ["train accuracy", "held-out accuracy"]
    assert json.loads(plotly.io.to_json(figure))["layout"]["barmode"] == "group"
