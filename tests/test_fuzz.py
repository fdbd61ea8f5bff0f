"""Every widget of every page pushed to its extremes, every button pressed twice: no exception.

Pressing twice matters: a cached function that draws works on its first call and raises
CacheReplayClosureError on the cache hit of the second. Widgets are found afresh after every
round, so buttons that appear only after another click (Stop, Resume, Delete) are pressed too.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from course import lessons
from course.runs import run_files
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

PAGES = ["pages/home.py"] + [f"pages/{lesson.slug}.py" for lesson in lessons.all_lessons()
                             if lesson.available]
KINDS = ("number_input", "slider", "select_slider", "selectbox", "radio", "multiselect",
         "toggle", "checkbox", "button_group", "text_input", "text_area", "button",
         "form_submit_button", "download_button")
CLICKED = ("button", "form_submit_button", "download_button")
ROUNDS = 4  # rounds of "find the widgets not tried yet, try them"


class SelectIndex(int):
    """A select box's option by position."""


def real_option(widget, label: str):
    """The option whose label is `label` (AppTest keeps only labels), or None if not found."""
    plain = label.replace(",", "").replace("\u202f", "")
    candidates = [label]
    for convert in (int, float):
        try:
            candidates.append(convert(plain))
        except ValueError:
            pass
    for candidate in candidates:
        try:
            if str(widget.format_func(candidate)) == label:
                return candidate
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return None


def extremes(kind: str, widget) -> list:
    """The values worth trying for one widget: its ends, empty selections, both states.

    Numbers end at their low end: the Train button, pressed after every other widget, then
    starts a small run (1 epoch of 1,000 images) instead of 15 epochs of 60,000 that would
    train beside the rest of the fuzz."""
    if kind == "number_input":
        proto = widget.proto
        ends = [proto.max if proto.has_max else 1e9, proto.min if proto.has_min else -1e9]
        return [int(v) if proto.data_type == proto.INT else v for v in ends]
    if kind == "slider":
        return [widget.proto.max, widget.proto.min]
    if kind == "selectbox":  # chosen by position: its labels may not map back to values
        return [SelectIndex(0), SelectIndex(len(widget.options) - 1)]
    if kind == "select_slider":
        ends = [real_option(widget, widget.options[-1]), real_option(widget, widget.options[0])]
        return [value for value in ends if value is not None]
    if kind == "radio":
        ends = [real_option(widget, widget.options[0]), real_option(widget, widget.options[-1])]
        return [value for value in ends if value is not None]
    if kind == "multiselect":
        every = [real_option(widget, label) for label in widget.options]
        every = [value for value in every if value is not None]
        return [[], every[: widget.proto.max_selections or None]]
    if kind in ("toggle", "checkbox"):
        return [not widget.value, widget.value]
    if kind == "button_group":  # pills, segmented control: nothing selected, then back
        multi = widget.proto.click_mode != widget.proto.ClickMode.SINGLE_SELECT
        return [[] if multi else None, widget.value]
    if kind in ("text_input", "text_area"):
        return ["", "  -1e309 ✗ \\x00 " * 20, widget.value]
    return ["click", "click"]


def name(widget) -> str:
    """A widget's key, or the id Streamlit derived from its label for a key-less one."""
    return widget.key or widget.id


def widget_names(at: AppTest) -> list[tuple[str, str]]:
    return [(kind, name(widget)) for kind in KINDS for widget in getattr(at, kind)
            if not widget.disabled]


def find(at: AppTest, kind: str, key: str):
    matches = [widget for widget in getattr(at, kind) if name(widget) == key]
    return matches[0] if matches else None


def assert_no_exception(at: AppTest, context: str) -> None:
    assert not at.exception, f"{context}: {[e.message for e in at.exception]}"


def stop_every_run(root: Path) -> None:
    """Runs the fuzz started must not outlive the test (nor keep pytest from exiting)."""
    for run_dir in root.glob("*/runs/*"):
        (run_dir / run_files.STOP_FILE).touch()


