"""The saving lesson's figures carry the race's real numbers and mark the crash and best epoch."""

from __future__ import annotations

from course.charts import saving


def test_race_curves_overlay_each_resume_from_the_crash():
    uninterrupted = [1.0 / (step + 1) for step in range(50)]
    resumed = {"a": [0.5] * 10, "c": uninterrupted[40:]}
    figure = saving.race_curves(uninterrupted, resumed, steps_per_epoch=5, crash_after=8,
                                first_epoch=3)
    first, a, c = figure.data
    assert list(first.y) == uninterrupted[10:] and first.x[0] == 2.2
    assert a.x[0] == 8.2 and list(c.y) == uninterrupted[40:]
    assert figure.layout.yaxis.type == "log"
    assert figure.layout.shapes[0].x0 == 8


def test_timeline_marks_best_and_loaded_epochs():
    val = {1: 0.5, 2: 0.8, 3: 0.7}
    figure = saving.timeline(val, {1: 0.4, 2: 0.7, 3: 0.75}, best=2, chosen=3)
    assert list(figure.data[0].y) == [0.5, 0.8, 0.7]
    assert [shape.x0 for shape in figure.layout.shapes] == [2, 3]
    assert "best.pt: epoch 2" in [a.text for a in figure.layout.annotations]
