"""A learner's progress: which checks they answered and which runs they made, per lesson."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from course import lessons
from course.engine.train import RunConfig
from course.runs import progress, run_files, workspace
from course.ui import lesson as lesson_ui
from tests.pages.conftest import open_lesson


def test_next_lesson_follows_the_syllabus_and_ends_after_the_last():
    order = lessons.all_lessons()
    assert lesson_ui.next_lesson("tensors").slug == "autograd"
    assert lesson_ui.next_lesson("training-loop").slug == "datasets-and-dataloaders"  # across modules
    assert lesson_ui.next_lesson(order[-1].slug) is None


def _every_next_lesson_link():
    import streamlit as st

    from course import lessons
    from course.ui.lesson import next_lesson_link

    st.navigation([st.Page(str(item.page_path), url_path=item.slug)
                   for item in lessons.all_lessons() if item.available])
    for item in lessons.all_lessons():
        next_lesson_link(item.slug)


def test_next_lesson_link_links_written_pages_and_names_the_rest():
    at = AppTest.from_function(_every_next_lesson_link, default_timeout=60)
    at.run()
    assert not at.exception
    links = [link.proto.label for link in at.get("page_link")]
    following = lessons.all_lessons()[1:]
    assert links == [f"Next: {item.code} {item.title}" for item in following if item.available]
    assert "Next: 2.2.1 Datasets and DataLoaders" in links  # a written page is a link
    captions = [caption.value for caption in at.caption]
    assert captions == [f"Next: {item.code} {item.title} (coming soon)"
                        for item in following if not item.available]
    assert len(links) + len(captions) == len(lessons.all_lessons()) - 1  # none after the last


# ----------------------------------------------------------------------------- the record

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATASETS = "datasets-and-dataloaders"
SHAPE_RIGHT = "64 images, 1 channel (grayscale), 28×28 pixels"


@pytest.fixture
def runs_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path))
    return tmp_path


def new_space(root: Path) -> workspace.Workspace:
    return workspace.Workspace(workspace.new_token(), root)


def test_an_answer_is_on_disk_and_in_no_other_workspace(tmp_path):
    mine, theirs = new_space(tmp_path), new_space(tmp_path)
    progress.record_answer(mine.path, DATASETS, "dl.q_shape", SHAPE_RIGHT, True)
    progress.record_answer(mine.path, DATASETS, "dl.q_iterations", 12, False)
    on_disk = json.loads((mine.path / progress.PROGRESS_FILE).read_text())["lessons"][DATASETS]
    assert {key: (r["answer"], r["right"]) for key, r in on_disk["answers"].items()} == {
        "dl.q_shape": (SHAPE_RIGHT, True), "dl.q_iterations": (12, False)}
    assert progress.answers(mine.path, DATASETS) == on_disk["answers"]
    assert progress.answers(theirs.path, DATASETS) == {}
    assert progress.last_lesson(theirs.path) is None


def test_forgetting_a_lesson_keeps_other_lessons_and_the_runs(tmp_path):
    space = new_space(tmp_path)
    progress.record_answer(space.path, DATASETS, "dl.q_shape", SHAPE_RIGHT, True)
    progress.record_answer(space.path, "mnist-project", "mnist.q_logits", "Class 0", True)
    run_files.create_run(space.new_run_dir(), RunConfig(), "a run", lesson=DATASETS)
    progress.forget_lesson(space.path, DATASETS)
    assert progress.answers(space.path, DATASETS) == {}
    assert list(progress.answers(space.path, "mnist-project")) == ["mnist.q_logits"]
    assert progress.runs_made(space.path, DATASETS) == 1


def test_runs_made_counts_the_runs_tagged_with_the_lesson_as_they_are_now(tmp_path):
    space = new_space(tmp_path)
    first = run_files.create_run(space.new_run_dir(), RunConfig(), lesson="mnist-project")
    run_files.create_run(space.new_run_dir(), RunConfig(seed=1), lesson="mnist-project")
    run_files.create_run(space.new_run_dir(), RunConfig(seed=2), lesson=DATASETS)
    run_files.create_run(space.new_run_dir(), RunConfig(seed=3))  # made outside a lesson
    assert progress.runs_made(space.path, "mnist-project") == 2
    space.delete_run(first.name)
    assert progress.runs_made(space.path, "mnist-project") == 1
    assert progress.runs_made(space.path, DATASETS) == 1


def test_the_record_refuses_a_slug_outside_the_syllabus_and_survives_a_broken_file(tmp_path):
    space = new_space(tmp_path)
    with pytest.raises(KeyError, match="no lesson with slug"):
        progress.record_answer(space.path, "../elsewhere", "k", 1, True)
    (space.path / progress.PROGRESS_FILE).write_text("{half a file")
    assert progress.answers(space.path, DATASETS) == {}
    progress.record_visit(space.path, "mnist-project")
    assert progress.last_lesson(space.path).slug == "mnist-project"


def test_total_counts_declared_checks_and_any_answered_one_no_longer_declared():
    assert progress.total_checks(DATASETS) == 4
    assert progress.total_checks(DATASETS, {"dl.q_shape": {}, "dl.q_gone": {}}) == 5
    undeclared = [one.slug for one in lessons.all_lessons() if one.slug not in progress.LESSON_CHECKS]
    for slug in undeclared:  # a lesson whose page declares no checks (yet) counts none
        assert progress.total_checks(slug) == 0
    assert progress.total_checks("tensors") == len(progress.LESSON_CHECKS["tensors"])


# ----------------------------------------------------------------------------- the pages


def answer_two_checks(at: AppTest) -> str:
    """A right choice and a number wrong twice; returns the workspace the answers started."""
    at.radio(key="dl.q_shape.choice").set_value(SHAPE_RIGHT)
    at.button(key="dl.q_shape.check").click().run()
    at.number_input(key="dl.q_iterations.guess").set_value(12)
    at.button(key="dl.q_iterations.check").click().run()
    at.button(key="dl.q_iterations.check").click().run()
    assert not at.exception, at.exception
    return at.session_state["workspace.token"]


def verdicts(at: AppTest) -> list[str]:
    return [s.value for s in at.success] + [e.value for e in at.error]


def test_answers_come_back_with_the_link_after_a_restart_and_stay_out_of_other_workspaces(
        data_dir, runs_root, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    token = answer_two_checks(open_lesson(f"pages/{DATASETS}.py"))
    assert workspace.exists(token, runs_root)
    st.cache_data.clear()
    st.cache_resource.clear()  # what a server restart forgets; the record is on disk
    back = open_lesson(f"pages/{DATASETS}.py", ws=token)
    assert back.radio(key="dl.q_shape.choice").value == SHAPE_RIGHT
    assert back.number_input(key="dl.q_iterations.guess").value == 12
    shown = verdicts(back)
    assert any(v.startswith("Right. ") for v in shown)  # the shape check's verdict
    assert any(v.startswith("Not quite: the answer is 13.") for v in shown)
    assert back.session_state["dl.q_iterations.result"] == 12
    other = open_lesson(f"pages/{DATASETS}.py")  # a new learner: no link, nothing answered
    assert other.radio(key="dl.q_shape.choice").value is None
    assert not [v for v in verdicts(other) if v.startswith(("Right", "Not quite"))]
    stranger = new_space(runs_root)  # someone else's link: their (empty) record only
    theirs = open_lesson(f"pages/{DATASETS}.py", ws=stranger.token)
    assert theirs.number_input(key="dl.q_iterations.guess").value is None
    assert progress.answers(stranger.path, DATASETS) == {}


def test_reset_forgets_this_lessons_answers_only(data_dir, runs_root, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = open_lesson(f"pages/{DATASETS}.py")
    token = answer_two_checks(at)
    space = workspace.Workspace(token, runs_root)
    progress.record_answer(space.path, "mnist-project", "mnist.q_logits", "Class 0", True)
    at.run()
    at.button(key=f"{DATASETS}.reset").click().run()
    assert not at.exception, at.exception
    assert progress.answers(space.path, DATASETS) == {}
    assert list(progress.answers(space.path, "mnist-project")) == ["mnist.q_logits"]
    assert at.radio(key="dl.q_shape.choice").value is None
    assert at.number_input(key="dl.q_iterations.guess").value is None
    assert not [v for v in verdicts(at) if v.startswith(("Right", "Not quite"))]
    assert "every check asks again" in at.toast[0].value
    back = open_lesson(f"pages/{DATASETS}.py", ws=token)  # and the link brings nothing back
    assert back.radio(key="dl.q_shape.choice").value is None


def test_home_shows_each_lessons_progress_and_where_to_continue(data_dir, runs_root, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    space = new_space(runs_root)
    progress.record_answer(space.path, DATASETS, "dl.q_shape", SHAPE_RIGHT, True)
    progress.record_answer(space.path, DATASETS, "dl.q_iterations", 12, False)
    run_files.create_run(space.new_run_dir(), RunConfig(), lesson="mnist-project")
    run_files.create_run(space.new_run_dir(), RunConfig(seed=1), lesson="mnist-project")
    progress.record_visit(space.path, "mnist-project")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["ws"] = space.token
    at.run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert "2 of 4 checks answered · 0 runs made" in captions
    assert "0 of 1 check answered · 2 runs made" in captions
    assert "0 of 7 checks answered · 0 runs made" in captions
    links = [link.proto.label for link in at.get("page_link")]
    assert "Continue where you left off: 2.2.2 Project: MNIST" in links
    fresh = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    fresh.run()  # no link: nothing to show, and no workspace made for a visit
    assert not [c for c in fresh.caption if " answered · " in c.value]
    assert [c for c in fresh.caption if c.value.startswith("Your progress (checks answered")]
    assert not [link for link in fresh.get("page_link") if "Continue" in link.proto.label]
    assert [p.name for p in runs_root.iterdir()] == [space.token]


def rendered_checks(at: AppTest) -> set[str]:
    return {b.key.removesuffix(".check") for b in at.button if b.key and b.key.endswith(".check")}


@pytest.mark.slow
@pytest.mark.parametrize("slug", [item.slug for item in lessons.all_lessons() if item.available
                                  and item.slug != "home"])
def test_every_check_a_page_shows_is_declared_for_its_lesson(slug, data_dir, runs_root,
                                                             monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    at = open_lesson(f"pages/{slug}.py")
    shown = rendered_checks(at)
    if slug == "debugging-and-visualization":  # the bug lab asks one check per bug it offers
        offered = at.radio(key="debug.lab_bug").options  # shown with spaces for hyphens
        shown |= {f"debug.lab_check.{bug.replace(' ', '-')}" for bug in offered}
    assert shown == set(progress.LESSON_CHECKS.get(slug, ()))