def wait_for_a_finished_run(at: AppTest, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1)
        at.run()
        if any("finished" in str(caption.value) for caption in at.caption):
            return
    pytest.fail("the 1-epoch run did not finish")


def set_value(widget, value) -> None:
    if isinstance(value, SelectIndex):
        widget.select_index(int(value))
    else:
        widget.set_value(value)


def fuzz(at: AppTest, page: str, covered: frozenset = frozenset(),
         after_click=lambda: None) -> dict[tuple[str, str], int]:
    """Try every widget at its extremes, except those `covered` elsewhere; returns how often each
    widget was changed or clicked.

    The widgets that hold a value move together: every one to its first extreme in one script
    run, then every one to its second, and so on (one run per widget took most of the fuzz's
    four minutes of CI, and the learner can set them all at once too). Buttons are clicked one
    at a time, twice each, after the values: a click is one run's trigger. `after_click` runs
    after each click's script run (the test stops the runs a click started: they would train
    beside the fuzz on both cores, and a stopped run's own buttons get their turn too)."""
    tried: dict[tuple[str, str], int] = {}
    for _ in range(ROUNDS):
        fresh = [found for found in widget_names(at) if found not in tried and found not in covered]
        if not fresh:
            break
        for found in fresh:
            tried[found] = 0
        valued = [(kind, key) for kind, key in fresh if kind not in CLICKED]
        for position in range(3):  # a text box has three extremes, the rest two
            moved = []
            for kind, key in valued:
                widget = find(at, kind, key)
                if widget is None or widget.disabled:  # gone or disabled after an earlier change
                    continue
                values = extremes(kind, widget)
                if position < len(values):
                    set_value(widget, values[position])
                    moved.append((kind, key, values[position]))
            if not moved:
                break
            at.run()
            for kind, key, _ in moved:
                tried[(kind, key)] += 1
            assert_no_exception(at, f"{page}: extreme {position + 1} of every widget at once: "
                                    + ", ".join(f"{kind} {key!r} = {value!r}"
                                                for kind, key, value in moved))
        for kind, key in fresh:
            if kind not in CLICKED:
                continue
            for _ in range(2):
                widget = find(at, kind, key)
                if widget is None or widget.disabled:
                    break
                widget.click()
                at.run()
                after_click()
                tried[(kind, key)] += 1
                assert_no_exception(at, f"{page}: {kind} {key!r} clicked "
                                        f"(click {tried[(kind, key)]})")
    return tried


CASES = [(page, False) for page in PAGES] + [("pages/mnist-project.py", True)]


@pytest.mark.parametrize(("page", "trained"), CASES,
                         ids=[f"{p}{'-after-a-run' if t else ''}" for p, t in CASES])
def test_every_widget_at_its_extremes_raises_nothing(page, trained, data_dir, tmp_path,
                                                     monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(PROJECT_ROOT)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(page)
    at.run()
    assert_no_exception(at, f"{page} first render")
    # After a run, only the widgets a run brings (run view, evaluation, gallery, ...): the case
    # without a run already fuzzes every widget of the first render, Train included (its clicks
    # start runs there too). The whole page once more after a run took 224 s of CI.
    covered = frozenset(widget_names(at)) if trained else frozenset()
    try:
        if trained:
            at.slider(key="mnist.epochs").set_value(1)
            at.select_slider(key="mnist.subset").set_value(1_000)
            at.button(key="mnist.train").click()
            at.run()
            wait_for_a_finished_run(at)
        tried = fuzz(at, page, covered, after_click=lambda: stop_every_run(tmp_path / "runs"))
    finally:
        stop_every_run(tmp_path / "runs")
    assert tried or page == "pages/home.py"
    if trained:  # the run's own widgets were found and tried
        assert any(count for key, count in tried.items()), tried
    clicked = {key: count for (kind, key), count in tried.items() if kind in CLICKED}
    # A button may vanish or disable itself after its first click (Train while registering);
    # every other button must have taken both clicks.
    assert not clicked or max(clicked.values()) == 2, clicked
