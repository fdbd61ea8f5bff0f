"""Lesson 2.2.1 through AppTest: the explorer, the checks, the buttons, and a missing dataset."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from course.engine import data

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/datasets-and-dataloaders.py"
SHAPE_OPTIONS = ["64 channels of 1×28×28 images", "64 images, 1 channel (grayscale), 28×28 pixels",
                 "1 image of 64×28×28 pixels", "28 batches of 64×1 vectors"]


def open_lesson(monkeypatch) -> AppTest:
    monkeypatch.chdir(PROJECT_ROOT)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def lesson(data_dir, monkeypatch) -> AppTest:
    return open_lesson(monkeypatch)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def explore(at: AppTest, n: int, batch: int, drop_last: bool) -> AppTest:
    at.number_input(key="dl.n").set_value(n)
    at.number_input(key="dl.batch").set_value(batch)
    at.toggle(key="dl.drop_last").set_value(drop_last)
    at.run()
    assert not at.exception
    return at


def answer_explorer_checks(at: AppTest) -> AppTest:
    """Commit both predictions (one of them wrong, twice): the explorer may then show its answers."""
    at.number_input(key="dl.q_iterations.guess").set_value(12)
    at.button(key="dl.q_iterations.check").click().run()
    at.button(key="dl.q_iterations.check").click().run()
    at.radio(key="dl.q_last_batch.choice").set_value("[4, 1]")
    at.button(key="dl.q_last_batch.check").click().run()
    assert not at.exception
    return at


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"].get("title", {}).get("text")
            for chart in at.get("plotly_chart")]


def table_with(at: AppTest, column: str):
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def texts_before(at: AppTest, key: str) -> list[str]:
    """Every text the page shows above the widget with this key, top to bottom."""
    texts = []
    for node in at.main:
        if getattr(node, "key", None) == key:
            return texts
        value = getattr(node, "value", None) if node.type != "radio" else None
        if isinstance(value, str):
            texts.append(value)
    raise AssertionError(f"no widget {key} on the page")


def clamp_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if " takes " in w.value and "you typed" in w.value]


def checked(at: AppTest, prefix: str) -> list[str]:
    """Feedback from a check button: success/error/warning texts starting with prefix."""
    return [e.value for e in [*at.success, *at.error, *at.warning] if e.value.startswith(prefix)]


# --- Rendering on real data -------------------------------------------------------------------

def test_explorer_hides_its_answers_until_both_checks_are_answered(lesson):
    assert lesson.title[0].value == "Datasets and DataLoaders"
    assert not lesson.error
    assert "Iterations per epoch" not in [m.label for m in lesson.metric]
    assert not [c for c in lesson.caption if "= 13" in c.value]
    assert not [f for f in lesson.dataframe if "x.shape" in f.value.columns]
    assert any("give away both answers" in i.value for i in lesson.info)
    lesson.number_input(key="dl.q_iterations.guess").set_value(13)
    lesson.button(key="dl.q_iterations.check").click().run()
    assert "Iterations per epoch" not in [m.label for m in lesson.metric]  # one check is not both
    lesson.radio(key="dl.q_last_batch.choice").set_value("[8, 1]")
    lesson.button(key="dl.q_last_batch.check").click().run()
    assert "Iterations per epoch" not in [m.label for m in lesson.metric]  # a first wrong try
    lesson.button(key="dl.q_last_batch.check").click().run()
    assert not lesson.exception
    assert metric(lesson, "Iterations per epoch") == "13"
    assert "ceil(100 / 8) = 13" in [c.value for c in lesson.caption]


def test_explorer_shows_other_loaders_before_the_checks(lesson):
    explore(lesson, 100, 7, drop_last=False)
    assert metric(lesson, "Iterations per epoch") == "15"


def test_mnist_batch_shape_is_revealed_only_after_the_shape_check(lesson):
    labels = ("batch: images in this batch", "channels: 1 = grayscale", "height in pixels",
              "width in pixels")
    assert not [m for m in lesson.metric if m.label in labels]
    assert not [c for c in lesson.caption if "images.shape" in c.value]
    lesson.radio(key="dl.q_shape.choice").set_value(SHAPE_OPTIONS[0])
    lesson.button(key="dl.q_shape.check").click().run()
    assert not [m for m in lesson.metric if m.label in labels]  # one wrong try: think again
    lesson.button(key="dl.q_shape.check").click().run()
    assert not lesson.exception
    assert [metric(lesson, label) for label in labels] == ["64", "1", "28", "28"]


def test_lesson_shows_a_real_mnist_dataset(lesson):
    assert metric(lesson, "len(train_data)") == "60,000"
    assert metric(lesson, "one image") == "[1, 28, 28]"
    counts = ", ".join(f"{d}: {c:,}" for d, c in enumerate(
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]))
    assert f"Images per digit: {counts}" in [c.value for c in lesson.caption]


def test_lesson_shows_the_collation_error_and_its_fix(lesson):
    code = [c.value for c in lesson.code]
    assert any(c.startswith("RuntimeError: stack expects each tensor to be equal size")
               for c in code)
    assert "first batch → [8, 1, 28, 28]" in code


# --- The batch-shape explorer -----------------------------------------------------------------

def test_explorer_shows_938_iterations_for_mnist_with_batch_64(lesson):
    explore(lesson, 60_000, 64, drop_last=False)
    assert metric(lesson, "Iterations per epoch") == "938"
    assert "ceil(60,000 / 64) = 938" in [c.value for c in lesson.caption]
    assert "938 iterations in one epoch (bars: the first 199 and the last)" in chart_titles(lesson)


def test_explorer_title_counts_every_iteration_at_large_n(lesson):
    explore(lesson, 100_000, 1, drop_last=False)
    assert metric(lesson, "Iterations per epoch") == "100,000"
    assert "ceil(100,000 / 1) = 100,000" in [c.value for c in lesson.caption]
    titles = [t for t in chart_titles(lesson) if t and "iterations in one epoch" in t]
    assert titles == ["100,000 iterations in one epoch (bars: the first 199 and the last)"]


def test_explorer_drop_last_drops_the_partial_batch(lesson):
    answer_explorer_checks(lesson)
    explore(lesson, 100, 8, drop_last=True)
    assert metric(lesson, "Iterations per epoch") == "12"
    assert "floor(100 / 8) = 12" in [c.value for c in lesson.caption]
    assert "`drop_last=True` throws the last 4 samples away this epoch." in [
        m.value for m in lesson.markdown]


def test_explorer_live_loader_table_matches_the_metric(lesson):
    answer_explorer_checks(lesson)
    explore(lesson, 100, 8, drop_last=False)
    table = table_with(lesson, "x.shape")
    assert table["iteration"].tolist() == ["1", "2", "3", "…", "12", "13"]
    assert table["x.shape"].tolist() == ["[8, 1]"] * 3 + ["…", "[8, 1]", "[4, 1]"]
    assert any("yielded **13** batches" in m.value for m in lesson.markdown)


def test_number_inputs_leave_no_out_of_range_entry_in_the_box(lesson):
    """Streamlit 1.67's own bounds keep an out-of-range entry red in the box, silently unused."""
    bounded = [(box.key, box.min, box.max) for box in lesson.number_input
               if box.min is not None or box.max is not None]
    assert bounded == []


