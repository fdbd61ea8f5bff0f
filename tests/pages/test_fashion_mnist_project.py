"""Lesson 2.3.3 through AppTest: the dataset preview, the baselines, the designer, a real short
run through the worker, the leaderboard, the lr finder, error analysis and the human quiz.

Training runs in the page's worker processes; AppTest never fires `run_every` by itself, so the
tests rerun once a second until the run's status says it finished. The quick baseline (2 epochs
on 10,000 images) is trained once per module.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from course.concepts import fashion_baselines as baselines
from course.concepts import human_quiz
from course.engine import data, models
from course.runs import recorder
from course.ui import datasets
from tests.pages.conftest import metric, open_lesson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("runs_root", "own_worker_pool")
PAGE = "pages/fashion-mnist-project.py"
RUN_TIMEOUT_S = 120


def open_page(ws: str | None = None) -> AppTest:
    return open_lesson(PAGE, ws)


@pytest.fixture
def lesson(data_dir, monkeypatch) -> AppTest:
    monkeypatch.chdir(PROJECT_ROOT)
    return open_page()


def run_states(runs_root: Path, token: str) -> dict[str, str]:
    runs = sorted((runs_root / token / "runs").glob("run-*"))
    return {run.name: json.loads((run / "status.json").read_text()).get("state") for run in runs}


def click_and_wait(at: AppTest, runs_root: Path, key: str) -> AppTest:
    """Click a Train button, then rerun like the live fragment until every run is done."""
    token = at.query_params["ws"]
    before = len(run_states(runs_root, token))
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        states = run_states(runs_root, token)
        if len(states) > before and set(states.values()) == {"done"}:
            at.run()
            assert not at.exception, at.exception
            return at
        if at.exception or time.monotonic() > deadline:
            pytest.fail(f"the run did not finish: states {states}, exception {at.exception}")
        time.sleep(1)
        at.run()


@pytest.fixture(scope="module")
def trained(data_dir, runs_root) -> str:
    """The token of a workspace holding one finished quick baseline."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT_ROOT)
        at = click_and_wait(open_page(), runs_root, "fashion.quick")
    return at.query_params["ws"]


@pytest.fixture
def trained_page(trained, monkeypatch) -> AppTest:
    monkeypatch.chdir(PROJECT_ROOT)
    return open_page(ws=trained)


def board(at: AppTest):
    table = next(t.value for t in at.table if "validation accuracy" in t.value.columns)
    return table.reset_index()


def caption_with(at: AppTest, text: str) -> str:
    return next(c.value for c in at.caption if text in c.value)


# --- 1. Dataset and baselines ------------------------------------------------------------------

def test_page_renders_the_ten_classes_the_sample_grid_and_the_baselines(lesson):
    assert lesson.title[0].value == "Project: Fashion-MNIST"
    classes = next(f.value for f in lesson.dataframe if "class" in f.value.columns)
    assert list(classes["class"]) == data.CLASS_NAMES["fashion-mnist"]
    table = next(f.value for f in lesson.dataframe if "source" in f.value.columns)
    assert list(table["test accuracy"]) == sorted(
        (row["test_accuracy"] for row in baselines.PUBLISHED), reverse=True)
    assert 0.883 in list(table["test accuracy"]) and 0.835 in list(table["test accuracy"])
    assert lesson.image, "the sample grid is drawn"


def test_the_why_harder_section_names_the_upper_body_pairs_from_the_real_images(lesson):
    text = next(m.value for m in lesson.markdown if "upper-body garments" in m.value)
    for pair in ("Coat / Shirt", "Pullover / Coat", "Pullover / Shirt"):
        assert pair in text
    assert "MNIST's most alike digits, 4 / 9" in text


def test_the_harder_check_accepts_the_silhouette_answer(lesson):
    radio = next(r for r in lesson.radio if r.key == "fashion.q_harder.choice")
    radio.set_value(radio.options[1]).run()
    lesson.button(key="fashion.q_harder.check").click().run()
    assert any(s.value.startswith("Right.") for s in lesson.success)


def test_a_new_sample_draw_redraws_without_error(lesson):
    lesson.number_input(key="fashion.sample_seed").set_value(3).run()
    assert not lesson.exception


# --- 2. Designer -------------------------------------------------------------------------------

def test_the_default_is_the_improved_mlp_and_its_parameter_count_is_the_models(lesson):
    text = caption_with(lesson, "This run:")
    count = models.parameter_count(models.improved_mlp())
    assert f"{count:,} parameters" in text and "improved MLP" in text


