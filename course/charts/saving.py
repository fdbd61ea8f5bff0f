"""Figures of the saving-and-loading lesson: the resume race and the checkpoint timeline."""

from __future__ import annotations

import plotly.graph_objects as go

from course.charts.figures import GREY, INK, _tidy, log_axis, look


def race_curves(uninterrupted: list[float], resumed: dict[str, list[float]], steps_per_epoch: int,
                crash_after: int, first_epoch: int) -> go.Figure:
    """Step losses from `first_epoch` on: the uninterrupted run, and each resume drawn over it."""
    start = (first_epoch - 1) * steps_per_epoch

    def epochs(count: int, offset: int) -> list[float]:
        return [(offset + index + 1) / steps_per_epoch for index in range(count)]

    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=epochs(len(uninterrupted) - start, start), y=uninterrupted[start:],
        name="uninterrupted", mode="lines", line=dict(color=INK, width=6), opacity=0.25))
    resume_start = crash_after * steps_per_epoch
    for index, (label, losses) in enumerate(resumed.items()):
        style = look(index + 1)
        figure.add_trace(go.Scatter(
            x=epochs(len(losses), resume_start), y=losses, name=label, mode="lines+markers",
            line=dict(color=style["color"], dash=style["dash"], width=2),
            marker=dict(symbol=style["symbol"], size=6, color=style["color"])))
    figure.add_vline(x=crash_after, line_dash="dot", line_color=GREY,
                     annotation_text=f"crash (last checkpoint: epoch {crash_after})",
                     annotation_position="top left")
    shown = uninterrupted[start:] + [loss for losses in resumed.values() for loss in losses]
    figure.update_layout(title="Training loss per step, resumed three ways",
                         xaxis_title="epoch", yaxis_title="loss (log scale)",
                         legend=dict(orientation="h", y=-0.25))
    figure.update_yaxes(**log_axis(shown))
    return _tidy(figure, height=420)


def timeline(val_accuracy: dict[int, float], test_accuracy: dict[int, float], best: int,
             chosen: int) -> go.Figure:
    """Validation and test accuracy per saved epoch; best.pt's epoch and the chosen one marked."""
    epochs = sorted(val_accuracy)
    figure = go.Figure()
    for index, (name, values) in enumerate((("validation (chooses best.pt)", val_accuracy),
                                            ("test (reported once)", test_accuracy))):
        style = look(index)
        figure.add_trace(go.Scatter(
            x=epochs, y=[values[e] for e in epochs], name=name, mode="lines+markers",
            line=dict(color=style["color"], dash=style["dash"]),
            marker=dict(symbol=style["symbol"], size=5, color=style["color"])))
    figure.add_vline(x=best, line_dash="dash", line_color=look(2)["color"],
                     annotation_text=f"best.pt: epoch {best}", annotation_position="bottom right")
    figure.add_vline(x=chosen, line_color=GREY, annotation_text=f"loaded: epoch {chosen}",
                     annotation_position="top left")
    figure.update_layout(title="Accuracy of every saved epoch", xaxis_title="epoch",
                         yaxis_title="accuracy", legend=dict(orientation="h", y=-0.25))
    return _tidy(figure, height=360)
