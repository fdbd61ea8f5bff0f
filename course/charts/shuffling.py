"""The shuffle lesson's two charts: each setting keeps one colour and a cue besides colour."""

from __future__ import annotations

import plotly.graph_objects as go

from course.charts import figures

LOOKS = {"shuffle=False": dict(color=figures.ORANGE, dash="dash", hatch="/"),
         "shuffle=True": dict(color=figures.BLUE, dash="solid", hatch="")}


def look(name: str) -> dict:
    """The look of a series named "shuffle=…" or "shuffle=…: what it shows"."""
    return LOOKS[name.split(":")[0]]


def ranges_figure(ranges: dict[str, list[tuple[float, float]]]) -> go.Figure:
    """Each batch's target range, one panel per setting, hatched where shuffle is off."""
    figure = figures.batch_ranges(ranges)
    for trace, name in zip(figure.data, ranges, strict=True):
        style = look(name)
        trace.update(marker_color=style["color"], marker_pattern=dict(
            shape=style["hatch"], fillmode="overlay", fgcolor="white", solidity=0.3))
    return figure


def race_figure(losses: dict[str, list[float]], samples: int) -> go.Figure:
    """The loss on all the data after every step, dashed where shuffle is off."""
    figure = figures.curves(losses, y_title=f"loss on ALL {samples} samples (log)", log_y=True,
                            title="Same model, same data, same seed: only shuffle differs")
    for trace in figure.data:
        style = look(trace.name)
        # markers too: the curve's own markers must not keep another setting's colour
        trace.update(line_color=style["color"], line_dash=style["dash"],
                     marker_color=style["color"])
    return figure
