"""Colours a learner can read and charts that never speak by colour alone (issue #17 §4).

The browser test (test_accessibility_browser.py) runs axe on the pages; these pin the pieces
without a browser: the theme's contrast, the code panel's token colours, the second cue of every
series and highlighted bar, and the text alternatives.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import torch

from course.charts import figures
from tests.conftest import PROJECT_ROOT

THEME = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())["theme"]
CODE_PANEL = "#f4f5f6"  # st.code's background under this theme, as the browser reports it


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio, 1 to 21."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def faded(colour: str, background: str, opacity: float) -> str:
    """`colour` drawn at `opacity` over `background`, as the browser composes it."""
    mixed = [round(opacity * int(colour[i:i + 2], 16) + (1 - opacity) * int(background[i:i + 2], 16))
             for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


@pytest.mark.parametrize("background", ["backgroundColor", "secondaryBackgroundColor"])
def test_captions_at_60_percent_of_the_text_colour_still_reach_4_5(background):
    for key in ("textColor", "codeTextColor"):
        caption = faded(THEME[key], THEME[background], 0.6)
        assert contrast(caption, THEME[background]) >= 4.5, (key, background)


def test_the_primary_colour_reads_on_white_and_on_the_selected_segment():
    assert contrast(THEME["primaryColor"], "#ffffff") >= 4.5  # a primary button's label
    assert contrast(THEME["primaryColor"], "#e8ecef") >= 4.5  # segmented control, selected


def test_code_tokens_reach_4_5_on_the_code_panel():
    from course.ui import callouts

    for selectors, colour in callouts.CODE_TOKEN_COLOURS.items():
        assert contrast(colour, CODE_PANEL) >= 4.5, selectors
    css = callouts.code_token_css()
    assert css.startswith("<style>") and css.endswith("</style>")
    assert '[data-testid="stCode"] .token.keyword' in css  # scoped to code panels only


def test_gallery_labels_written_in_green_and_vermillion_are_readable_text():
    for colour in (figures.GREEN, figures.RED):
        assert contrast(colour, THEME["backgroundColor"]) >= 4.5
        assert contrast(colour, "#ffffff") >= 4.5


def test_the_palette_is_okabe_ito():
    okabe_ito = {"#0072B2", "#E69F00", "#CC79A7", "#56B4E9"}
    assert okabe_ito <= set(figures.PALETTE)
    assert len(set(figures.PALETTE)) == len(figures.PALETTE)


def cues(trace) -> tuple:
    """What tells a trace from the others besides its colour."""
    return trace.marker.symbol, trace.line.dash


@pytest.mark.parametrize("build", [
    lambda: figures.curves({"a": [3.0, 2.0, 1.0], "b": [3.0, 2.5, 2.0], "c": [1.0, 1.0, 1.0]}),
    lambda: figures.sweep({"x": [1, 2, 3], "a": [1, 2, 3], "b": [3, 2, 1]}, "x", "x", "y"),
    lambda: figures.scalar_curves({"a": [(1, 1.0), (2, 0.5)], "b": [(1, 2.0), (2, 1.0)]}, "loss"),
])
def test_every_series_differs_by_marker_or_dash_not_only_colour(build):
    traces = build().data
    assert len({cues(trace) for trace in traces}) == len(traces)
    assert all("markers" in trace.mode for trace in traces)


def test_step_curves_give_each_run_its_own_marker():
    steps = [{"step": s, "loss": 1 / s, "accuracy": s / 10} for s in range(1, 6)]
    runs = [{"name": name, "steps": steps, "epochs": [{"step": 5, "test_accuracy": 0.5}]}
            for name in ("a", "b")]
    figure = figures.step_curves(runs, smoothing=0.0)
    symbols = {trace.legendgroup: trace.marker.symbol for trace in figure.data
               if trace.name and trace.name.endswith("· train")}
    assert symbols["a"] != symbols["b"]


def test_history_curves_name_each_compared_run_at_the_end_of_its_line():
    history = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "train_accuracy": 0.9,
                "test_accuracy": 0.8} for e in (1, 2)]
    figure = figures.history_curves({"simple": history, "improved": history})
    labels = {trace.text[-1] for trace in figure.data if trace.text}
    assert labels == {"simple", "improved"}
    alone = figures.history_curves({"simple": history})
    assert not any(trace.text for trace in alone.data), "one run needs no name on its line"


def hatched(trace) -> list[bool]:
    return [shape == figures.HATCH for shape in trace.marker.pattern.shape]


def test_highlighted_bars_are_hatched_as_well_as_coloured():
    partial = figures.batch_size_bars([8] * 12 + [4], 8).data[0]
    assert hatched(partial) == [False] * 12 + [True]
    true_class = figures.probability_bars([0.1, 0.7, 0.2], true_class=2).data[0]
    assert hatched(true_class) == [False, False, True]
    logits = figures.activation_bars({"logits": torch.tensor([0.1, 2.0, -1.0])}, predicted=1)
    assert hatched(logits.data[0]) == [False, True, False]


def test_train_and_held_out_accuracy_bars_differ_by_hatching():
    rows = [{"batch size": b, "activation memory (KB)": 1.0, "samples / s": 1.0,
             "gradient noise": 1.0, "train accuracy": 0.9, "held-out accuracy": 0.8}
            for b in (8, 64)]
    bars = {trace.name: trace for trace in figures.batch_size_comparison(rows).data if trace.name}
    assert bars["train accuracy"].marker.pattern.shape == figures.HATCH
    assert not bars["held-out accuracy"].marker.pattern.shape


def test_gallery_alt_text_counts_right_and_wrong_answers():
    labels = torch.tensor([0, 1, 2, 3])
    probabilities = torch.eye(4)[[0, 1, 3, 3]]  # image 2 predicted as 3: one mistake
    text = figures.prediction_gallery_alt(labels, probabilities, [0, 1, 2, 3], clickable=True)
    assert re.search(r"^4 images .*3 right .*1 wrong", text), text
    assert text.endswith("Click an image to inspect it.")


def test_one_log_tick_helper_serves_every_log_axis():
    assert figures.log_ticks([0.03, 7.0]) == pytest.approx([0.05, 0.1, 0.2, 0.5, 1, 2, 5])
    assert figures.log_ticks([2e6, 0.5])[-2:] == pytest.approx([1e6, 1e7])  # whole decades
    assert figures.log_axis([1e-9, 0.5])["ticktext"][:2] == ["10⁻⁹", "10⁻⁸"]
    assert not hasattr(figures, "_log_ticks")
