"""The shuffle charts: one colour per setting in both, and a cue besides colour."""

from __future__ import annotations

from course.charts import shuffling
from course.concepts import batching
from course.concepts.teaching_datasets import SortedDataset


def race():
    return batching.race_both_ways(SortedDataset(n=128), epochs=2, range_batch_size=32)


def test_race_and_ranges_give_each_setting_the_same_colour_and_a_second_cue():
    losses, ranges = race()
    curves = {t.name: t for t in shuffling.race_figure(losses, 128).data}
    bars = dict(zip(["shuffle=False", "shuffle=True"], shuffling.ranges_figure(ranges).data))
    for setting in ("shuffle=False", "shuffle=True"):
        assert curves[setting].line.color == bars[setting].marker.color
        assert curves[setting].line.color == shuffling.LOOKS[setting]["color"]
        assert curves[setting].marker.color in (None, curves[setting].line.color)
    assert curves["shuffle=False"].line.color != curves["shuffle=True"].line.color
    assert curves["shuffle=False"].line.dash != curves["shuffle=True"].line.dash
    assert bars["shuffle=False"].marker.pattern.shape != bars["shuffle=True"].marker.pattern.shape


def test_race_figure_plots_every_step_and_names_the_sample_count():
    losses, _ = race()
    figure = shuffling.race_figure(losses, 128)
    assert [len(t.y) for t in figure.data] == [len(v) for v in losses.values()]
    assert "ALL 128 samples" in figure.layout.yaxis.title.text


def test_look_reads_the_setting_before_the_colon():
    assert shuffling.look("shuffle=True: each batch spans the range") == shuffling.LOOKS[
        "shuffle=True"]