def test_explorer_uses_the_nearest_allowed_n_and_batch_size_and_says_so(lesson):
    explore(lesson, 250_000, 0, drop_last=False)
    assert lesson.number_input(key="dl.n").value == 100_000
    assert lesson.number_input(key="dl.batch").value == 1
    assert metric(lesson, "Iterations per epoch") == "100,000"
    assert clamp_warnings(lesson) == [
        "**N samples** takes 1 to 100,000: you typed 250,000, so the page uses 100,000.",
        "**batch_size** takes 1 to 10,000: you typed 0, so the page uses 1."]
    explore(lesson, 500, 10, drop_last=False)
    assert clamp_warnings(lesson) == []
    assert metric(lesson, "Iterations per epoch") == "50"


def test_image_index_and_sample_seed_use_the_nearest_allowed_value(lesson):
    lesson.number_input(key="dl.aug_index").set_value(70_000)
    lesson.number_input(key="dl.grid_seed").set_value(-3)
    lesson.run()
    assert not lesson.exception
    assert lesson.number_input(key="dl.aug_index").value == 59_999
    assert lesson.number_input(key="dl.grid_seed").value == 0
    assert sorted(clamp_warnings(lesson)) == [
        "**Image index** takes 0 to 59,999: you typed 70,000, so the page uses 59,999.",
        "**Sample seed (change it for other images)** takes 0 to 10,000: you typed -3, so the "
        "page uses 0."]


def test_explorer_warns_when_drop_last_empties_the_epoch(lesson):
    explore(lesson, 5, 8, drop_last=True)
    assert metric(lesson, "Iterations per epoch") == "0"
    assert any("the epoch is empty" in w.value for w in lesson.warning)
    assert any("yielded **0** batches" in m.value for m in lesson.markdown)


# --- Predict, then check ----------------------------------------------------------------------

