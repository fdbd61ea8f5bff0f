"""Lesson 2.2.3 through AppTest: the X-ray, the pulse, the checks, and the LR comparison trained
for real by the page's workers and read back from their TensorBoard event files."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from course.concepts import diagnostics
from tests.pages.conftest import metric, open_lesson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("runs_root")
PAGE = "pages/debugging-and-visualization.py"
RUN_TIMEOUT_S = 180


def open_page(ws: str | None = None) -> AppTest:
    return open_lesson(PAGE, ws)


@pytest.fixture
def lesson(data_dir, monkeypatch) -> AppTest:
    monkeypatch.chdir(PROJECT_ROOT)
    return open_page()


def test_page_renders_every_section_without_exception(lesson):
    assert lesson.title[0].value == "Debugging and Visualization"
    headers = [h.value for h in lesson.header]
    for section in ("silent failure", "torchinfo", "pulse", "flight recorder", "checklist",
                    "bug lab", "Check your understanding", "opening puzzle", "Capstone"):
        assert any(section.lower() in h.lower() for h in headers), section


CHECK_MODEL = "Check 1's 3-layer model (784-128-64-10)"


def test_xray_total_matches_the_sum_of_parameter_sizes(lesson):
    assert metric(lesson, "Total trainable parameters (torchinfo)") == "235,146"
    assert metric(lesson, "sum(p.numel() for p in model.parameters())") == "235,146"


def test_xray_keeps_check_ones_model_until_the_check_is_answered(lesson):
    assert CHECK_MODEL not in lesson.radio(key="debug.xray_model").options
    assert not any("109,386" in m.value for m in lesson.metric)
    lesson.number_input(key="debug.q_params.guess").set_value(100_000)
    lesson.button(key="debug.q_params.check").click().run()
    assert CHECK_MODEL not in lesson.radio(key="debug.xray_model").options  # a first wrong try
    lesson.button(key="debug.q_params.check").click().run()
    lesson.radio(key="debug.xray_model").set_value(CHECK_MODEL).run()
    assert metric(lesson, "Total trainable parameters (torchinfo)") == "109,386"


def test_shape_lab_shows_the_real_errors(lesson):
    errors = [e.value for e in lesson.error]
    assert any("1792x28 and 784x256" in e for e in errors)
    lesson.segmented_control(key="debug.shape_bug").set_value("Wrong Linear in_features").run()
    assert any("64x128 and 256x10" in e.value for e in lesson.error)


def test_pulse_verdicts_follow_the_course_thresholds(lesson):
    assert any(s.value.startswith("**Verdict: healthy.**") for s in lesson.success)
    assert any(e.value.startswith("**Verdict: vanishing.**") for e in lesson.error)
    lesson.segmented_control(key="debug.pulse_kind").set_value("exploding").run()
    assert any(e.value.startswith("**Verdict: exploding.**") for e in lesson.error)


def test_parameter_check_asks_before_it_reveals(lesson):
    assert not any("109,386" in s.value for s in lesson.success)
    lesson.number_input(key="debug.q_params.guess").set_value(109_386)
    lesson.button(key="debug.q_params.check").click().run()
    assert any("109,386" in s.value for s in lesson.success)


def test_parameter_check_starts_empty_and_asks_for_a_number_first(lesson):
    assert lesson.number_input(key="debug.q_params.guess").value is None
    lesson.button(key="debug.q_params.check").click().run()
    assert not lesson.exception
    assert any(w.value.startswith("Type a number first") for w in lesson.warning)
    assert not any("109,386" in e.value for e in [*lesson.error, *lesson.success])
    assert CHECK_MODEL not in lesson.radio(key="debug.xray_model").options


def test_parameter_check_wrong_answer_prints_the_total_with_separators(lesson):
    lesson.number_input(key="debug.q_params.guess").set_value(109_000)
    lesson.button(key="debug.q_params.check").click().run()
    assert any(e.value.startswith("Not quite. Think again") for e in lesson.error)
    assert not any("109,386" in e.value for e in lesson.error)
    lesson.button(key="debug.q_params.check").click().run()
    wrong = next(e.value for e in lesson.error if e.value.startswith("Not quite"))
    assert "the answer is 109,386" in wrong and "109386" not in wrong


def test_pulse_caption_and_worked_example_follow_the_selected_network(lesson):
    def worked() -> list[str]:
        frame = next(f.value for f in lesson.dataframe if "the course's worked example" in f.value)
        return list(frame["the course's worked example"])

    assert worked() == ["~0.03 in every layer", "early layers ~100,000× smaller than the late ones"]
    assert any("past the 100,000× mark" in c.value for c in lesson.caption)
    lesson.segmented_control(key="debug.pulse_kind").set_value("exploding").run()
    assert worked()[1] == "any norm above 100, or NaN"
    assert not any("100,000× mark" in c.value or "seven orders" in c.value for c in lesson.caption)
    assert any("4× a layer" in c.value for c in lesson.caption)


REFERENCE = json.loads((PROJECT_ROOT / "course/reference/debugging_puzzle.json").read_text())
REFERENCE_LABEL = "Reference, measured with this engine"


def test_puzzle_solution_shows_reference_numbers_until_the_learner_has_a_run(lesson):
    assert sum(c.value.startswith(REFERENCE_LABEL) for c in lesson.caption) == 2  # norms, accuracies
    bars = charts_by_key(lesson, "debug.puzzle_norms")[0]["data"][0]
    assert bars["y"] == pytest.approx([REFERENCE["grad_norms_step_1"][name] for name in bars["x"]])
    assert any(s.value.startswith("**Verdict: healthy.**")
               and s.value.endswith("The gradients are fine: the model does learn.")
               for s in lesson.success)
    assert metric(lesson, "The colleague's model, accuracy as their code computes it") == (
        f"{REFERENCE['accuracy_buggy']:.1%}")
    assert metric(lesson, "The same model, accuracy computed correctly") == (
        f"{REFERENCE['accuracy_right']:.1%}")


def test_dead_relu_is_defined_before_any_run(lesson):
    assert not charts_by_key(lesson, "debug.lr.")
    assert any(c.value.startswith("`dead_relu/2` is the share") for c in lesson.caption)


def test_exploding_captions_say_what_the_heatmap_shows(lesson):
    lesson.segmented_control(key="debug.pulse_kind").set_value("exploding").run()
    lesson.radio(key="debug.heat_kind").set_value("exploding").run()
    z = charts_by_key(lesson, "debug.heatmap")[0]["data"][0]["z"]  # [layer][step], None = NaN
    assert all(row[0] is not None for row in z) and all(row[1] is None for row in z)
    said = [c.value for c in lesson.caption if "NaN" in c.value]
    assert len(said) == 2 and all("from the second step on" in text for text in said)
    assert not any("a few SGD steps" in text or "weights have become infinite" in text
                   for text in said)


def test_opening_puzzle_reads_the_loss_as_a_geometric_mean(lesson):
    text = next(m.value for m in lesson.markdown if "ln 10" in m.value)
    assert "geometric mean" in text and f"{math.exp(-0.5):.0%}" in text


def test_symptom_map_gives_tool_and_fix(lesson):
    lesson.selectbox(key="debug.symptom").set_value("Loss going down, accuracy flat").run()
    assert any("Check the predictions" in i.value for i in lesson.info)


def test_lr_comparison_trains_three_runs_and_overlays_their_event_files(lesson, runs_root):
    lesson.button(key="debug.lr_train").click().run()
    assert not lesson.exception, lesson.exception
    token = lesson.query_params["ws"]
    runs = sorted((runs_root / token / "runs").glob("run-*"))
    assert len(runs) == 3
    wait_until_done(runs)
    lesson.run()
    assert not lesson.exception, lesson.exception
    for run in runs:
        scalars = diagnostics.read_scalars(run / "tb")
        assert len(scalars["accuracy/test"]) == 2  # two epochs, one test point each
    overlay = [spec for spec in (json.loads(e.proto.spec) for e in lesson.get("plotly_chart"))
               if spec["layout"].get("title", {}).get("text") == "loss/train"]
    assert overlay and len(overlay[0]["data"]) == 3
    assert {trace["name"] for trace in overlay[0]["data"]} == {
        "lr 0.0001 (too small)", "lr 0.001 (the recipe)", "lr 0.1 (too large)"}
    assert lesson.get("download_button")
    commands = [c.value for c in lesson.code if "tensorboard --logdir" in c.value]
    assert commands and token not in commands[0] and commands[0].startswith("unzip run-")


def test_capstone_bugs_are_each_shown_by_their_tool(lesson):
    assert any("1792x28 and 784x256" in e.value and e.value.startswith("`summary(")
               for e in lesson.error)
    grads = next(frame.value for frame in lesson.dataframe
                 if "param.grad at optimizer.step()" in frame.value.columns)
    assert len(grads) == 6 and (grads["param.grad at optimizer.step()"] == "None (no gradient)").all()
    assert any("[64, 64]" in code.value for code in lesson.code)  # the puzzle's broadcast


def wait_until_done(runs: list[Path]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        states = [json.loads((run / "status.json").read_text()).get("state") for run in runs]
        if all(state == "done" for state in states):
            return
        assert "failed" not in states, [json.loads((r / "status.json").read_text()) for r in runs]
        assert time.monotonic() < deadline, states
        time.sleep(2)


def charts_by_key(at: AppTest, key_part: str) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart") if key_part in e.proto.id]


def test_each_section_finds_its_own_runs_and_the_puzzle_checks_step_one(lesson, runs_root):
    """The bug lab's healthy run is also the smooth-loss section's: that section must not show it
    alone under a caption about the buggy curve, and must find its same-batch run once trained."""
    lesson.button(key="debug.lab_train.relu-on-logits").click().run()
    lesson.button(key="debug.puzzle_train").click().run()
    runs_dir = runs_root / lesson.query_params["ws"] / "runs"
    assert len(list(runs_dir.glob("run-*"))) == 3
    wait_until_done(sorted(runs_dir.glob("run-*")))
    lesson.run()
    assert not lesson.exception, lesson.exception
    assert not charts_by_key(lesson, "debug.smooth.")
    assert not any("slides smoothly to ~0" in c.value for c in lesson.caption)
    assert any("already there" in c.value for c in lesson.caption)
    lab = charts_by_key(lesson, "debug.lab.relu-on-logits.accuracy/test")
    assert {t["name"] for t in lab[0]["data"]} == {"healthy", "bug: relu-on-logits"}
    assert lab[0]["layout"]["yaxis"]["range"] == [0, 1.02]

    lesson.button(key="debug.smooth_train").click().run()
    assert len(list(runs_dir.glob("run-*"))) == 4  # the healthy run is reused, not trained twice
    wait_until_done(sorted(runs_dir.glob("run-*")))
    lesson.run()
    smooth = charts_by_key(lesson, "debug.smooth.loss/train")
    assert {t["name"] for t in smooth[0]["data"]} == {"healthy", "same batch every step"}
    assert any("slides smoothly to ~0" in c.value for c in lesson.caption)

    puzzle = charts_by_key(lesson, "debug.puzzle.accuracy/train")[0]
    assert puzzle["layout"]["yaxis"]["range"] == [0, 1.02]
    puzzle_dir = next(run for run in runs_dir.glob("run-*")
                      if json.loads((run / "config.json").read_text())["bug"] == "silent-accuracy")
    first = {tag.split("/", 1)[1]: points[0] for tag, points in
             diagnostics.read_scalars(puzzle_dir / "tb").items() if tag.startswith("grad_norm/")}
    bars = charts_by_key(lesson, "debug.puzzle_norms")[0]["data"][0]
    assert all(step == 1 for step, _ in first.values())
    assert bars["y"] == pytest.approx([first[name][1] for name in bars["x"]])
    assert not any(c.value.startswith(REFERENCE_LABEL) for c in lesson.caption)  # the run's own
    # the puzzle's run is named neutrally: its bug would give the opening puzzle away
    assert json.loads((puzzle_dir / "config.json").read_text())["label"] == \
        "the colleague's run (puzzle)"
    assert not any("silent-accuracy" in str(e.value) for e in [*lesson.markdown, *lesson.caption])

    lesson.radio(key="debug.lab_bug").set_value("same-batch").run()
    options = lesson.radio(key="debug.lab_check.same-batch.choice").options
    captions = [c.value for c in lesson.caption]
    assert not any(shared_words(option, caption) for option in options for caption in captions)


def shared_words(a: str, b: str, n: int = 5) -> set[tuple[str, ...]]:
    """Runs of n words that appear in both texts: an answer option that repeats a caption."""
    def runs(text: str) -> set[tuple[str, ...]]:
        words = text.lower().replace("(", " ").replace(")", " ").split()
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
    return runs(a) & runs(b)
