"""Figures of the training-loop lesson: the moving fit, the loss landscape, the playground."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from course.charts.figures import BLUE, GREEN, GREY, INK, ORANGE, RED, log_axis, look

ENDS = [-1.0, 1.0]  # the regression's x range: a line is drawn by its two ends


def _line_y(w: float, b: float) -> list[float]:
    return [w * end + b for end in ENDS]


def fit_animation(x, y, frames: list[tuple[float, float, float]], ghost=None,
                  every: int | None = None, title: str = "") -> go.Figure:
    """The points with the fitted line, beside the loss curve, animated step by step in the
    browser (plotly frames: playing it costs the server nothing). `ghost` is a faint same-seed
    correct run drawn under a buggy one. Built as one dict: plotly validates it once."""
    losses = [f[2] for f in frames]
    xs, ys = x.view(-1).tolist(), y.view(-1).tolist()
    steps = list(range(1, len(frames) + 1))
    left, right = dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2")
    data = [dict(type="scatter", x=xs, y=ys, mode="markers", name="data",
                 marker=dict(color=GREY, size=6), **left)]
    if ghost is not None:
        data += [dict(type="scatter", x=ENDS, y=_line_y(*ghost[-1][:2]), mode="lines",
                      name="ghost: correct loop", opacity=0.35,
                      line=dict(color=GREEN, width=6, dash="dot"), **left),
                 dict(type="scatter", x=steps, y=[f[2] for f in ghost], mode="lines",
                      name="ghost loss", showlegend=False, opacity=0.35,
                      line=dict(color=GREEN, width=4, dash="dot"), **right)]
    data += [dict(type="scatter", x=ENDS, y=_line_y(*frames[-1][:2]), mode="lines", name="fit",
                  line=dict(color=BLUE, width=3), **left),
             dict(type="scatter", x=steps, y=losses, mode="lines", name="loss", showlegend=False,
                  line=dict(color=ORANGE, width=2), **right)]
    moving = [len(data) - 2, len(data) - 1]
    every = every or max(1, len(frames) // 20)  # ~20 frames: each one costs the server to build
    shown = sorted({*range(0, len(frames), every), len(frames) - 1})
    animation = [dict(name=str(i + 1), traces=moving, data=[
        dict(type="scatter", x=ENDS, y=_line_y(*frames[i][:2])),
        dict(type="scatter", x=steps[:i + 1], y=losses[:i + 1])],
        layout=dict(title=dict(text=f"{title}step {i + 1}: y = {frames[i][0]:.2f}x + {frames[i][1]:.2f}")))
        for i in shown]
    every_loss = losses + ([f[2] for f in ghost] if ghost else [])
    last = frames[-1]
    layout = dict(
        title=dict(text=f"{title}step {len(frames)}: y = {last[0]:.2f}x + {last[1]:.2f}"),
        height=360, margin=dict(l=10, r=10, t=40, b=90),
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(domain=[0, 0.44], range=[-1.1, 1.1], title=dict(text="x")),
        yaxis=dict(range=[min(-1.0, min(ys) - 0.3), max(3.5, max(ys) + 0.3)], title=dict(text="y")),
        xaxis2=dict(domain=[0.56, 1], range=[0, len(frames) + 1], title=dict(text="step")),
        yaxis2=dict(anchor="x2", title=dict(text="MSE loss"), **log_axis(every_loss),
                    range=[_log10(min(every_loss)) - 0.1, _log10(max(every_loss)) + 0.1]),
        legend=dict(orientation="h", y=-0.3, x=0.35),
        updatemenus=[dict(type="buttons", x=0, y=-0.18, xanchor="left", showactive=False, buttons=[
            dict(label="▶ Replay the training", method="animate",
                 args=[None, dict(frame=dict(duration=100, redraw=False), fromcurrent=False,
                                  transition=dict(duration=0))])])])
    return go.Figure(dict(data=data, layout=layout, frames=animation))


def _log10(value: float) -> float:
    return torch.tensor(max(value, 1e-12)).log10().item()


def _figure(data: list[dict], layout: dict, height: int, bottom: int = 10) -> go.Figure:
    """One figure from plain dicts, validated once (adding traces one by one cost 10x more, and
    the playground redraws five times a second), with the charts' transparent background."""
    layout = dict(height=height, margin=dict(l=10, r=10, t=40, b=bottom),
                  paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)") | layout
    return go.Figure(dict(data=data, layout=layout))


def landscape(ws, bs, surface: torch.Tensor, paths: dict[str, list[tuple[float, float, float]]],
              upto: int) -> go.Figure:
    """MSE contours over (w, b) and each optimizer's path up to step `upto`."""
    data = [dict(type="contour", x=list(bs), y=list(ws), z=surface.clamp_min(1e-6).log10().tolist(),
                 colorscale="Greys", reversescale=True, showscale=False, ncontours=24,
                 hovertemplate="b %{x:.2f}, w %{y:.2f}<extra>log10 MSE %{z:.2f}</extra>")]
    for index, (name, frames) in enumerate(paths.items()):
        style = look(index)
        shown = [(0.0, 0.0)] + [(f[0], f[1]) for f in frames[:upto]]
        data.append(dict(type="scatter", x=[p[1] for p in shown], y=[p[0] for p in shown], name=name,
                         mode="lines+markers",
                         marker=dict(size=5, symbol=style["symbol"], color=style["color"]),
                         line=dict(color=style["color"], dash=style["dash"], width=2)))
    data.append(dict(type="scatter", x=[1], y=[2], mode="markers", name="true line (w = 2, b = 1)",
                     marker=dict(symbol="star", size=15, color=RED, line=dict(color=INK, width=1))))
    return _figure(data, dict(
        title=dict(text=f"MSE landscape over (w, b), step {upto}"),
        xaxis=dict(title=dict(text="b (intercept)"), range=[min(bs), max(bs)]),
        yaxis=dict(title=dict(text="w (slope)"), range=[min(ws), max(ws)]),
        legend=dict(orientation="h", y=-0.2, x=0)), 460, bottom=80)


