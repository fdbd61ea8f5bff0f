"""The tensors lesson's chart: matmul time against matrix size, per device, on log axes."""

from __future__ import annotations

import plotly.graph_objects as go

from course.charts import figures
from course.concepts.device_timing import Timing


def matmul_timing(timings: list[Timing]) -> go.Figure:
    """Microseconds per n x n matmul; on a GPU also with the CPU -> GPU copy of both inputs added."""
    series: dict[str, list[tuple[int, float]]] = {}
    for t in timings:
        series.setdefault(f"{t.device} matmul", []).append((t.size, t.median_seconds * 1e6))
        if t.transfer_seconds is not None:
            series.setdefault(f"{t.device} matmul + transfer", []).append(
                (t.size, (t.median_seconds + t.transfer_seconds) * 1e6))
    figure = go.Figure()
    for index, (name, points) in enumerate(series.items()):
        style = figures.look(index)
        figure.add_trace(go.Scatter(
            x=[n for n, _ in points], y=[us for _, us in points], name=name, mode="lines+markers",
            line=dict(color=style["color"], dash=style["dash"], width=3),
            marker=dict(symbol=style["symbol"], size=9, color=style["color"]),
            hovertemplate="n = %{x}: %{y:,.1f} µs<extra>" + name + "</extra>"))
    sizes = sorted({t.size for t in timings})
    values = [us for points in series.values() for _, us in points]
    figure.update_xaxes(type="log", tickvals=sizes, ticktext=[str(n) for n in sizes],
                        title="matrix size n (an n × n @ n × n product)")
    figure.update_yaxes(title="time per matmul (µs, median)", **figures.log_axis(values))
    figure.update_layout(legend=dict(orientation="h", y=1.15, x=0))
    return figures._tidy(figure, 340)
