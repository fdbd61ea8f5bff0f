"""Figures of the training-loop lesson: the moving fit, the loss landscape, the playground."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from course.charts.figures import BLUE, GREEN, GREY, INK, ORANGE, RED, _tidy, log_axis, look

ENDS = [-1.0, 1.0]  # the regression's x range: a line is drawn by its two ends


def _line_y(w: float, b: float) -> list[float]:
    return [w * end + b for end in ENDS]


def fit_animation(x, y, frames: list[tuple[float, float, float]], ghost=None,
                  every: int | None = None, title: str = "") -> go.Figure:
    """The points with the fitted line, beside the loss curve, animated step by step in the
    browser (plotly frames: playing it costs the server nothing). `ghost` is a faint same-seed
    correct run drawn under a buggy one."""
    losses = [f[2] for f in frames]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("the fit", "MSE loss"),
                           horizontal_spacing=0.12)
    figure.add_scatter(x=x.view(-1).tolist(), y=y.view(-1).tolist(), mode="markers", name="data",
                       marker=dict(color=GREY, size=6), row=1, col=1)
    if ghost is not None:
        figure.add_scatter(x=ENDS, y=_line_y(*ghost[-1][:2]), mode="lines", name="ghost: correct loop",
                           line=dict(color=GREEN, width=6, dash="dot"), opacity=0.35, row=1, col=1)
        figure.add_scatter(x=list(range(1, len(ghost) + 1)), y=[f[2] for f in ghost], mode="lines",
                           name="ghost loss", line=dict(color=GREEN, width=4, dash="dot"),
                           opacity=0.35, showlegend=False, row=1, col=2)
    figure.add_scatter(x=ENDS, y=_line_y(*frames[-1][:2]), mode="lines", name="fit",
                       line=dict(color=BLUE, width=3), row=1, col=1)
    figure.add_scatter(x=list(range(1, len(losses) + 1)), y=losses, mode="lines", name="loss",
                       line=dict(color=ORANGE, width=2), showlegend=False,
                       row=1, col=2)
    moving = [len(figure.data) - 2, len(figure.data) - 1]
    every = every or max(1, len(frames) // 20)  # ~20 frames: each one costs the server to build
    shown = sorted({*range(0, len(frames), every), len(frames) - 1})
    figure.frames = [go.Frame(name=str(i + 1), traces=moving, data=[
        go.Scatter(x=ENDS, y=_line_y(*frames[i][:2])),
        go.Scatter(x=list(range(1, i + 2)), y=losses[:i + 1])],
        layout=dict(title_text=f"{title}step {i + 1}: y = {frames[i][0]:.2f}x + {frames[i][1]:.2f}"))
        for i in shown]
    last = frames[-1]
    figure.update_layout(
        title=f"{title}step {len(frames)}: y = {last[0]:.2f}x + {last[1]:.2f}",
        updatemenus=[dict(type="buttons", x=0, y=-0.18, xanchor="left", showactive=False, buttons=[
            dict(label="▶ Replay the training", method="animate",
                 args=[None, dict(frame=dict(duration=100, redraw=False), fromcurrent=False,
                                  transition=dict(duration=0))])])],
        legend=dict(orientation="h", y=-0.3, x=0.35))
    every_loss = losses + ([f[2] for f in ghost] if ghost else [])
    figure.update_yaxes(range=[min(-1.0, min(y.view(-1).tolist()) - 0.3),
                               max(3.5, max(y.view(-1).tolist()) + 0.3)], row=1, col=1, title_text="y")
    figure.update_xaxes(range=[-1.1, 1.1], row=1, col=1, title_text="x")
    figure.update_xaxes(range=[0, len(frames) + 1], row=1, col=2, title_text="step")
    figure.update_yaxes(row=1, col=2, **log_axis(every_loss),
                        range=[_log10(min(every_loss)) - 0.1, _log10(max(every_loss)) + 0.1])
    figure = _tidy(figure, 360)
    figure.update_layout(margin=dict(b=90))
    return figure


def _log10(value: float) -> float:
    return torch.tensor(max(value, 1e-12)).log10().item()


def landscape(ws, bs, surface: torch.Tensor, paths: dict[str, list[tuple[float, float, float]]],
              upto: int) -> go.Figure:
    """MSE contours over (w, b) and each optimizer's path up to step `upto`."""
    figure = go.Figure()
    figure.add_contour(x=list(bs), y=list(ws), z=surface.clamp_min(1e-6).log10().tolist(),
                       colorscale="Greys", reversescale=True, showscale=False, ncontours=24,
                       hovertemplate="b %{x:.2f}, w %{y:.2f}<extra>log10 MSE %{z:.2f}</extra>")
    for index, (name, frames) in enumerate(paths.items()):
        style = look(index)
        shown = [(0.0, 0.0)] + [(f[0], f[1]) for f in frames[:upto]]
        figure.add_scatter(x=[p[1] for p in shown], y=[p[0] for p in shown], name=name,
                           mode="lines+markers", marker=dict(size=5, symbol=style["symbol"],
                                                             color=style["color"]),
                           line=dict(color=style["color"], dash=style["dash"], width=2))
    figure.add_scatter(x=[1], y=[2], mode="markers", name="true line (w = 2, b = 1)",
                       marker=dict(symbol="star", size=15, color=RED, line=dict(color=INK, width=1)))
    figure.update_layout(title=f"MSE landscape over (w, b), step {upto}", xaxis_title="b (intercept)",
                         yaxis_title="w (slope)", xaxis_range=[min(bs), max(bs)],
                         yaxis_range=[min(ws), max(ws)],
                         legend=dict(orientation="h", y=-0.2, x=0))
    figure = _tidy(figure, 460)
    figure.update_layout(margin=dict(b=80))
    return figure