@pytest.mark.parametrize(("guess", "expected"), [(13, "Right"), (12, "Not quite: the answer is 13")])
def test_iterations_check_judges_the_prediction(lesson, guess, expected):
    lesson.number_input(key="dl.q_iterations.guess").set_value(guess)
    lesson.button(key="dl.q_iterations.check").click().run()
    if guess != 13:  # a first wrong guess earns one more try, without the answer
        assert checked(lesson, "Not quite. Think again")
        assert not [e for e in checked(lesson, "Not quite") if "13" in e]
        lesson.button(key="dl.q_iterations.check").click().run()
    assert not lesson.exception
    feedback = checked(lesson, "Right") + checked(lesson, "Not quite")
    assert len(feedback) == 1 and feedback[0].startswith(expected)
    assert (feedback[0] in [s.value for s in lesson.success]) is (guess == 13)


def test_shape_check_accepts_64_grayscale_images_and_rejects_64_channels(lesson):
    assert lesson.radio(key="dl.q_shape.choice").options == SHAPE_OPTIONS
    lesson.radio(key="dl.q_shape.choice").set_value(SHAPE_OPTIONS[1])
    lesson.button(key="dl.q_shape.check").click().run()
    assert [s for s in checked(lesson, "Right.") if "64 images" in s]
    lesson.radio(key="dl.q_shape.choice").set_value(SHAPE_OPTIONS[0])
    lesson.button(key="dl.q_shape.check").click().run()
    assert [e.value for e in lesson.error] == [
        f"Not quite: “{SHAPE_OPTIONS[1]}”. The batch dimension comes first: 64 images, each "
        "with 1 channel (grayscale) of 28×28 pixels."]


def test_two_epochs_first_batches_show_only_after_the_shuffle_check(lesson):
    column = "epoch 2, first batch y"
    assert not [f for f in lesson.dataframe if column in f.value.columns]
    lesson.radio(key="dl.q_shuffle.choice").set_value("The same order as epoch 1")
    lesson.button(key="dl.q_shuffle.check").click().run()
    assert not [f for f in lesson.dataframe if column in f.value.columns]
    lesson.button(key="dl.q_shuffle.check").click().run()
    assert not lesson.exception
    table = table_with(lesson, column)
    assert len(table) == 8 and table[column].tolist() != table["epoch 1, first batch y"].tolist()


def test_shuffle_check_comes_before_the_page_says_how_epochs_are_ordered(lesson):
    reveals = re.compile(r"every epoch|each epoch|new random order|re-?shuffl", re.IGNORECASE)
    assert not [t for t in texts_before(lesson, "dl.q_shuffle.choice") if reveals.search(t)]
    assert not [t for t in [m.value for m in lesson.markdown] if "stored order" in t]
    lesson.radio(key="dl.q_shuffle.choice").set_value("A new random order")
    lesson.button(key="dl.q_shuffle.check").click().run()
    assert any("re-shuffled at the start of every epoch" in s.value for s in lesson.success)
    assert any("every epoch walks the dataset in stored order" in m.value for m in lesson.markdown)


def test_shuffle_charts_give_each_setting_one_colour_and_a_cue_besides_colour(lesson):
    specs = plotly_specs(lesson)
    race = next(s for s in specs
                if s["layout"].get("title", {}).get("text", "").startswith("Same model"))
    ranges = next(s for s in specs if any("narrow slice" in a.get("text", "")
                                          for a in s["layout"].get("annotations", [])))
    race_colours = {t["name"]: t["line"]["color"] for t in race["data"]}
    race_dashes = {t["name"]: t["line"].get("dash", "solid") for t in race["data"]}
    titles = [a["text"].split(":")[0] for a in ranges["layout"]["annotations"]]  # left to right
    ranges_colours = {title: t["marker"]["color"] for title, t in zip(titles, ranges["data"])}
    hatches = {title: t["marker"].get("pattern", {}).get("shape", "")
               for title, t in zip(titles, ranges["data"])}
    assert sorted(titles) == ["shuffle=False", "shuffle=True"]  # each panel names its setting
    assert ranges_colours == race_colours
    assert race_colours["shuffle=False"] != race_colours["shuffle=True"]
    assert race_dashes["shuffle=False"] != race_dashes["shuffle=True"]
    assert hatches["shuffle=False"] != hatches["shuffle=True"]


def test_iterations_check_starts_empty_and_asks_for_a_number_first(lesson):
    assert lesson.number_input(key="dl.q_iterations.guess").value is None
    lesson.button(key="dl.q_iterations.check").click().run()
    assert not lesson.exception
    assert checked(lesson, "Type a number first")
    assert not checked(lesson, "Right") and not checked(lesson, "Not quite")
    assert "Iterations per epoch" not in [m.label for m in lesson.metric]


def test_shape_check_without_a_choice_asks_for_a_prediction(lesson):
    lesson.button(key="dl.q_shape.check").click().run()
    assert checked(lesson, "Pick an answer first")


