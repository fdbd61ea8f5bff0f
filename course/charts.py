"""Plotly figures for the lesson pages: data in, figure out, no Streamlit calls."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

BLUE, ORANGE, GREEN, RED, GREY = "#3b6ea8", "#e07b39", "#3a9a5b", "#c8423b", "#9aa5b1"


def _tidy(figure: go.Figure, height: int = 320) -> go.Figure:
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                         paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return figure


def batch_size_bars(sizes: list[int], batch_size: int) -> go.Figure:
    """One bar per iteration; a partial last batch stands out in orange."""
    colors = [BLUE if size == batch_size else ORANGE for size in sizes]
    figure = go.Figure(go.Bar(x=list(range(1, len(sizes) + 1)), y=sizes, marker_color=colors,
                              hovertemplate="iteration %{x}: %{y} samples<extra></extra>"))
    figure.update_layout(title=f"{len(sizes)} iterations in one epoch",
                         xaxis_title="iteration", yaxis_title="samples in the batch",
                         yaxis_range=[0, max([batch_size, *sizes]) * 1.1], bargap=0.15)
    return _tidy(figure, 280)


def batch_ranges(ranges: dict[str, list[tuple[float, float]]]) -> go.Figure:
    """For each loader, a vertical bar per batch spanning the targets it contains."""
    figure = make_subplots(rows=1, cols=len(ranges), subplot_titles=list(ranges), shared_yaxes=True)
    for column, (name, spans) in enumerate(ranges.items(), start=1):
        lows = [low for low, _ in spans]
        figure.add_trace(go.Bar(x=list(range(1, len(spans) + 1)),
                                y=[high - low for low, high in spans], base=lows,
                                marker_color=[BLUE, ORANGE][(column - 1) % 2], showlegend=False,
                                hovertemplate="batch %{x}<extra></extra>"), row=1, col=column)
        figure.update_xaxes(title_text="batch", row=1, col=column)
    figure.update_yaxes(title_text="target values inside the batch", row=1, col=1)
    return _tidy(figure, 300)


def curves(series: dict[str, list[float]], x_title: str = "training step",
           y_title: str = "loss", log_y: bool = False, title: str | None = None) -> go.Figure:
    """Several named curves overlaid on one plot."""
    figure = go.Figure()
    palette = [ORANGE, BLUE, GREEN, RED, GREY]
    for index, (name, values) in enumerate(series.items()):
        figure.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=name,
                                    mode="lines", line=dict(color=palette[index % len(palette)])))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title,
                         legend=dict(orientation="h", y=1.12, x=0))
    if log_y:
        figure.update_yaxes(type="log")
    return _tidy(figure, 340)


def image_grid(images: torch.Tensor, titles: list[str], columns: int = 8,
               height: int | None = None) -> go.Figure:
    """A grid of grayscale images [N, 28, 28] (any range) with a title over each."""
    images = images.detach().float().cpu()
    rows = -(-len(images) // columns)
    figure = px.imshow(images.numpy(), facet_col=0, facet_col_wrap=columns,
                       color_continuous_scale="gray", binary_string=False,
                       facet_row_spacing=0.06 if rows > 1 else 0.0, facet_col_spacing=0.01)
    for annotation in figure.layout.annotations:
        index = int(annotation.text.split("=")[1])
        annotation.text = titles[index]
    figure.update_xaxes(showticklabels=False).update_yaxes(showticklabels=False)
    figure.update_layout(coloraxis_showscale=False)
    return _tidy(figure, height or 120 + 110 * rows)


def pixel_histograms(before: torch.Tensor, after: torch.Tensor) -> go.Figure:
    """Distribution of pixel values after ToTensor alone and after Normalize."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=(
        f"ToTensor(): [0, 1], mean {before.mean():.3f}, std {before.std():.3f}",
        f"+ Normalize: mean {after.mean():.3f}, std {after.std():.3f}"))
    for column, (values, color) in enumerate(((before, GREY), (after, BLUE)), start=1):
        figure.add_trace(go.Histogram(x=values.flatten().numpy(), nbinsx=50, marker_color=color,
                                      showlegend=False), row=1, col=column)
        figure.update_xaxes(title_text="pixel value", row=1, col=column)
    figure.update_yaxes(type="log", title_text="pixels (log scale)", row=1, col=1)
    figure.update_yaxes(type="log", row=1, col=2)
    return _tidy(figure, 300)


def batch_size_comparison(rows: list[dict]) -> go.Figure:
    """Memory, speed, gradient noise and accuracy for each batch size, one small panel each."""
    metrics = ["activation memory (KB)", "samples / s", "gradient noise", "held-out accuracy"]
    figure = make_subplots(rows=1, cols=len(metrics), subplot_titles=metrics)
    labels = [f"B={row['batch size']}" for row in rows]
    for column, metric in enumerate(metrics, start=1):
        figure.add_trace(go.Bar(x=labels, y=[row[metric] for row in rows], showlegend=False,
                                marker_color=[BLUE, GREEN, ORANGE, RED][column - 1]),
                         row=1, col=column)
    return _tidy(figure, 300)


