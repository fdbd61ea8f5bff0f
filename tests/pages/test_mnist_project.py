"""Lesson 2.2.2 through AppTest: softmax sliders, the check, background training, evaluation.

Training runs in the page's worker processes; AppTest never fires `run_every` by itself, so
the tests call `at.run()` once a second until the run's caption says it finished. One simple
run (1 epoch, 5,000 images) is trained once per module into a workspace whose token later
tests put back into the URL, exactly as a learner's bookmarked link does.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart
from streamlit.testing.v1 import AppTest

from course.charts import figures
from course.concepts import digits
from course.engine import data, models
from course.runs import workspace
from course.ui import canvas, datasets
from tests.concepts.test_digits import png_claiming_size
from tests.pages.conftest import metric, open_lesson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("runs_root", "own_worker_pool")
PAGE = "pages/mnist-project.py"
WORKED = "Worked example (10 classes)"
THREE = "Three classes"
LOGITS_OPTIONS = ["class 0, low loss (≈ 0.24)", "class 2, high loss",
                  "class 0, high loss (≈ 3.2)", "class 1, low loss"]
RUN_TIMEOUT_S = 90


def open_page(ws: str | None = None) -> AppTest:
    return open_lesson(PAGE, ws)


@pytest.fixture
def lesson(data_dir, monkeypatch) -> AppTest:
    monkeypatch.chdir(PROJECT_ROOT)
    return open_page()


def logit_slider(at: AppTest, index: int):
    return next(s for s in at.slider if s.label == f"z{index}")


def gallery_charts(at: AppTest) -> list:
    """The prediction galleries' chart elements: one plotly figure each (a composed image, its
    labels, its markers)."""
    return [chart for chart in at.get("plotly_chart")
            if json.loads(chart.proto.spec)["data"][0]["type"] == "image"]


def galleries(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in gallery_charts(at)]


def gallery_labels(at: AppTest, which: int = 0) -> list[tuple[str, str]]:
    """(colour, label) under each image of a gallery: (GREEN, "#1 · <b>7</b> · 97%"), or red
    with a second line "<br>true 4: 0.31%"."""
    texts = galleries(at)[which]["data"][1]
    return list(zip(texts["textfont"]["color"], texts["text"], strict=True))


def confidence(label: str) -> int:
    return int(re.match(r"#\d+ · <b>\d</b> · (\d+)%", label).group(1))


def choose_model(at: AppTest, kind: str) -> None:
    """Pick a model on the radio, whether its options are kinds or their display labels."""
    radio = at.radio(key="mnist.model")
    radio.set_value(kind if radio.value in models.MODEL_KINDS else models.MODEL_LABELS[kind])


def run_states(runs_root: Path, token: str) -> dict[str, str]:
    runs = sorted((runs_root / token / "runs").glob("run-*"))
    return {run.name: json.loads((run / "status.json").read_text()).get("state") for run in runs}


def train_and_wait(at: AppTest, runs_root: Path, kind: str = "mlp") -> AppTest:
    """Start a 1-epoch run on 5,000 images, then rerun like the live fragment until it ends."""
    choose_model(at, kind)
    at.slider(key="mnist.epochs").set_value(1)
    # A rerun first, as the browser does after each widget: Train's callback takes the
    # settings of the run that drew the button.
    at.select_slider(key="mnist.subset").set_value(5_000).run()
    token = at.query_params["ws"]
    before = len(run_states(runs_root, token))
    at.button(key="mnist.train").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        states = run_states(runs_root, token)
        if len(states) > before and set(states.values()) == {"done"}:
            at.run()  # the worker is done: one more rerun, as the live fragment's next poll
            assert not at.exception, at.exception
            return at
        problems = [e.value for e in at.error] + [w.value for w in at.warning
                                                   if "interrupted" in w.value]
        if at.exception or problems or time.monotonic() > deadline:
            pytest.fail(f"the run did not finish: states {states}, exception {at.exception}, "
                        f"problems {problems}")
        time.sleep(1)
        at.run()


@pytest.fixture(scope="module")
def trained(data_dir, runs_root) -> str:
    """The token of a workspace holding one finished simple-MLP run (1 epoch, 5,000 images)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT_ROOT)
        at = train_and_wait(open_page(), runs_root)
    return at.query_params["ws"]