# --- Buttons that run real training -----------------------------------------------------------

def test_run_both_loops_recovers_w_2_and_b_1(lesson):
    lesson.button(key="dl.run_loops").click().run()
    assert not lesson.exception
    results = table_with(lesson, "w")
    assert list(results.index) == ["raw tensors", "DataLoader"]
    assert results["updates"].tolist() == [200, 260]
    # both judged on the same yardstick, all 100 points: close to the noise variance 0.01
    assert results["loss on all 100 points"].tolist() == pytest.approx([0.01, 0.01], abs=0.01)
    assert results["w"].tolist() == pytest.approx([2.0, 2.0], abs=0.1)
    assert results["b"].tolist() == pytest.approx([1.0, 1.0], abs=0.1)


def test_batch_size_button_trains_on_1600_of_2000_images_and_shows_a_table(lesson):
    lesson.select_slider(key="dl.bs_subset").set_value("2,000 (1,600 to train, 400 held out)")
    lesson.button(key="dl.bs_run").click().run()
    assert not lesson.exception
    rows = table_with(lesson, "batch size")
    sizes = rows["batch size"].tolist()
    assert sizes == [8, 64, 512]
    assert rows["updates made"].tolist() == [math.ceil(1600 / b) for b in sizes]
    assert rows["activation memory (KB)"].tolist() == [57, 458, 3668]  # whole KB, no noise
    held_out = rows["held-out accuracy"]
    assert ((held_out > 10) & (held_out <= 100)).all(), "accuracies are shown in percent"
    assert rows["epochs"].tolist() == [1.0, 1.0, 1.0]
    positive = ["activation memory (KB)", "seconds", "samples / s", "gradient noise",
                "train accuracy", "held-out accuracy"]
    assert (rows[positive] > 0).all().all()
    assert any("2,000 images (1,600 to train, 400 held out)" in m.value for m in lesson.markdown)
    caption = next(m.value for m in lesson.markdown if "**Speed**, as measured here" in m.value)
    fastest = rows.loc[rows["samples / s"].idxmax(), "batch size"]
    assert f"B={fastest} trained fastest" in caption
    assert "fixed-epoch budget" in caption and "Generalization" in caption
    gaps = ", ".join(f"B={b}: {gap:+.1f}" for b, gap in zip(sizes, rows["gap (train − held-out)"]))
    assert f"in percentage points ({gaps})" in caption
    assert "Neither budget isolates batch size" in caption and "updates made (above)" in caption


def test_batch_size_button_clicked_twice_replays_the_cache_without_an_error(lesson):
    for _ in range(2):
        lesson.button(key="dl.bs_run").click().run()
        assert not lesson.exception
        assert table_with(lesson, "batch size")["batch size"].tolist() == [8, 64, 512]


def test_equal_updates_budget_gives_every_batch_size_200_updates(lesson):
    lesson.radio(key="dl.bs_budget").set_value("200 updates each (equal-updates budget)")
    lesson.multiselect(key="dl.bs_sizes").set_value([16, 64])
    lesson.button(key="dl.bs_run").click().run()
    assert not lesson.exception
    rows = table_with(lesson, "batch size")
    assert rows["updates made"].tolist() == [200, 200]
    assert rows["epochs"].tolist() == pytest.approx([200 * 16 / 1600, 200 * 64 / 1600])
    assert any("equal-updates budget" in m.value for m in lesson.markdown)
    caption = next(m.value for m in lesson.markdown if "**Generalization**" in m.value)
    assert "Neither budget isolates batch size" in caption
    assert "epochs of images seen (above)" in caption


# --- No dataset ---------------------------------------------------------------------------------

@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


def test_lesson_without_data_shows_the_missing_files_once_and_keeps_the_explorer(empty_root,
                                                                                 monkeypatch):
    at = open_lesson(monkeypatch)
    errors = [e.value for e in at.error]
    assert len(errors) == 1, "the missing-dataset message appears once, not once per section"
    for path in data.required_files("mnist", empty_root):
        assert str(path) in errors[0]
    assert "COURSE_DATA_DIR" in errors[0]
    # the MNIST batch section carries the message; each later section points to it in one line
    pointers = [c.value for c in at.caption if "needs the mnist dataset too" in c.value]
    assert len(pointers) == 4  # torchvision MNIST, transforms, lazy folder, batch size
    assert not [b for b in at.button if b.key == "dl.bs_run"]
    assert [m.label for m in at.metric] == []  # the explorer waits for the checks at N=100, B=8
    explore(at, 60_000, 64, drop_last=False)
    assert metric(at, "Iterations per epoch") == "938"
    at.button(key="dl.run_loops").click().run()
    assert not at.exception and table_with(at, "w") is not None