def history_curves(runs: dict[str, list[dict]]) -> go.Figure:
    """Loss and accuracy per epoch, train (dashed) and test (solid), for one or more runs."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    palette = [BLUE, ORANGE, GREEN, RED, GREY]
    for index, (name, history) in enumerate(runs.items()):
        color = palette[index % len(palette)]
        epochs = [row["epoch"] for row in history]
        for column, metric in enumerate(("loss", "accuracy"), start=1):
            for split, dash in (("train", "dash"), ("test", "solid")):
                values = [row.get(f"{split}_{metric}") for row in history]
                figure.add_trace(go.Scatter(
                    x=epochs, y=values, mode="lines+markers", name=f"{name} · {split}",
                    line=dict(color=color, dash=dash), legendgroup=name,
                    showlegend=column == 1), row=1, col=column)
        figure.update_xaxes(title_text="epoch", dtick=1)
    figure.update_layout(legend=dict(orientation="h", y=-0.25, x=0))
    return _tidy(figure, 360)


def probability_bars(probabilities, true_class: int | None = None,
                     class_names: list[str] | None = None) -> go.Figure:
    """One bar per class; the true class in green, the others in blue."""
    values = [float(p) for p in probabilities]
    names = class_names or [str(i) for i in range(len(values))]
    colors = [GREEN if i == true_class else BLUE for i in range(len(values))]
    figure = go.Figure(go.Bar(x=names, y=values, marker_color=colors,
                              text=[f"{v:.2f}" for v in values], textposition="outside"))
    figure.update_layout(yaxis_range=[0, 1.12], yaxis_title="probability", xaxis_title="class",
                         xaxis_type="category")
    return _tidy(figure, 300)


def confusion_heatmap(matrix: torch.Tensor, class_names: list[str]) -> go.Figure:
    """Counts of (true, predicted); an invisible marker per cell makes every cell clickable."""
    size = len(class_names)
    counts = matrix.tolist()
    off_diagonal = [[0 if t == p else counts[t][p] for p in range(size)] for t in range(size)]
    figure = go.Figure(go.Heatmap(z=off_diagonal, x=list(range(size)), y=list(range(size)),
                                  colorscale="Reds", showscale=False, hoverinfo="skip"))
    xs, ys, texts, custom, ink = [], [], [], [], []
    darkest = max(max(row) for row in off_diagonal) or 1
    for t in range(size):
        for p in range(size):
            xs.append(p)
            ys.append(t)
            texts.append(str(counts[t][p]))
            custom.append([t, p])
            ink.append("white" if off_diagonal[t][p] > 0.5 * darkest else "#22303c")
    figure.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=texts, customdata=custom,
        marker=dict(size=26, opacity=0.01, color=GREY),
        textfont=dict(size=12, color=ink),
        hovertemplate="true %{customdata[0]}, predicted %{customdata[1]}: %{text}<extra></extra>"))
    figure.update_xaxes(title_text="predicted", tickvals=list(range(size)), ticktext=class_names,
                        range=[-0.5, size - 0.5])
    figure.update_yaxes(title_text="true", tickvals=list(range(size)), ticktext=class_names,
                        range=[size - 0.5, -0.5])
    figure.update_layout(showlegend=False)
    return _tidy(figure, 480)


def per_class_bars(accuracies, class_names: list[str]) -> go.Figure:
    values = [float(a) for a in accuracies]
    figure = go.Figure(go.Bar(x=class_names, y=values, marker_color=BLUE,
                              text=[f"{v:.1%}" for v in values], textposition="outside"))
    figure.update_layout(yaxis_range=[min(values) - 0.05, 1.01], yaxis_title="accuracy",
                         xaxis_type="category", xaxis_title="true class")
    return _tidy(figure, 300)


def sweep(series: dict[str, list[float]], x_key: str, x_title: str, y_title: str) -> go.Figure:
    """Curves over a shared x axis given under x_key."""
    figure = go.Figure()
    palette = [BLUE, RED, GREEN, ORANGE]
    names = [name for name in series if name != x_key]
    for index, name in enumerate(names):
        figure.add_trace(go.Scatter(x=series[x_key], y=series[name], name=name, mode="lines",
                                    line=dict(color=palette[index % len(palette)], width=3)))
    figure.update_layout(xaxis_title=x_title, yaxis_title=y_title,
                         legend=dict(orientation="h", y=1.15, x=0))
    return _tidy(figure, 320)
