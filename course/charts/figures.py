"""Plotly figures for the lesson pages: data in, figure out, no Streamlit calls."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), the one palette of
# every chart. Green and vermillion are darkened (same hue) because the gallery writes its labels
# in them: 4.8:1 and more on the page and on white, as text needs. Colour is never the only
# carrier of meaning: curves also differ by marker and dash, highlighted bars by hatching.
BLUE, ORANGE, GREEN, RED = "#0072B2", "#E69F00", "#007A5A", "#B84F00"
SKY, PURPLE, GREY = "#56B4E9", "#CC79A7", "#8C8C8C"
PALETTE = [BLUE, ORANGE, GREEN, RED, PURPLE, SKY, GREY]
# A second cue for each series beside its colour, in the same order as PALETTE.
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid"]
INK = "#0b131b"  # the theme's text colour (.streamlit/config.toml)
HATCH = "/"  # the pattern that marks a highlighted bar as well as its colour


def look(index: int) -> dict:
    """Series `index`'s colour, marker and dash: three cues, so none depends on colour vision."""
    return {"color": PALETTE[index % len(PALETTE)], "symbol": SYMBOLS[index % len(SYMBOLS)],
            "dash": DASHES[index % len(DASHES)]}


def _series_line(index: int, width: float = 2, points: int = 1) -> dict:
    """Line and sparse markers for series `index` (at most 12 markers, so a long curve stays a line)."""
    style = look(index)
    return {"mode": "lines+markers",
            "line": dict(color=style["color"], dash=style["dash"], width=width),
            "marker": dict(symbol=style["symbol"], size=8, color=style["color"],
                           maxdisplayed=0 if points <= 12 else 12)}


def _tidy(figure: go.Figure, height: int = 320) -> go.Figure:
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                         paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return figure