def test_the_cnn_preset_is_labelled_a_preview_and_custom_channels_change_its_size(lesson):
    lesson.button_group(key="fashion.preset").set_value(
        "Small CNN: preview of convolutions (next series)").run()
    assert lesson.radio(key="fashion.arch").value == "cnn"
    assert any("preview" in c.value for c in lesson.caption)
    lesson.number_input(key="fashion.channels_1").set_value(8).run()
    lesson.number_input(key="fashion.channels_2").set_value(16).run()
    count = models.parameter_count(models.small_cnn(channels=(8, 16)))
    assert f"{count:,} parameters" in caption_with(lesson, "This run:")


def test_custom_widths_under_the_budget_and_a_bad_width_gets_a_friendly_error(lesson):
    lesson.text_input(key="fashion.hidden").set_value("100, 50").run()
    count = models.parameter_count(models.improved_mlp((100, 50)))
    assert count < 100_000 and f"{count:,} parameters** (under" in caption_with(lesson, "This run:")
    lesson.text_input(key="fashion.hidden").set_value("wide, 12").run()
    assert any("whole numbers separated by commas" in e.value for e in lesson.error)
    assert lesson.button(key="fashion.train").disabled
    assert not lesson.exception


def test_augmentation_is_offered_as_beyond_this_course(lesson):
    toggle = lesson.toggle(key="fashion.augment")
    assert "beyond this course" in toggle.label
    toggle.set_value(True).run()
    assert "augment=True" in caption_with(lesson, "This run:")


def test_a_shared_link_restores_the_same_configuration(lesson, monkeypatch):
    lesson.text_input(key="fashion.hidden").set_value("300, 100").run()
    lesson.toggle(key="fashion.augment").set_value(True).run()
    lesson.select_slider(key="fashion.lr").set_value(3e-3).run()
    lesson.selectbox(key="fashion.optimizer").set_value("sgd").run()
    lesson.number_input(key="fashion.seed").set_value(7).run()
    link = {name: value for name, value in lesson.query_params.items() if name != "ws"}
    assert link == {"hidden": "300, 100", "augment": "1", "lr": "0.003", "optimizer": "sgd",
                    "seed": "7"}
    shared = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    for name, values in link.items():  # a new learner opens the link
        shared.query_params[name] = values
    shared.switch_page(PAGE)
    shared.run()
    assert not shared.exception
    assert shared.session_state["fashion.config"] == lesson.session_state["fashion.config"]
    assert shared.session_state["fashion.config"].hidden == (300, 100)


def test_a_link_with_unreadable_settings_says_so_and_uses_the_defaults(data_dir, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"epochs": "many", "lr": "0.025", "arch": "transformer"})
    at.switch_page(PAGE)
    at.run()
    assert any("arch, epochs could not be read" in w.value for w in at.warning)
    config = at.session_state["fashion.config"]
    assert (config.epochs, config.lr, config.model) == (10, 0.03, "mlp-bn")  # lr: nearest stop


def test_export_as_a_script_is_offered_for_the_designed_experiment(lesson):
    labels = [button.proto.label for button in lesson.get("download_button")]
    assert "⬇️ Export as a script" in labels
    lesson.text_input(key="fashion.hidden").set_value("oops").run()
    labels = [button.proto.label for button in lesson.get("download_button")]
    assert "⬇️ Export as a script" not in labels  # nothing to export from a broken design


# --- 3-6. A real run on the leaderboard, error analysis, the quiz -------------------------------

def test_the_quick_baseline_is_ranked_on_the_leaderboard_beside_the_published_results(
        trained_page, trained, runs_root):
    table = board(trained_page)
    mine = table[table["#"] == "1"]
    assert len(mine) == 1
    assert mine.iloc[0]["run"].startswith("quick baseline")
    assert 0.5 < float(mine.iloc[0]["validation accuracy"]) < 1
    assert "MLP 256-128-100" in list(table["run"])
    run = next((runs_root / trained / "runs").glob("run-*"))
    history = json.loads((run / "status.json").read_text())["history"]
    best = max(history, key=lambda row: row["val_accuracy"])
    assert mine.iloc[0]["validation accuracy"] == f"{best['val_accuracy']:.4f}"
    assert mine.iloc[0]["test accuracy"] == f"{best['test_accuracy']:.4f}"
    published = table[table["#"] == "📚"]
    assert published[published["run"] == "2 conv, under 100K parameters"].iloc[0][
        "parameters"] == "< 100K"
    assert list(published["run"]) == [row["name"] for row in sorted(
        baselines.PUBLISHED, key=lambda row: -row["test_accuracy"])]