def boundary(axis, probabilities, x_train, y_train, x_test, y_test, title: str) -> go.Figure:
    """The decision boundary as a heatmap of P(class 1), with train and test points over it."""
    ticks = axis.tolist()
    data = [dict(type="heatmap", x=ticks, y=ticks, z=probabilities.tolist(),
                 colorscale=[[0, ORANGE], [0.5, "#ffffff"], [1, BLUE]], zmin=0, zmax=1,
                 colorbar=dict(title=dict(text="P(class 1)"), thickness=12),
                 hovertemplate="(%{x:.2f}, %{y:.2f}): P(class 1) = %{z:.2f}<extra></extra>")]
    for points, labels, name, symbol in ((x_train, y_train, "train", "circle"),
                                         (x_test, y_test, "test", "diamond")):
        for value, colour in ((0, ORANGE), (1, BLUE)):
            chosen = points[labels == value]
            data.append(dict(type="scatter", x=chosen[:, 0].tolist(), y=chosen[:, 1].tolist(),
                             mode="markers", name=f"{name}, class {value}",
                             marker=dict(symbol=symbol, size=6 if name == "train" else 8,
                                         color=colour, line=dict(color=INK, width=1))))
    extent = float(axis[-1])
    return _figure(data, dict(
        title=dict(text=title), legend=dict(orientation="h", y=-0.12, x=0),
        xaxis=dict(range=[-extent, extent], constrain="domain"),
        yaxis=dict(range=[-extent, extent], scaleanchor="x", constrain="domain")), 470, bottom=70)


def neuron_map(axis, activation, title: str) -> go.Figure:
    """One hidden neuron's activation over the input plane."""
    ticks = axis.tolist()
    return _figure([dict(type="heatmap", x=ticks, y=ticks, z=activation.tolist(), colorscale="RdBu",
                         zmid=0, colorbar=dict(thickness=12),
                         hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra></extra>")],
                   dict(title=dict(text=title), yaxis=dict(scaleanchor="x")), 300)


def network(widths, links: list[tuple[int, int, int, float]], picked: tuple[int, int] | None) -> go.Figure:
    """The network as neurons and links: blue links are positive weights, orange negative
    (dotted, so sign never rests on colour alone), thickness shows size."""
    sizes = [2, *widths, 1]
    spot = {(layer, i): (layer, (i - (size - 1) / 2))
            for layer, size in enumerate(sizes) for i in range(size)}
    largest = max((abs(w) for *_, w in links), default=1.0) or 1.0
    data = []
    for layer, source, to, weight in links:
        (x0, y0), (x1, y1) = spot[(layer, source)], spot[(layer + 1, to)]
        data.append(dict(type="scatter", x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip",
                         showlegend=False, line=dict(color=BLUE if weight >= 0 else ORANGE,
                                                     width=0.5 + 5 * abs(weight) / largest,
                                                     dash="solid" if weight >= 0 else "dot")))
    names = ["input", *[f"hidden {k + 1}" for k in range(len(widths))], "output"]
    xs, ys, colours, labels = [], [], [], []
    for (layer, i), (x, y) in spot.items():
        xs.append(x), ys.append(y)
        colours.append(RED if picked == (layer - 1, i) else "#ffffff")
        labels.append(f"{names[layer]} · neuron {i + 1}")
    data.append(dict(type="scatter", x=xs, y=ys, mode="markers", showlegend=False, text=labels,
                     hovertemplate="%{text}<extra></extra>",
                     marker=dict(size=16, color=colours, line=dict(color=INK, width=1.5))))
    return _figure(data, dict(
        title=dict(text="the network: link colour = sign, thickness = size"),
        xaxis=dict(tickvals=list(range(len(sizes))), ticktext=names, showgrid=False, zeroline=False),
        yaxis=dict(visible=False)), 300)


def curve_fit(xs, ys, grid, fitted, hidden: int) -> go.Figure:
    """The noisy sin(x) points and the network's curve through them."""
    return _figure([dict(type="scatter", x=xs, y=ys, mode="markers", name="data",
                         marker=dict(color=GREY, size=6)),
                    dict(type="scatter", x=grid, y=fitted, mode="lines", name=f"1 → {hidden} → 1 network",
                         line=dict(color=BLUE, width=3))],
                   dict(title=dict(text="the fitted curve"), xaxis=dict(title=dict(text="x")),
                        yaxis=dict(title=dict(text="y")), legend=dict(orientation="h", y=-0.2, x=0)),
                   340, bottom=70)


def playground_losses(history: list[tuple[int, float, float, float]]) -> go.Figure:
    """Train and test loss against the optimizer step they were measured at."""
    steps = [h[0] for h in history]
    data = []
    for index, (name, column) in enumerate((("train loss", 1), ("test loss", 2))):
        style = look(index)
        data.append(dict(type="scatter", x=steps, y=[h[column] for h in history], name=name,
                         mode="lines+markers", line=dict(color=style["color"], dash=style["dash"]),
                         marker=dict(symbol=style["symbol"], size=5, maxdisplayed=12)))
    values = [h[c] for h in history for c in (1, 2)]
    return _figure(data, dict(title=dict(text="loss"), legend=dict(orientation="h", y=-0.25, x=0),
                              xaxis=dict(title=dict(text="optimizer step")),
                              yaxis=dict(title=dict(text="BCE loss"), **log_axis(values))), 320, bottom=70)
