"""The capstone's figures: the Pareto chart of accuracy against size, the lr finder's curve,
and how alike the classes' average images are. Data in, figure out."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch

from course.charts.figures import BLUE, GREY, INK, ORANGE, RED, _tidy
from course.concepts.leaderboard import pareto_front


def pareto_chart(runs: list[dict], published: list[dict], budget: int = 100_000) -> go.Figure:
    """Accuracy against parameter count (log axis): the learner's runs (best-epoch validation
    accuracy) as blue circles, published results with a known size as labelled orange diamonds,
    the front of the best trade-offs as a line, and the parameter budget as a dashed line."""
    figure = go.Figure()
    mine = [r for r in runs if r.get("parameters") and r.get("val_accuracy") is not None]
    known = [p for p in published if p.get("parameters")]
    figure.add_trace(go.Scatter(
        x=[r["parameters"] for r in mine], y=[r["val_accuracy"] for r in mine],
        mode="markers", name="your runs (validation accuracy)",
        marker=dict(color=BLUE, size=11, symbol="circle", line=dict(color="white", width=1)),
        customdata=[[r["label"], r.get("test_accuracy") or float("nan")] for r in mine],
        hovertemplate="%{customdata[0]}<br>%{x:,} parameters<br>validation %{y:.2%}"
                      "<br>test %{customdata[1]:.2%}<extra></extra>"))
    figure.add_trace(go.Scatter(
        x=[p["parameters"] for p in known], y=[p["test_accuracy"] for p in known],
        mode="markers+text", name="published (test accuracy)",
        text=[("≤ " if p.get("bound") else "") + p["name"] for p in known],
        textposition="top center", textfont=dict(color=INK, size=11), cliponaxis=False,
        marker=dict(color=ORANGE, size=13, symbol="diamond", line=dict(color=INK, width=1)),
        hovertemplate="%{text}<br>%{x:,} parameters<br>test %{y:.1%}<extra></extra>"))
    points = ([(r["parameters"], r["val_accuracy"]) for r in mine]
              + [(p["parameters"], p["test_accuracy"]) for p in known])
    front = [points[i] for i in pareto_front(points)] if points else []
    if len(front) > 1:
        figure.add_trace(go.Scatter(x=[x for x, _ in front], y=[y for _, y in front],
                                    mode="lines", name="best trade-offs (Pareto front)",
                                    line=dict(color=GREY, dash="dot", width=2),
                                    hoverinfo="skip"))
    figure.add_vline(x=budget, line=dict(color=RED, dash="dash", width=2))
    figure.add_annotation(x=math.log10(budget), y=1, yref="paper", text="< 100K parameters",
                          showarrow=False, xanchor="right", yanchor="top",
                          font=dict(color=RED, size=12))
    others = [p for p in published if not p.get("parameters")]
    for index, row in enumerate(sorted(others, key=lambda p: p["test_accuracy"])):
        figure.add_hline(y=row["test_accuracy"], line=dict(color=GREY, width=1, dash="dot"))
        # alternately at the right and the left edge: close accuracies' labels do not overlap
        side = index % 2
        figure.add_annotation(x=1 - side, xref="paper", y=row["test_accuracy"], showarrow=False,
                              text=f"{row['name']} {row['test_accuracy']:.3f}",
                              xanchor="left" if side else "right", yanchor="bottom",
                              font=dict(color=INK, size=10))
    sizes = [x for x, _ in points] + [budget]
    figure.update_xaxes(type="log", title_text="trainable parameters (log scale)",
                        range=[math.log10(min(sizes)) - 0.4, math.log10(max(sizes)) + 0.4])
    accuracies = [y for _, y in points] + [p["test_accuracy"] for p in published]
    figure.update_yaxes(title_text="accuracy", tickformat=".0%",
                        range=[min(accuracies) - 0.02, max(accuracies) + 0.015])
    figure.update_layout(legend=dict(orientation="h", y=-0.2, x=0))
    return _tidy(figure, 520)


def lr_sweep_chart(sweep: dict, suggested: float | None = None,
                   confirm: list[float] | None = None) -> go.Figure:
    """The whole loss-vs-lr curve (raw and smoothed), the suggestion, and the confirm rates."""
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=sweep["lr"], y=sweep["loss"], mode="markers", name="loss per batch",
                                marker=dict(color=GREY, size=5, symbol="circle-open")))
    figure.add_trace(go.Scatter(x=sweep["lr"], y=sweep["smoothed"], mode="lines",
                                name="smoothed loss", line=dict(color=BLUE, width=3)))
    for lr in confirm or []:
        figure.add_vline(x=lr, line=dict(color=ORANGE, dash="dot", width=2))
    if suggested is not None:
        figure.add_vline(x=suggested, line=dict(color=RED, dash="dash", width=2))
        figure.add_annotation(x=math.log10(suggested), y=1, yref="paper", showarrow=False,
                              text=f"suggested {suggested:.1e}", xanchor="left", yanchor="top",
                              font=dict(color=RED))
    top = min(max(sweep["smoothed"]), 3 * min(sweep["smoothed"]) + 1)
    figure.update_xaxes(type="log", title_text="learning rate (log scale)")
    figure.update_yaxes(title_text="training loss", range=[0, top * 1.1])
    figure.update_layout(legend=dict(orientation="h", y=-0.25, x=0))
    return _tidy(figure, 360)


def similarity_heatmap(similarity: torch.Tensor, names: list[str]) -> go.Figure:
    """Cosine similarity of the classes' average images, the number in every cell."""
    values = similarity.tolist()
    figure = go.Figure(go.Heatmap(
        z=values, x=names, y=names, colorscale="Blues", zmin=0.5, zmax=1, showscale=False,
        text=[[f"{v:.2f}" for v in row] for row in values], texttemplate="%{text}",
        hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"))
    figure.update_yaxes(autorange="reversed")
    return _tidy(figure, 460)