def test_error_analysis_evaluates_the_best_epoch_and_counts_the_cluster(trained_page, trained,
                                                                        runs_root):
    run = next((runs_root / trained / "runs").glob("run-*"))
    history = json.loads((run / "status.json").read_text())["history"]
    best = max(history, key=lambda row: (row["val_accuracy"], -row["epoch"]))
    assert metric(trained_page, "Test accuracy (best epoch)") == f"{best['test_accuracy']:.2%}"
    share = metric(trained_page, "Mistakes inside the upper-body cluster")
    assert 20 <= int(share.rstrip("%")) <= 100
    mistakes = next(f.value for f in trained_page.dataframe if "predicted" in f.value.columns)
    assert len(mistakes) == 12 and (mistakes["true"] != mistakes["predicted"]).all()
    assert list(mistakes["confidence"]) == sorted(mistakes["confidence"], reverse=True)


def test_the_best_checkpoint_can_be_downloaded_and_a_mistake_followed_through_the_network(
        trained_page, trained, runs_root):
    run = next((runs_root / trained / "runs").glob("run-*"))
    history = json.loads((run / "status.json").read_text())["history"]
    best = max(history, key=lambda row: (row["val_accuracy"], -row["epoch"]))["epoch"]
    labels = [button.proto.label for button in trained_page.get("download_button")]
    assert f"⬇️ Download epoch {best}'s checkpoint" in labels
    assert recorder.snapshot_path(run, best).exists()  # the file the button sends
    box = trained_page.selectbox(key="fashion.inside")
    assert len(box.options) == 12
    box.set_value(box.options[3]).run()
    assert not trained_page.exception
    charts = [json.loads(chart.proto.spec) for chart in trained_page.get("plotly_chart")]
    bars = next(spec for spec in charts if any(
        "logits" in (a.get("text") or "") for a in spec["layout"].get("annotations", [])))
    assert len(bars["data"][-1]["y"]) == 10  # the 10 logits, last


def test_the_human_quiz_scores_the_learner_beside_the_model_on_the_same_20(trained_page):
    labels = data.split_tensors("fashion-mnist", False).labels
    indices = human_quiz.quiz_indices(labels, seed=0)
    names = data.CLASS_NAMES["fashion-mnist"]
    for number, index in enumerate(indices[:15]):  # 15 right, 5 left empty
        trained_page.selectbox(key=f"fashion.quiz.{number}").set_value(names[int(labels[index])])
    trained_page.button(key="FormSubmitter:fashion.quiz-Score my answers").click().run()
    assert metric(trained_page, "You") == "15 / 20"
    assert metric(trained_page, "Published humans") == "83.5%"
    assert "/ 20" in metric(trained_page, "Your best model")


def test_the_lr_sweep_suggests_a_rate_and_its_three_confirm_runs_give_a_verdict(trained_page,
                                                                                 runs_root):
    trained_page.select_slider(key="fashion.images").set_value(5_000).run()
    trained_page.button(key="fashion.sweep").click().run(timeout=120)
    assert not trained_page.exception
    text = next(m.value for m in trained_page.markdown if "Suggested learning rate" in m.value)
    rates = [float(r) for r in re.search(r"The confirm runs: \*\*(.+?)\*\*", text).group(1)
             .split(", ")]
    assert len(rates) == 3 and rates[1] == pytest.approx(3 * rates[0], rel=0.1)
    at = click_and_wait(trained_page, runs_root, "fashion.confirm_runs")
    table = next(f.value for f in at.dataframe if "learning rate" in f.value.columns)
    assert sorted(table["learning rate"]) == sorted(rates)
    verdicts = [s.value for s in at.success] + [w.value for w in at.warning]
    assert any("The suggestion held up" in v or "The suggestion did not win" in v
               for v in verdicts), verdicts


# --- Without data ------------------------------------------------------------------------------

@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    datasets._cached_split.clear()
    yield tmp_path
    datasets._cached_split.clear()


def test_without_data_the_page_says_why_and_still_renders(empty_root, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = open_page()
    errors = [e.value for e in at.error]
    assert errors and all(str(path) in errors[0]
                          for path in data.required_files("fashion-mnist", empty_root))
    assert at.button(key="fashion.quick").disabled and at.button(key="fashion.train").disabled
    assert any("Train a run" in i.value for i in at.info)
    assert at.dataframe, "the baselines table still shows"