def boundary(axis, probabilities, x_train, y_train, x_test, y_test, title: str) -> go.Figure:
    """The decision boundary as a heatmap of P(class 1), with train and test points over it."""
    figure = go.Figure()
    figure.add_heatmap(x=axis.tolist(), y=axis.tolist(), z=probabilities.tolist(),
                       colorscale=[[0, ORANGE], [0.5, "#ffffff"], [1, BLUE]], zmin=0, zmax=1,
                       colorbar=dict(title="P(class 1)", thickness=12),
                       hovertemplate="(%{x:.2f}, %{y:.2f}): P(class 1) = %{z:.2f}<extra></extra>")
    for points, labels, name, symbol in ((x_train, y_train, "train", "circle"),
                                         (x_test, y_test, "test", "diamond")):
        for value, colour in ((0, ORANGE), (1, BLUE)):
            chosen = points[labels == value]
            figure.add_scatter(x=chosen[:, 0].tolist(), y=chosen[:, 1].tolist(), mode="markers",
                               name=f"{name}, class {value}",
                               marker=dict(symbol=symbol, size=6 if name == "train" else 8,
                                           color=colour, line=dict(color=INK, width=1)))
    extent = float(axis[-1])
    figure.update_layout(title=title, xaxis=dict(range=[-extent, extent], constrain="domain"),
                         yaxis=dict(range=[-extent, extent], scaleanchor="x", constrain="domain"), legend=dict(orientation="h", y=-0.12, x=0))
    figure = _tidy(figure, 470)
    figure.update_layout(margin=dict(b=70))
    return figure


def neuron_map(axis, activation, title: str) -> go.Figure:
    """One hidden neuron's activation over the input plane."""
    figure = go.Figure(go.Heatmap(x=axis.tolist(), y=axis.tolist(), z=activation.tolist(),
                                  colorscale="RdBu", zmid=0, colorbar=dict(thickness=12),
                                  hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra></extra>"))
    figure.update_layout(title=title, yaxis=dict(scaleanchor="x"))
    return _tidy(figure, 300)


def network(widths, links: list[tuple[int, int, int, float]], picked: tuple[int, int] | None) -> go.Figure:
    """The network as neurons and links: blue links are positive weights, orange negative
    (dashed, so sign never rests on colour alone), thickness shows size."""
    sizes = [2, *widths, 1]
    spot = {(layer, i): (layer, (i - (size - 1) / 2)) for layer, size in enumerate(sizes) for i in range(size)}
    figure = go.Figure()
    largest = max((abs(w) for *_, w in links), default=1.0) or 1.0
    for layer, source, to, weight in links:
        (x0, y0), (x1, y1) = spot[(layer, source)], spot[(layer + 1, to)]
        figure.add_scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                           line=dict(color=BLUE if weight >= 0 else ORANGE,
                                     width=0.5 + 5 * abs(weight) / largest,
                                     dash="solid" if weight >= 0 else "dot"))
    names = ["input", *[f"hidden {k + 1}" for k in range(len(widths))], "output"]
    xs, ys, colours, labels = [], [], [], []
    for (layer, i), (x, y) in spot.items():
        xs.append(x), ys.append(y)
        colours.append(RED if picked == (layer - 1, i) else "#ffffff")
        labels.append(f"{names[layer]} · neuron {i + 1}")
    figure.add_scatter(x=xs, y=ys, mode="markers", showlegend=False, text=labels,
                       hovertemplate="%{text}<extra></extra>",
                       marker=dict(size=16, color=colours, line=dict(color=INK, width=1.5)))
    figure.update_xaxes(tickvals=list(range(len(sizes))), ticktext=names, showgrid=False, zeroline=False)
    figure.update_yaxes(visible=False)
    figure.update_layout(title="the network: link colour = sign, thickness = size")
    return _tidy(figure, 300)


def curve_fit(xs, ys, grid, fitted, hidden: int) -> go.Figure:
    """The noisy sin(x) points and the network's curve through them."""
    figure = go.Figure()
    figure.add_scatter(x=xs, y=ys, mode="markers", name="data", marker=dict(color=GREY, size=6))
    figure.add_scatter(x=grid, y=fitted, mode="lines", name=f"1 → {hidden} → 1 network",
                       line=dict(color=BLUE, width=3))
    figure.update_layout(title="the fitted curve", xaxis_title="x", yaxis_title="y",
                         legend=dict(orientation="h", y=-0.2, x=0))
    figure = _tidy(figure, 340)
    figure.update_layout(margin=dict(b=70))
    return figure


def playground_losses(history: list[tuple[int, float, float, float]]) -> go.Figure:
    """Train and test loss against the optimizer step they were measured at."""
    figure = go.Figure()
    steps = [h[0] for h in history]
    for index, (name, column) in enumerate((("train loss", 1), ("test loss", 2))):
        style = look(index)
        figure.add_scatter(x=steps, y=[h[column] for h in history], name=name, mode="lines+markers",
                           line=dict(color=style["color"], dash=style["dash"]),
                           marker=dict(symbol=style["symbol"], size=5, maxdisplayed=12))
    values = [h[c] for h in history for c in (1, 2)]
    figure.update_layout(title="loss", xaxis_title="optimizer step", yaxis_title="BCE loss",
                         legend=dict(orientation="h", y=-0.25, x=0))
    figure.update_yaxes(**log_axis(values))
    figure = _tidy(figure, 320)
    figure.update_layout(margin=dict(b=70))
    return figure