@pytest.fixture
def trained_page(trained, monkeypatch) -> AppTest:
    """A new session that comes back to the trained workspace through its link."""
    monkeypatch.chdir(PROJECT_ROOT)
    return open_page(ws=trained)


# --- Rendering and the softmax sections ---------------------------------------------------------

def test_page_renders_without_exception(lesson):
    assert lesson.title[0].value == "Project: MNIST"
    assert not lesson.error
    assert [m.value for m in lesson.metric if m.label == "Parameters"] == ["235,146", "235,914"]
    assert "Train a model above (1 epoch is enough) and its evaluation appears here." in [
        i.value for i in lesson.info]


def test_worked_example_preset_shows_0_819(lesson):
    assert lesson.segmented_control(key="mnist.preset").value == WORKED
    assert metric(lesson, "Predicted class (argmax)") == "7"
    assert metric(lesson, "p(true class)") == "0.819"
    assert metric(lesson, "Cross-entropy −log p") == "0.200"
    assert any("e^3.8 = 44.70, sum 54.58, p = 0.82" in m.value and "**44.70**" in m.value
               and "**54.58**" in m.value for m in lesson.markdown)


def test_no_preset_shows_the_checks_logits_before_it_is_answered(lesson):
    """Bug: a preset named "Check question" showed 0.786 and 0.241 in one click."""
    for key in ("mnist.preset", "mnist.double_preset"):
        control = lesson.segmented_control(key=key)
        assert not [name for name in control.options if "Check" in name]
        for name in control.options:
            control.set_value(name).run()
            shown = [m.value for m in lesson.metric] + [c.value for c in lesson.caption]
            assert not any("0.786" in text or "2.0, -1.0, 0.5" in text for text in shown), name
            control = lesson.segmented_control(key=key)


def test_three_class_preset_and_back(lesson):
    lesson.segmented_control(key="mnist.preset").set_value(THREE).run()
    assert not lesson.exception
    assert len([s for s in lesson.slider if s.label.startswith("z")]) == 3
    expected = torch.softmax(torch.tensor([0.5, 1.5, -1.0]), 0)[1].item()
    assert metric(lesson, "p(true class)") == f"{expected:.3f}"
    lesson.segmented_control(key="mnist.preset").set_value(WORKED).run()
    assert metric(lesson, "p(true class)") == "0.819"


def test_moving_a_logit_slider_changes_p_true_class(lesson):
    logit_slider(lesson, 7).set_value(0.0).run()
    assert not lesson.exception
    logits = torch.tensor([0.85, -0.65, 0.05, 0.35, -1.45, -0.25, 0.25, 0.0, 0.55, -0.66])
    expected = torch.softmax(logits, dim=0)[7].item()
    assert metric(lesson, "p(true class)") == f"{expected:.3f}" != "0.819"
    assert metric(lesson, "Predicted class (argmax)") == "0"  # 0.85 is now the largest logit
    assert metric(lesson, "Cross-entropy −log p") == f"{-math.log(expected):.3f}"


