"""The gpu-training lesson's charts: step time against work per step, the GradScaler's scale over
steps, float16's effect on real gradients, and one step's time by phase."""

from __future__ import annotations

import plotly.graph_objects as go

from course.charts import figures
from course.concepts import grad_scaling
from course.concepts.step_timing import StepTiming, step_flops


def step_times(timings: list[StepTiming], reference: list[StepTiming] | None = None,
               reference_device: str = "", wins_at: float | None = None) -> go.Figure:
    """Milliseconds per training step against GFLOP per step, one curve per setting, log axes;
    a reference sweep from another machine is drawn beside (its names say where it ran)."""
    series: dict[str, list[tuple[float, float, str]]] = {}
    for t in timings:
        series.setdefault(f"{t.label} (here)", []).append(
            (step_flops(t.width, t.batch) / 1e9, t.median_seconds * 1e3, f"width {t.width}, batch {t.batch}"))
    for t in reference or []:
        series.setdefault(f"{t.label} (measured on {reference_device})", []).append(
            (step_flops(t.width, t.batch) / 1e9, t.median_seconds * 1e3, f"width {t.width}, batch {t.batch}"))
    figure = go.Figure()
    for index, (name, points) in enumerate(series.items()):
        points.sort()
        style = figures.look(index)
        figure.add_trace(go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], text=[p[2] for p in points],
            name=name, mode="lines+markers",
            line=dict(color=style["color"], dash=style["dash"], width=2),
            marker=dict(symbol=style["symbol"], size=8, color=style["color"]),
            hovertemplate="%{text}: %{y:,.3f} ms<extra>" + name + "</extra>"))
    if wins_at is not None:
        figure.add_vline(x=wins_at, line=dict(color=figures.INK, dash="dot"),
                         annotation_text="the GPU starts to win", annotation_position="top left")
    values = [p[1] for points in series.values() for p in points]
    work = [p[0] for points in series.values() for p in points]
    figure.update_xaxes(title="work per training step (GFLOP, forward + backward)",
                        **figures.log_axis(work))
    figure.update_yaxes(title="time per step (ms, median)", **figures.log_axis(values))
    figure.update_layout(legend=dict(orientation="h", y=-0.25, yanchor="top", x=0))
    return figures._tidy(figure, 420)


def scale_over_steps(history: list[dict]) -> go.Figure:
    """The GradScaler's scale per step (log2 axis); skipped steps marked with a red cross."""
    steps = [row["step"] for row in history]
    figure = go.Figure(go.Scatter(
        x=steps, y=[row["scale"] for row in history], name="scale used", mode="lines+markers",
        line=dict(color=figures.BLUE, shape="hv", width=2), marker=dict(size=5, color=figures.BLUE),
        hovertemplate="step %{x}: scale %{y:,.0f}<extra></extra>"))
    skipped = [row for row in history if row["skipped"]]
    figure.add_trace(go.Scatter(
        x=[row["step"] for row in skipped], y=[row["scale"] for row in skipped],
        name="step skipped (inf/NaN gradient; scale halves)", mode="markers",
        marker=dict(symbol="x", size=12, color=figures.RED),
        hovertemplate="step %{x} skipped at scale %{y:,.0f}<extra></extra>"))
    figure.update_yaxes(type="log", dtick=0.30103 * 2, exponentformat="power", title="loss scale")
    figure.update_xaxes(title="training step")
    figure.update_layout(legend=dict(orientation="h", y=-0.25, yanchor="top", x=0))
    return figures._tidy(figure, 340)


def fp16_histogram(gradients, scale: float) -> go.Figure:
    """log2|gradient| counts in float32, through float16 unscaled, and through float16 after
    scaling; the band where float16 rounds to zero or keeps few bits is shaded."""
    versions = {"float32 (the real gradients)": gradients,
                "float16, no scaling": grad_scaling.through_fp16(gradients, 1.0),
                f"float16, scaled by {scale:,.0f} then unscaled": grad_scaling.through_fp16(gradients, scale)}
    figure = go.Figure()
    for index, (name, values) in enumerate(versions.items()):
        hist = grad_scaling.log2_histogram(values)
        centres = [edge + 0.5 for edge in hist["edges"][:-1]]
        figure.add_trace(go.Bar(
            x=[-42.5, *centres], y=[hist["zeros"], *hist["counts"]], name=f"{name}: {hist['zeros']:,} zeros",
            marker_color=figures.PALETTE[index], marker_pattern_shape=["", "/", "."][index],
            hovertemplate="2^%{x:.1f}: %{y:,}<extra>" + name + "</extra>"))
    log2_smallest = -24
    figure.add_vrect(x0=-41, x1=log2_smallest - 1, fillcolor=figures.RED, opacity=0.08, line_width=0,
                     annotation_text="fp16 rounds to 0", annotation_position="top left")
    figure.add_vrect(x0=log2_smallest - 1, x1=-14, fillcolor=figures.ORANGE, opacity=0.08,
                     line_width=0, annotation_text="fp16 subnormal: few bits",
                     annotation_position="top left")
    figure.update_xaxes(title="log2 |gradient| (the leftmost bar counts exact zeros)",
                        tickvals=[-42.5, -40, -30, -24, -14, -10, 0],
                        ticktext=["0", "2⁻⁴⁰", "2⁻³⁰", "2⁻²⁴", "2⁻¹⁴", "2⁻¹⁰", "1"])
    figure.update_yaxes(type="log", title="gradients (log scale: a handful of zeros shows)")
    figure.update_layout(barmode="group", legend=dict(orientation="h", y=-0.3, yanchor="top", x=0))
    return figures._tidy(figure, 380)


def phase_bars(rows: list[dict], title: str) -> go.Figure:
    """One step's time by phase, as horizontal bars in milliseconds."""
    figure = go.Figure(go.Bar(
        y=[row["phase"] for row in rows], x=[row["ms"] for row in rows], orientation="h",
        marker_color=figures.BLUE, text=[row["share of the step"] for row in rows],
        textposition="outside", hovertemplate="%{y}: %{x:.3f} ms<extra></extra>"))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="milliseconds in the profiled step")
    figure.update_layout(title=title)
    return figures._tidy(figure, 280)