def batch_size_bars(sizes: list[int], batch_size: int, shown: int = 200) -> go.Figure:
    """One bar per iteration (the first `shown` of them); a partial last batch stands out in orange."""
    total = len(sizes)
    if total > shown:  # keep the partial last batch visible: the first shown - 1, then the last
        sizes = [*sizes[:shown - 1], sizes[-1]]
        iterations = [*range(1, shown), total]
    else:
        iterations = list(range(1, total + 1))
    colors = [BLUE if size == batch_size else ORANGE for size in sizes]
    hatches = ["" if size == batch_size else HATCH for size in sizes]
    figure = go.Figure(go.Bar(x=list(range(1, len(sizes) + 1)), y=sizes, marker_color=colors,
                              marker_pattern_shape=hatches, customdata=iterations,
                              hovertemplate="iteration %{customdata:,}: %{y:,} samples<extra></extra>"))
    title = f"{total:,} iterations in one epoch"
    if total > shown:
        title += f" (bars: the first {shown - 1:,} and the last)"
        figure.update_xaxes(tickvals=[1, shown // 2, len(sizes)],
                            ticktext=["1", f"{shown // 2:,}", f"{total:,}"])
    figure.update_layout(title=title, xaxis_title="iteration", yaxis_title="samples in the batch",
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


def log_ticks(values: list[float], steps: tuple[int, ...] | None = None) -> list[float]:
    """Where a log axis gets its ticks: 1, 2 and 5 of each decade inside the values' range when it
    spans at most three decades; over more, every power of ten from the one below the smallest
    value to the one above the largest (plotly leaves out ticks beyond its axis range)."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return []
    low, high = min(positive), max(positive)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = steps or ((1, 2, 5) if last - first <= 3 else (1,))
    ticks = [m * 10.0 ** power for power in range(first, last + 1) for m in steps]
    return ticks if steps == (1,) else [t for t in ticks if low <= t <= high]


def log_tick_text(value: float) -> str:
    """A log tick in full (1,000,000; 0.05) down to 0.0001, smaller as 10⁻⁹ (never "1e-09"):
    plotly's default labels 0.5, 5 and 50 all "5"."""
    if value >= 1:
        return f"{value:,.0f}"
    if value >= 1e-4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    power = "10" + str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return power if mantissa == "1" else f"{mantissa}·{power}"


def log_axis(values: list[float], steps: tuple[int, ...] | None = None) -> dict:
    """Keyword arguments for update_yaxes: a log axis with log_ticks written by log_tick_text."""
    ticks = log_ticks(values, steps)
    return {"type": "log", "tickvals": ticks, "ticktext": [log_tick_text(t) for t in ticks]}


def curves(series: dict[str, list[float]], x_title: str = "training step",
           y_title: str = "loss", log_y: bool = False, title: str | None = None) -> go.Figure:
    """Several named curves overlaid on one plot; the legend sits below it, clear of the title.
    Built as one dict, validated once: trace by trace cost several times more per rerun."""
    data = [dict(type="scatter", x=list(range(1, len(values) + 1)), y=values, name=name,
                 **_series_line(index, points=len(values)))
            for index, (name, values) in enumerate(series.items())]
    y_axis = dict(title=dict(text=y_title))
    if log_y:
        y_axis |= log_axis([v for values in series.values() for v in values])
    layout = dict(title=dict(text=title), xaxis=dict(title=dict(text=x_title)), yaxis=y_axis,
                  legend=dict(orientation="h", y=-0.22, yanchor="top", x=0), height=380,
                  margin=dict(l=10, r=10, t=40, b=70),
                  paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return go.Figure(dict(data=data, layout=layout))


def pixel_histograms(before: torch.Tensor, after: torch.Tensor, bins: int = 50) -> go.Figure:
    """Distribution of pixel values after ToTensor alone and after Normalize, binned in torch."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=(
        f"ToTensor(): values in [0, 1]<br>mean {before.mean():.3f}, std {before.std():.3f}",
        f"+ Normalize<br>mean {after.mean():.3f}, std {after.std():.3f}"))
    tallest = 0.0
    for column, (values, color) in enumerate(((before, GREY), (after, BLUE)), start=1):
        values = values.detach().float().flatten()
        low, high = values.min().item(), values.max().item()
        counts = torch.histc(values, bins=bins, min=low, max=high)
        tallest = max(tallest, counts.max().item())
        width = (high - low) / bins
        centres = [low + width * (i + 0.5) for i in range(bins)]
        figure.add_trace(go.Bar(x=centres, y=counts.tolist(), width=width, marker_color=color,
                                showlegend=False,
                                hovertemplate="pixel value ≈ %{x:.2f}: %{y:,} pixels<extra></extra>"),
                         row=1, col=column)
        figure.update_xaxes(title_text="pixel value", row=1, col=column)
    figure.update_layout(bargap=0)
    figure.update_yaxes(**log_axis([1, tallest], steps=(1,)))  # powers of ten only
    figure.update_yaxes(title_text="pixels (log scale)", row=1, col=1)
    figure = _tidy(figure, 320)
    figure.update_layout(margin=dict(t=60))
    return figure


def batch_size_comparison(rows: list[dict]) -> go.Figure:
    """Memory, speed, gradient noise and train / held-out accuracy for each batch size."""
    panels = ["activation memory (KB)", "samples / s", "gradient noise",
              "accuracy: train | held-out"]
    figure = make_subplots(rows=2, cols=2, subplot_titles=panels, vertical_spacing=0.2)
    labels = [f"B={row['batch size']}" for row in rows]
    for index, (metric, color, fmt) in enumerate((("activation memory (KB)", BLUE, ",.0f"),
                                                  ("samples / s", GREEN, ",.0f"),
                                                  ("gradient noise", ORANGE, ".2f"))):
        figure.add_trace(go.Bar(x=labels, y=[row[metric] for row in rows], showlegend=False,
                                marker_color=color,
                                hovertemplate=f"%{{x}}: %{{y:{fmt}}}<extra></extra>"),
                         row=index // 2 + 1, col=index % 2 + 1)
    # Train and held-out in one hue, told apart by hatching (and by order: train first).
    for metric, hatch in (("train accuracy", HATCH), ("held-out accuracy", "")):
        figure.add_trace(go.Bar(x=labels, y=[row[metric] for row in rows], name=metric,
                                marker_color=RED, marker_pattern_shape=hatch, showlegend=False,
                                hovertemplate=f"%{{x}} {metric}: %{{y:.1%}}<extra></extra>"),
                         row=2, col=2)
    figure.update_yaxes(tickformat=".0%", row=2, col=2)
    figure.update_layout(barmode="group")
    return _tidy(figure, 480)


def history_curves(runs: dict[str, list[dict]]) -> go.Figure:
    """Loss and accuracy per epoch, train (dashed, open circles) and test (solid, filled
    diamonds), for one or more runs: a one-epoch run still shows two different points. With
    several runs, each test line ends in its run's name, so no run is known by colour alone."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for index, (name, history) in enumerate(runs.items()):
        color = look(index)["color"]
        epochs = [row["epoch"] for row in history]
        named_end = [""] * (len(epochs) - 1) + [name] if len(runs) > 1 else None
        for column, metric in enumerate(("loss", "accuracy"), start=1):
            for split, dash, symbol in (("train", "dash", "circle-open"),
                                        ("test", "solid", "diamond")):
                values = [row.get(f"{split}_{metric}") for row in history]
                labelled = split == "test" and named_end is not None
                figure.add_trace(go.Scatter(
                    x=epochs, y=values, mode="lines+markers+text" if labelled else "lines+markers",
                    name=f"{name} · {split}", text=named_end if labelled else None,
                    textposition="middle right", textfont=dict(color=INK, size=11),
                    line=dict(color=color, dash=dash), legendgroup=name,
                    marker=dict(symbol=symbol, size=10 if split == "train" else 9,
                                line=dict(width=2, color=color)),
                    cliponaxis=False, showlegend=column == 1), row=1, col=column)
    figure.update_xaxes(title_text="epoch", dtick=1)
    if len(runs) > 1:  # room on the right for the names
        epochs = [row["epoch"] for history in runs.values() for row in history] or [1]
        figure.update_xaxes(range=[min(epochs) - 0.3, max(epochs) + 0.9])
    figure.update_layout(legend=dict(orientation="h", y=-0.25, x=0))
    return _tidy(figure, 360)


def probability_bars(probabilities, true_class: int | None = None,
                     class_names: list[str] | None = None) -> go.Figure:
    """One bar per class; the true class in green and hatched, the others in blue."""
    values = [float(p) for p in probabilities]
    names = class_names or [str(i) for i in range(len(values))]
    colors = [GREEN if i == true_class else BLUE for i in range(len(values))]
    hatches = [HATCH if i == true_class else "" for i in range(len(values))]
    figure = go.Figure(go.Bar(x=names, y=values, marker_color=colors,
                              marker_pattern_shape=hatches,
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
            ink.append("white" if off_diagonal[t][p] > 0.5 * darkest else INK)
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
    # Labels inside the bars' tops: outside, a 98% label sits on the 100% gridline.
    figure = go.Figure(go.Bar(x=class_names, y=values, marker_color=BLUE,
                              text=[f"{v:.1%}" for v in values], textposition="inside",
                              insidetextanchor="end", textangle=0, textfont=dict(color="white")))
    figure.update_layout(yaxis_range=[max(0.0, min(values) - 0.08), 1.0], yaxis_title="accuracy",
                         xaxis_type="category", xaxis_title="true class",
                         yaxis_tickformat=".0%")
    return _tidy(figure, 300)


def sweep(series: dict[str, list[float]], x_key: str, x_title: str, y_title: str) -> go.Figure:
    """Curves over a shared x axis given under x_key."""
    figure = go.Figure()
    names = [name for name in series if name != x_key]
    for index, name in enumerate(names):
        figure.add_trace(go.Scatter(x=series[x_key], y=series[name], name=name,
                                    **_series_line(index, width=3, points=len(series[x_key]))))
    figure.update_layout(xaxis_title=x_title, yaxis_title=y_title,
                         legend=dict(orientation="h", y=1.15, x=0))
    return _tidy(figure, 320)


def step_curves(runs: list[dict], smoothing: float, log_y: bool = False) -> go.Figure:
    """Per-step train loss and accuracy, raw (faint) and smoothed (bold), test accuracy per epoch.

    runs: one dict per curve: name, steps ([{step, loss, accuracy}]), epochs ([{step,
    test_accuracy, test_loss}]), and optionally band ({step, mean, spread} of a seed group).
    """
    from course.concepts.curves import debiased_ema

    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for index, run in enumerate(runs):
        style = look(index)
        color = style["color"]
        steps = [point["step"] for point in run["steps"]]
        for column, metric in enumerate(("loss", "accuracy"), start=1):
            raw = [point[metric] for point in run["steps"]]
            smoothed = debiased_ema(raw, smoothing)
            if smoothed != raw:
                figure.add_trace(go.Scatter(x=steps, y=raw, mode="lines", opacity=0.25,
                                            line=dict(color=color, width=1), hoverinfo="skip",
                                            legendgroup=run["name"], showlegend=False),
                                 row=1, col=column)
            figure.add_trace(go.Scatter(  # each run its own marker, a few along its line
                x=steps, y=smoothed, mode="lines+markers", name=f"{run['name']} · train",
                line=dict(color=color, width=2.5),
                marker=dict(symbol=style["symbol"], size=8, color=color,
                            maxdisplayed=0 if len(steps) <= 12 else 12),
                legendgroup=run["name"], showlegend=column == 1), row=1, col=column)
            band = run.get("band", {}).get(metric)
            if band:
                upper = [m + s for m, s in zip(band["mean"], band["spread"], strict=True)]
                lower = [m - s for m, s in zip(band["mean"], band["spread"], strict=True)]
                figure.add_trace(go.Scatter(
                    x=band["steps"] + band["steps"][::-1], y=upper + lower[::-1], fill="toself",
                    fillcolor=color, opacity=0.18, line=dict(width=0), hoverinfo="skip",
                    name=f"{run['name']} · mean ± std over seeds", legendgroup=run["name"],
                    showlegend=column == 1), row=1, col=column)
            test = [(row["step"], row.get(f"test_{metric}")) for row in run.get("epochs", [])
                    if row.get(f"test_{metric}") is not None]
            if test:
                figure.add_trace(go.Scatter(
                    x=[s for s, _ in test], y=[v for _, v in test], mode="markers+lines",
                    name=f"{run['name']} · test (per epoch)",
                    line=dict(color=color, dash="dot", width=1.5),
                    marker=dict(symbol=style["symbol"], size=10, color="white",
                                line=dict(color=color, width=2)),
                    legendgroup=run["name"], showlegend=column == 1), row=1, col=column)
    figure.update_xaxes(title_text="training step")
    if log_y:
        figure.update_yaxes(type="log", row=1, col=1)
    figure.update_layout(legend=dict(orientation="h", y=-0.3, x=0))
    return _tidy(figure, 380)


def diverging_image(values: torch.Tensor, scale: float | None = None, zoom: int = 3):
    """An RGB uint8 array [H*zoom, W*zoom, 3]: red for positive, blue for negative, white at
    zero, grey where NaN (gaps between tiles). Values are divided by `scale` (else max |v|)."""
    values = values.detach().float().cpu()
    scale = scale or float(values.nan_to_num(0).abs().max()) or 1.0
    v = (values / scale).clamp(-1, 1)
    positive, negative = v.clamp(min=0).nan_to_num(0), (-v).clamp(min=0).nan_to_num(0)
    red = 1 - negative * 0.85
    green = 1 - (positive + negative) * 0.85
    blue = 1 - positive * 0.85
    rgb = torch.stack([red, green, blue], dim=-1)
    rgb[values.isnan()] = torch.tensor([0.85, 0.85, 0.85])
    rgb = rgb.repeat_interleave(zoom, dim=0).repeat_interleave(zoom, dim=1)
    return (rgb * 255).round().to(torch.uint8).numpy()


def activation_bars(layers: dict[str, torch.Tensor], predicted: int | None = None) -> go.Figure:
    """One bar chart per layer, stacked: each hidden unit's output, then the 10 logits."""
    names = list(layers)
    figure = make_subplots(rows=len(names), cols=1, subplot_titles=names, vertical_spacing=0.12)
    for row, name in enumerate(names, start=1):
        values = layers[name].tolist()
        is_logits = name == "logits"
        colors = [GREEN if is_logits and i == predicted else (ORANGE if is_logits else BLUE)
                  for i in range(len(values))]
        hatches = [HATCH if is_logits and i == predicted else "" for i in range(len(values))]
        figure.add_trace(go.Bar(x=list(range(len(values))), y=values, marker_color=colors,
                                marker_pattern_shape=hatches, showlegend=False,
                                hovertemplate=("class" if is_logits else "unit")
                                + " %{x}: %{y:.3f}<extra></extra>"), row=row, col=1)
        if is_logits:
            figure.update_xaxes(dtick=1, row=row, col=1)
    figure.update_layout(bargap=0.05)
    return _tidy(figure, 170 * len(names) + 40)


def confused_pairs_bars(pairs: list[tuple[int, int, int]], class_names: list[str]) -> go.Figure:
    """The most-confused (true → predicted) pairs as horizontal bars, the largest on top."""
    labels = [f"true {class_names[t]} → predicted {class_names[p]}" for t, p, _ in pairs]
    counts = [count for _, _, count in pairs]
    figure = go.Figure(go.Bar(x=counts[::-1], y=labels[::-1], orientation="h", marker_color=RED,
                              text=counts[::-1], textposition="auto", textangle=0))
    figure.update_layout(xaxis_title="test images", yaxis_type="category")
    return _tidy(figure, 60 + 28 * max(1, len(pairs)))


# ----------------------------------------------------------------------------- 2.2.3 debugging


def gradient_norm_bars(norms: dict[str, float], title: str = "") -> go.Figure:
    """One bar per named parameter on a log scale: the pulse. NaN or infinite norms are red marks."""
    names = list(norms)
    finite = [value if math.isfinite(value) and value > 0 else None for value in norms.values()]
    colors = [BLUE if name.endswith("weight") else GREY for name in names]
    figure = go.Figure(go.Bar(x=names, y=finite, marker_color=colors,
                              hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    broken = [name for name, value in norms.items() if not math.isfinite(value)]
    if broken:
        figure.add_trace(go.Scatter(x=broken, y=[1] * len(broken), mode="markers+text",
                                    text=["NaN"] * len(broken), textposition="top center",
                                    marker=dict(color=RED, size=12, symbol="x"), showlegend=False))
    figure.update_layout(title=title, xaxis_title="parameter (weights blue, biases grey)",
                         yaxis_title="gradient norm (log scale)",
                         xaxis_type="category", showlegend=False)
    figure.update_yaxes(**log_axis([v for v in finite if v is not None]))
    return _tidy(figure, 330)


def norm_heatmap(names: list[str], norms: torch.Tensor,
                 log_range: tuple[float, float] | None = None) -> go.Figure:
    """Weight-gradient norms over the first steps: one row per layer, colour = log10(norm).

    `log_range` (zmin, zmax in log10) gives several heatmaps one colour scale, so equal colours
    mean equal norms across them. NaN or infinite norms are one red colour, named once in the
    legend instead of a label in every cell.
    """
    logs = torch.log10(norms.double().clamp_min(1e-30)).T  # [layers, steps]
    broken = ~torch.isfinite(logs)
    steps = list(range(1, norms.shape[0] + 1))
    z = [[None if bad else value for value, bad in zip(row, bad_row, strict=True)]
         for row, bad_row in zip(logs.tolist(), broken.tolist(), strict=True)]
    zmin, zmax = log_range or (None, None)
    figure = go.Figure(go.Heatmap(
        z=z, x=steps, y=names, colorscale="Viridis", zmin=zmin, zmax=zmax,
        colorbar=dict(title="log10 norm"), hoverongaps=False, showlegend=False,
        hovertemplate="step %{x} · %{y}: 10^%{z:.1f}<extra></extra>"))
    if broken.any():
        mask = [[1 if bad else None for bad in row] for row in broken.tolist()]
        figure.add_trace(go.Heatmap(z=mask, x=steps, y=names, showscale=False, showlegend=False,
                                    hoverongaps=False,
                                    colorscale=[[0, RED], [1, RED]],
                                    hovertemplate="step %{x} · %{y}: NaN<extra></extra>"))
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="NaN (overflowed)",
                                    marker=dict(symbol="square", size=12, color=RED)))
    figure.update_layout(xaxis_title="training step (SGD on one batch)",
                         yaxis_title="layer (first at the top)", yaxis_autorange="reversed",
                         showlegend=bool(broken.any()),
                         legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"))
    return _tidy(figure, max(220, 120 + 26 * len(names)))  # a readable colour bar for 3 layers


def scalar_curves(series: dict[str, list[tuple[int, float]]], y_title: str,
                  log_y: bool = False, title: str | None = None,
                  fraction: bool = False) -> go.Figure:
    """Scalars read back from TensorBoard event files, one line per run, by global step.

    `fraction` (accuracies, shares) fixes the y-axis to 0-100%: a flat 11% then looks flat.
    """
    figure = go.Figure()
    for index, (name, points) in enumerate(series.items()):
        figure.add_trace(go.Scatter(x=[step for step, _ in points], y=[value for _, value in points],
                                    name=name, **_series_line(index, points=len(points))))
    figure.update_layout(title=title, xaxis_title="training step", yaxis_title=y_title,
                         legend=dict(orientation="h", y=-0.25, x=0))
    if fraction:
        figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    elif log_y:
        figure.update_yaxes(**log_axis([v for points in series.values() for _, v in points]))
    return _tidy(figure, 340)


def small_percent(p: float) -> str:
    """0.42 -> "42%", 0.0031 -> "0.31%", 2e-7 -> "<0.01%": a tiny probability is not 0%."""
    if p >= 0.01:
        return f"{p:.0%}"
    return f"{p:.2%}" if p >= 0.0001 else "<0.01%"


# A gallery cell in image pixels: the 28×28 digit inside a coloured frame, a gap beside it and
# a band below it for the label (plotly text, crisp at any zoom).
_FRAME, _GAP, _LABEL_BAND = 2, 6, 18
# The composed picture is an indexed-colour PNG (a third of the bytes of RGBA): its colour table
# holds 253 greys (a pixel moves by at most 1/255), then the two frame colours and "transparent".
_GREYS = 253
_PNG_COLOUR_TABLE = [round(i * 255 / (_GREYS - 1)) for i in range(_GREYS) for _ in range(3)] + [
    int(colour[i:i + 2], 16) for colour in (GREEN, RED) for i in (1, 3, 5)] + [255, 255, 255]
_FRAME_INDEX = {GREEN: _GREYS, RED: _GREYS + 1}
_TRANSPARENT = _GREYS + 2


def prediction_gallery_alt(labels: torch.Tensor, probabilities: torch.Tensor,
                           indices: list[int], clickable: bool = False) -> str:
    """The gallery in words for a screen reader: how many images, how many right and wrong."""
    chosen = torch.as_tensor(indices, dtype=torch.long)
    right = int((probabilities[chosen].argmax(dim=1) == labels[chosen]).sum()) if indices else 0
    text = (f"{len(indices)} images with the model's prediction and confidence under each: "
            f"{right} right (green frame), {len(indices) - right} wrong (red frame, with the "
            "probability it gave the true class).")
    return text + (" Click an image to inspect it." if clickable else "")


def prediction_gallery(images: torch.Tensor, labels: torch.Tensor, probabilities: torch.Tensor,
                       indices: list[int], columns: int = 8, truth_word: str = "true",
                       picked: int | None = None) -> go.Figure:
    """The images `indices` of a split as ONE composed picture, framed green when the model is
    right and red when wrong, labelled with the prediction and its confidence (and for a mistake
    P(`truth_word` class)). An invisible marker over each thumbnail carries its gallery position
    (0, 1, …) as customdata, so a click on the chart says which image was clicked; `picked`
    (a gallery position) gets a blue outline."""
    import base64
    import io

    from PIL import Image

    side = images.shape[-1] + 2 * _FRAME
    pitch_x, pitch_y = side + _GAP, side + _LABEL_BAND
    rows = max(1, -(-len(indices) // columns))
    grid = torch.full((rows * pitch_y, columns * pitch_x), _TRANSPARENT, dtype=torch.uint8)
    greys = (images[indices].float() * ((_GREYS - 1) / 255)).round().to(torch.uint8)
    chosen = torch.as_tensor(indices, dtype=torch.long)
    predicted = probabilities[chosen].argmax(dim=1)
    truth = labels[chosen]
    confidence = probabilities[chosen].gather(1, predicted[:, None]).squeeze(1)
    p_truth = probabilities[chosen].gather(1, truth[:, None]).squeeze(1)
    xs, ys, label_ys, texts, colours, hovers = [], [], [], [], [], []
    for position in range(len(indices)):
        top, left = (position // columns) * pitch_y, (position % columns) * pitch_x + _GAP // 2
        right = bool(predicted[position] == truth[position])
        colour = GREEN if right else RED
        grid[top:top + side, left:left + side] = _FRAME_INDEX[colour]
        grid[top + _FRAME:top + side - _FRAME, left + _FRAME:left + side - _FRAME] = (
            greys[position])
        xs.append(left + (side - 1) / 2)
        ys.append(top + (side - 1) / 2)
        label_ys.append(top + side + 2)
        guess, sure = int(predicted[position]), float(confidence[position])
        text = f"#{position + 1} · <b>{guess}</b> · {sure:.0%}"
        hover = f"#{position + 1}: predicted {guess} ({sure:.0%})"
        if not right:
            wrong_line = f"{truth_word} {int(truth[position])}: {small_percent(float(p_truth[position]))}"
            text += f"<br>{wrong_line}"
            hover += f", {wrong_line}"
        texts.append(text)
        colours.append(colour)
        hovers.append(hover)
    buffer = io.BytesIO()
    picture = Image.fromarray(grid.numpy(), "P")
    picture.putpalette(_PNG_COLOUR_TABLE)
    picture.save(buffer, format="PNG", transparency=_TRANSPARENT)
    height, width = grid.shape[:2]
    outline = []
    if picked is not None and 0 <= picked < len(indices):
        reach = side / 2 + 1.5
        outline.append(dict(type="rect", line=dict(color=BLUE, width=3),
                            x0=xs[picked] - reach, x1=xs[picked] + reach,
                            y0=ys[picked] - reach, y1=ys[picked] + reach))
    # Built in one go: plotly's update_* calls validate again each time (this ran 3x slower).
    return go.Figure(data=[
        go.Image(source="data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
                 x0=0, y0=0, dx=1, dy=1, hoverinfo="skip"),
        go.Scatter(x=xs, y=label_ys, mode="text", text=texts, textposition="bottom center",
                   textfont=dict(size=12, color=colours), hoverinfo="skip"),
        go.Scatter(x=xs, y=ys, mode="markers", customdata=list(range(len(indices))),
                   hovertext=hovers, hovertemplate="%{hovertext}<extra></extra>",
                   marker=dict(size=56, opacity=0.01, color=GREY),
                   selected=dict(marker=dict(opacity=0.01)),
                   unselected=dict(marker=dict(opacity=0.01)))],
        layout=dict(
            # Room for the outline around the first row and column; left-aligned like the text.
            xaxis=dict(range=[-2.5, width - 0.5], visible=False, fixedrange=True,
                       constrain="domain", constraintoward="left"),
            yaxis=dict(range=[height - 0.5, -2.5], visible=False, fixedrange=True,
                       scaleanchor="x", constrain="domain", constraintoward="top"),
            shapes=outline, dragmode=False, hovermode="closest", showlegend=False,
            # About 2.6 screen pixels per image pixel: the grid's width on a 900 px window.
            height=round((height + 2) * 2.6), margin=dict(l=0, r=0, t=0, b=0),
            paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)"))