def test_double_softmax_demo_has_its_own_logits_and_shows_the_stalled_loss(lesson):
    worked = torch.tensor([0.85, -0.65, 0.05, 0.35, -1.45, -0.25, 0.25, 3.8, 0.55, -0.66])
    softmax_first = torch.nn.functional.cross_entropy(torch.softmax(worked, 0)[None], torch.tensor([7]))
    assert lesson.segmented_control(key="mnist.double_preset").value == WORKED
    assert metric(lesson, "loss, raw logits") == "0.200"
    assert metric(lesson, "loss, softmax first") == f"{softmax_first.item():.3f}"

    # A logit slider of the playground above leaves this section alone: it has its own logits.
    logit_slider(lesson, 7).set_value(0.0).run()
    assert metric(lesson, "loss, raw logits") == "0.200"

    lesson.segmented_control(key="mnist.double_preset").set_value("Confidently wrong (10 classes)").run()
    wrong = torch.tensor([[-1.0, 0.0, 0.0, 4.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    assert not lesson.exception
    assert metric(lesson, "loss, raw logits") == \
        f"{torch.nn.functional.cross_entropy(wrong, torch.tensor([0])).item():.3f}"
    assert any("never drop below 1.461 for 10 classes" in c.value for c in lesson.caption)


def test_logits_check_accepts_the_right_option_and_rejects_a_wrong_one(lesson):
    choice = lesson.radio(key="mnist.q_logits.choice")
    assert choice.options == LOGITS_OPTIONS
    choice.set_value(LOGITS_OPTIONS[0])
    lesson.button(key="mnist.q_logits.check").click().run()
    assert [s.value for s in lesson.success if s.value.startswith("Right.")] == [
        "Right. softmax = [0.786, 0.039, 0.175], so argmax is class 0 and L = −ln 0.786 = 0.24. "
        "With true label 2 the loss would be 1.74, with label 1 it would be 3.24. Try it in "
        "the playground: pick 'Three classes' and set z0 = 2.0, z1 = −1.0, z2 = 0.5."]
    lesson.radio(key="mnist.q_logits.choice").set_value(LOGITS_OPTIONS[2])
    lesson.button(key="mnist.q_logits.check").click().run()
    assert [e.value for e in lesson.error if e.value.startswith("Not quite")]
    assert not [s for s in lesson.success if s.value.startswith("Right.")]


def test_explicit_sequential_comes_before_the_builders(lesson):
    codes = [c.value for c in lesson.code]
    explicit = next(i for i, code in enumerate(codes) if code.startswith("model = nn.Sequential("))
    builder = next(i for i, code in enumerate(codes) if code.startswith("def simple_mlp("))
    assert explicit < builder
    assert "nn.Linear(784, 256), nn.ReLU()," in codes[explicit]
    assert any("235,146 parameters" in m.value for m in lesson.markdown)


def test_torchinfo_counts_mult_adds_in_millions_not_a_memory_unit(lesson):
    table = next(c.value for c in lesson.code if "Total params: 235,146" in c.value)
    assert "Total mult-adds (millions): 15.05" in table and "Units." not in table


def test_softmax_vector_on_screen_is_torch_softmax_of_the_sliders(lesson):
    logit_slider(lesson, 2).set_value(2.5).run()
    logits = torch.tensor([0.85, -0.65, 2.5, 0.35, -1.45, -0.25, 0.25, 3.8, 0.55, -0.66])
    expected = [round(p, 3) for p in torch.softmax(logits, dim=0).tolist()]
    assert f"torch.softmax(logits, dim=0) = {expected}" in [c.value for c in lesson.code]


def test_complete_training_loop_is_shown_and_no_course_jargon(lesson):
    loop = next(c.value for c in lesson.code if c.value.startswith("def train_and_test("))
    for line in ("model.train()", "for images, labels in train_loader:", "model.eval()",
                 "correct += (outputs.argmax(dim=1) == labels).sum().item()"):
        assert line in loop
    # The setup on screen is a real function, pinned to the trainer's by tests/concepts/test_project_setup.
    setup = next(c.value for c in lesson.code if c.value.startswith("def textbook_setup("))
    assert "optimizer = optim.Adam(model.parameters(), lr=1e-3)\n" in setup
    assert "optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)" in setup
    assert "train_loader = DataLoader(train_data, batch_size=64, shuffle=True)" in setup
    assert any("does **not** run this function" in m.value and "fused=True" in m.value
               for m in lesson.markdown)
    texts = [m.value for m in lesson.markdown] + [c.value for c in lesson.caption]
    assert not [t for t in texts if "seed's" in t]
    assert any("AdamW" in t for t in texts)
    assert any("≈ 90×" in t and "(4.605 / 0.051)" in t for t in texts)


def test_why_not_mse_shows_the_bound_and_the_vanishing_gradient(lesson):
    table = next(f.value for f in lesson.dataframe if "MSE's push on the true logit" in f.value)
    mse, ce = table["MSE vs one-hot"].tolist(), table["cross-entropy"].tolist()
    assert mse[2:] == [0.1604, 0.1996] and [round(v, 2) for v in ce[2:]] == [3.91, 6.91]
    push = table["MSE's push on the true logit"].tolist()
    assert push[3] < push[2] < push[1], "MSE's gradient fades as the mistake grows certain"
    assert table["CE's push on the true logit"].tolist()[3] > 0.99


def test_reference_comparison_and_the_text_show_before_any_run(lesson):
    from course.concepts import evaluation

    assert "Compare runs: the scissors" in [s.value for s in lesson.subheader]
    lesson.segmented_control(key="mnist.reference").set_value("60,000 images × 5 epochs").run()
    table = next(f.value for f in lesson.dataframe if "simple (reference) · train %" in f.value)
    reference = evaluation.reference_comparison()
    assert table["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert table["improved (reference) · test %"].tolist() == [
        round(row["test_accuracy"] * 100, 2) for row in reference["improved"]["history"]]
    captions = [c.value for c in lesson.caption]
    assert any("running average over the epoch" in c for c in captions)
    # No gallery yet: nothing may point at one.
    assert not any("Errors cluster on genuinely ambiguous handwriting" in c for c in captions)
    assert not any("Click an image of the gallery" in m.value for m in lesson.markdown)
    for heading in ("What the MLP learned", "Fuller error analysis",
                    "The confusion matrix over epochs", "`model.train()` vs `model.eval()`"):
        assert heading in [s.value for s in lesson.subheader]
    assert any("Loss vs accuracy" in s.value for s in lesson.success)


# --- The workspace link -------------------------------------------------------------------------

def test_workspace_token_is_in_the_url(lesson, runs_root):
    token = lesson.query_params["ws"]
    assert workspace.is_token(token)
    assert lesson.session_state["workspace.token"] == token
    assert (runs_root / token / "runs").is_dir()
    assert any(c.value.endswith(f"/mnist-project?ws={token}") for c in lesson.code)
    lesson.run()
    assert lesson.query_params["ws"] == token, "a rerun keeps the same workspace"


def test_invalid_workspace_token_gets_a_warning_and_a_fresh_one(data_dir, monkeypatch, runs_root):
    monkeypatch.chdir(PROJECT_ROOT)
    at = open_page(ws="../../etc")
    assert not at.exception
    assert any("workspace link in the address bar is not valid" in w.value for w in at.warning)
    token = at.query_params["ws"]
    assert token != "../../etc" and workspace.is_token(token)
    assert (runs_root / token / "runs").is_dir()
    assert not (runs_root.parent.parent / "etc" / "runs").exists()


# --- Training, evaluation, gallery --------------------------------------------------------------

def test_one_epoch_run_finishes_and_is_evaluated(trained_page, trained, runs_root):
    at = trained_page
    assert list(run_states(runs_root, trained).values())[0] == "done"
    accuracy = float(metric(at, "Test accuracy").rstrip("%")) / 100
    assert accuracy > 0.80, f"1 epoch on 5,000 images should pass 80%, got {accuracy:.2%}"
    assert metric(at, "Epochs trained") == "1"
    mistakes = int(metric(at, "Mistakes").split()[0].replace(",", ""))
    assert mistakes == round((1 - accuracy) * 10_000)
    assert "Train a model above (1 epoch is enough) and its evaluation appears here." not in [
        i.value for i in at.info]


def test_gallery_shows_24_test_images_with_coloured_predictions(trained_page):
    (gallery,) = galleries(trained_page)
    assert gallery["data"][0]["source"].startswith("data:image/png;base64,"), "one composed image"
    assert gallery["data"][2]["customdata"] == list(range(24)), "one clickable marker per image"
    (chart,) = gallery_charts(trained_page)
    assert list(chart.proto.selection_mode) == [PlotlyChart.SelectionMode.POINTS]
    labels = gallery_labels(trained_page)
    assert len(labels) == 24
    assert sum(colour == figures.GREEN for colour, _ in labels) > 12, "most predictions are right"
    assert all(("<br>true " in text) == (colour == figures.RED) for colour, text in labels)


def test_mistakes_only_keeps_only_red_items(trained_page):
    trained_page.toggle(key="mnist.mistakes").set_value(True).run()
    assert not trained_page.exception
    labels = gallery_labels(trained_page)
    assert len(labels) == 24
    assert all(colour == figures.RED and "<br>true " in text for colour, text in labels), labels


def test_most_confident_mistakes_come_first(trained_page):
    trained_page.toggle(key="mnist.confident").set_value(True).run()
    labels = gallery_labels(trained_page)
    assert labels and all(colour == figures.RED for colour, _ in labels)
    confidences = [confidence(text) for _, text in labels]
    assert confidences == sorted(confidences, reverse=True)


def test_picking_a_gallery_image_shows_its_activations_and_saliency(trained_page):
    at = trained_page
    picker = next(box for box in at.selectbox
                  if box.label == "Look inside the network for gallery image")
    assert len(picker.options) == 24 and picker.options[0].startswith("#1 · true ")
    picker.select_index(2).run()
    assert not at.exception, at.exception
    picked = next(box for box in at.selectbox
                  if box.label == "Look inside the network for gallery image").value
    assert picked.startswith("#3 · true ")
    true_label = picked.split("true ")[1].split(" ·")[0]
    captions = [caption for image in at.image for caption in image.captions]
    assert any(f": true {true_label}" in str(c) for c in captions), captions
    assert any("units are active (ReLU output above 0)" in m.value for m in at.markdown)
    (gallery,) = galleries(at)
    (outline,) = gallery["layout"]["shapes"]
    x, y = gallery["data"][2]["x"][2], gallery["data"][2]["y"][2]
    assert outline["x0"] < x < outline["x1"] and outline["y0"] < y < outline["y1"], (
        "the picked image is outlined in the gallery")


def test_template_order_and_training_top_losses(trained_page):
    at = trained_page
    at.radio(key="mnist.template_order").set_value("as in the layer").run()
    assert not at.exception, at.exception
    assert len(galleries(at)) == 1
    at.toggle(key="mnist.top_losses").set_value(True).run()
    assert not at.exception, at.exception
    top = gallery_labels(at, which=1)
    assert len(top) == 16
    assert any("<br>label " in text for _, text in top), "wrong ones show P(label)"
    table = next(f.value for f in at.dataframe if "precision" in f.value.columns)
    assert table["class"].tolist() == [str(d) for d in range(10)]
    assert all(0 <= v <= 100 for v in table["f1"].tolist())


def evaluate_run(at: AppTest, label_start: str) -> AppTest:
    """Pick the run whose name starts with label_start in "Model to evaluate"."""
    chooser = model_chooser(at)
    index = next((i for i, option in enumerate(chooser.options) if option.startswith(label_start)),
                 None)
    assert index is not None, f"no run starting {label_start!r} among {chooser.options}"
    chooser.select_index(index).run()
    assert not at.exception, at.exception
    return at


def mode_table(at: AppTest):
    return next((frame.value for frame in at.dataframe if "mode" in frame.value.columns), None)


def test_simple_run_explains_that_both_modes_agree(trained_page):
    at = evaluate_run(trained_page, "simple")
    assert any("The simple MLP you are evaluating has no Dropout or BatchNorm" in m.value
               for m in at.markdown)
    assert any("Click an image of the gallery" in m.value for m in at.markdown)
    modes = mode_table(at)
    reference = json.loads((PROJECT_ROOT / "course/reference/mnist_scissors.json").read_text())
    assert modes["test accuracy (%)"].tolist()[-1] == round(
        100 * reference["runs"]["improved"]["modes"]["eval_mode"], 2)


@pytest.fixture(scope="module")
def improved(trained, runs_root) -> tuple[AppTest, str]:
    """A session that evaluated the simple run, then trained an improved one (1 epoch).

    Returns the session and what "Model to evaluate" showed right after the run finished.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT_ROOT)
        at = open_page(ws=trained)
        assert model_chooser(at).value.startswith("simple")
        train_and_wait(at, runs_root, kind="mlp-bn")
    return at, model_chooser(at).value


def test_improved_run_shows_the_train_and_eval_mode_table(improved, runs_root, trained,
                                                          monkeypatch):
    at, _ = improved
    states = run_states(runs_root, trained)
    assert len(states) == 2 and set(states.values()) == {"done"}
    assert any(s.value == "Compare runs: the scissors" for s in at.subheader)
    monkeypatch.chdir(PROJECT_ROOT)
    modes = mode_table(evaluate_run(at, "improved"))
    assert modes is not None, "evaluating the improved run should show the mode table"
    assert modes["mode"].tolist() == ["train() pass 1", "train() pass 2", "train() pass 3",
                                      "eval()"]
    accuracies = modes["test accuracy (%)"].tolist()
    assert all(50 < value <= 100 for value in accuracies)
    assert accuracies[-1] > 80, "eval() mode: the improved model passes 80% after 1 epoch"
    assert len(set(accuracies[:3])) > 1, "dropout makes the train()-mode passes disagree"


def test_eval_row_equals_the_test_accuracy_shown_above_it(improved, monkeypatch):
    """Bug: the eval() row was measured on a copy whose BatchNorm statistics the train() passes
    had just overwritten with the test set's, so it disagreed with "Test accuracy" above it."""
    at, _ = improved
    monkeypatch.chdir(PROJECT_ROOT)
    at = evaluate_run(at, "improved")
    eval_row = mode_table(at)["test accuracy (%)"].tolist()[-1]
    assert eval_row == float(metric(at, "Test accuracy").rstrip("%"))


def test_one_epoch_run_steps_through_its_saved_epoch(improved, monkeypatch):
    at, _ = improved
    monkeypatch.chdir(PROJECT_ROOT)
    at = evaluate_run(at, "improved")
    after = [m.value for m in at.markdown if m.value.startswith("After epoch **1**:")]
    assert after, "the run's one snapshot is shown"
    shown = after[0].split("(")[1].split("%")[0]
    assert shown == metric(at, "Test accuracy").rstrip("%"), "epoch 1's matrix is the final model"


def test_a_returning_learner_sees_the_newest_run_evaluated(improved, trained, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = open_page(ws=trained)
    assert model_chooser(at).value.startswith("improved")
    assert mode_table(at) is not None


def test_evaluation_follows_the_run_just_trained(improved):
    """Bug: after training a second model, "Model to evaluate" keeps the run it showed before.

    The "Model to evaluate" selectbox keeps its old value when the new run is added
    to its options, so the evaluation, gallery and train()/eval() table silently stay on the
    previous model until the learner notices and picks the new one.
    """
    _, shown_after_training = improved
    assert shown_after_training.startswith("improved"), (
        f"the improved run just finished, yet the evaluation still shows {shown_after_training!r}"
    )


# --- No dataset ---------------------------------------------------------------------------------

@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    """An empty data root. Only the page's dataset cache is cleared: clearing every
    st.cache_resource would also drop the warm job runner, and a new one started here would
    spend its workers' warm-up trying to download MNIST into the empty folder."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    datasets._cached_split.clear()
    yield tmp_path
    datasets._cached_split.clear()


def test_page_without_data_shows_the_dataset_error_and_keeps_softmax(empty_root, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = open_page()
    errors = [e.value for e in at.error]
    assert errors, "the learner should be told why the trainer is missing"
    for path in data.required_files("mnist", empty_root):
        assert all(str(path) in error for error in errors)
    assert at.button(key="mnist.train").disabled
    assert "Train a model above (1 epoch is enough) and its evaluation appears here." in [
        i.value for i in at.info]
    assert metric(at, "p(true class)") == "0.819"
    logit_slider(at, 7).set_value(0.0).run()
    assert not at.exception
    assert metric(at, "p(true class)") != "0.819"


def model_chooser(at: AppTest):
    """The "Model to evaluate" selectbox (its key follows the newest run)."""
    return next(box for box in at.selectbox if box.label == "Model to evaluate")


# --- Reference numbers and the trainer's defaults (issue 18) ------------------------------------

def test_scissors_reference_and_the_mode_table_show_before_any_run(lesson):
    reference = json.loads((PROJECT_ROOT / "course/reference/mnist_scissors.json").read_text())["runs"]
    table = next(f.value for f in lesson.dataframe if "simple (reference) · gap (points)" in f.value)
    assert table["epoch"].tolist() == list(range(1, 16))
    assert table["simple (reference) · train %"].tolist()[-1] == 100.0
    assert table["simple (reference) · gap (points)"].tolist()[-1] > 4, "the scissors are open"
    assert table["improved (reference) · test %"].tolist() == [
        round(row["test_accuracy"] * 100, 2) for row in reference["improved"]["history"]]
    modes = mode_table(lesson)
    assert modes["mode"].tolist()[-1] == "eval()"
    assert modes["test accuracy (%)"].tolist()[-1] > max(modes["test accuracy (%)"].tolist()[:3])


def test_improved_mlp_defaults_to_the_recipes_weight_decay(lesson):
    assert lesson.select_slider(key="mnist.wd.mlp").value == 0.0
    choose_model(lesson, "mlp-bn")
    lesson.run()
    assert lesson.select_slider(key="mnist.wd.mlp-bn").value == models.RECIPE_WEIGHT_DECAY["mlp-bn"] == 1e-4
    caption = next(c.value for c in lesson.caption if c.value.startswith("This run:"))
    assert "Improved MLP" in caption and "weight decay 0.0001" in caption
    assert "improved recipe" in caption


def test_scissors_preset_sets_5000_images_and_15_epochs(lesson):
    lesson.button(key="mnist.scissors_preset").click().run()
    assert lesson.select_slider(key="mnist.subset").value == 5_000
    assert lesson.slider(key="mnist.epochs").value == 15


def test_a_clamped_link_value_is_named(data_dir, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["train_subset"] = "100"
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    assert any("train_subset=100 → 1,000" in c.value for c in at.caption)
    assert at.select_slider(key="mnist.subset").value == 1_000


def test_re_roll_is_disabled_while_the_most_confident_mistakes_come_first(trained_page):
    reroll = trained_page.button(key="mnist.reroll")
    assert not reroll.disabled
    trained_page.toggle(key="mnist.confident").set_value(True).run()
    reroll = trained_page.button(key="mnist.reroll")
    assert reroll.disabled
    assert "fixed order" in reroll.help and "Most confident mistakes first" in reroll.help
    trained_page.toggle(key="mnist.confident").set_value(False).run()
    assert not trained_page.button(key="mnist.reroll").disabled


# --- Your own digit ----------------------------------------------------------------------------

def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(at: AppTest, raw: bytes, name: str = "digit.png") -> AppTest:
    at.radio(key="mnist.digit_source").set_value("Upload a photo").run()
    at.file_uploader(key="mnist.digit_upload").set_value((name, raw, "image/png")).run()
    assert not at.exception, at.exception
    return at


def test_the_upload_box_and_its_label_say_the_pages_own_limit(lesson):
    lesson.radio(key="mnist.digit_source").set_value("Upload a photo").run()
    box = lesson.file_uploader(key="mnist.digit_upload")
    # The box itself refuses bigger files (the server's limit, set for checkpoints, is larger).
    assert box.proto.max_upload_size_mb == digits.MAX_FILE_MB == 5
    assert "up to 5 MB" in box.label
    upload(lesson, b"\0" * (6 * 2**20), "big.png")
    assert any("6.0 MB; this page reads images of at most 5 MB" in e.value for e in lesson.error)


def test_a_30000_pixel_square_png_is_too_many_pixels_not_unreadable(lesson):
    upload(lesson, png_claiming_size(30_000, 30_000), "huge.png")
    errors = [e.value for e in lesson.error]
    assert any("too many pixels (30,000 × 30,000)" in e for e in errors), errors
    assert not any("not an image" in e for e in errors), errors


def drawn(monkeypatch, image: Image.Image) -> None:
    """The canvas hands the page this drawing, as the browser does after a stroke."""
    monkeypatch.setattr(canvas, "draw_digit", lambda key, size=280: png(image))


def test_a_fully_inked_canvas_says_nothing_to_read(lesson, monkeypatch):
    drawn(monkeypatch, Image.new("RGB", (280, 280), "black"))
    lesson.run()
    assert not lesson.exception, lesson.exception
    infos = [i.value for i in lesson.info]
    assert any("inked all over" in i for i in infos), infos
    assert not any("still empty" in i for i in infos), infos


def test_a_tap_on_the_canvas_is_read_with_a_word_about_its_size(trained_page, monkeypatch):
    dot = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(dot).ellipse([130, 130, 150, 150], fill="black")
    drawn(monkeypatch, dot)
    trained_page.run()
    assert not trained_page.exception, trained_page.exception
    warnings = [w.value for w in trained_page.warning if "very small" in w.value]
    assert len(warnings) == 1 and "spans 8% of the canvas's side" in warnings[0], warnings
    assert any(m.value.startswith("The model says **") for m in trained_page.markdown)
    # A digit that fills the square gets no such word.
    one = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(one).line([(130, 40), (150, 240)], fill="black", width=20)
    drawn(monkeypatch, one)
    trained_page.run()
    assert not [w for w in trained_page.warning if "very small" in w.value]
    assert any(m.value.startswith("The model says **") for m in trained_page.markdown)


def test_the_page_ends_with_a_link_to_the_next_lesson(lesson):
    links = [link.proto for link in lesson.get("page_link")]
    assert [link.label for link in links][-1] == "Next: 2.2.3 Debugging and Visualization"
    assert links[-1].page == "debugging-and-visualization"
