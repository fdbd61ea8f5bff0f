"""Home: the course map, the series goal, and whether the datasets are ready."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from course import lessons

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_home(monkeypatch) -> AppTest:
    monkeypatch.chdir(PROJECT_ROOT)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def shown_text(at: AppTest) -> str:
    links = [link.proto.label for link in at.get("page_link")]
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + links)


def test_home_renders_the_series_goal_and_all_ten_lessons(data_dir, monkeypatch):
    at = run_home(monkeypatch)
    assert at.title[0].value == "PyTorch Course Lab"
    text = shown_text(at)
    assert lessons.SERIES_GOAL in text
    assert len(lessons.all_lessons()) == 10
    for lesson in lessons.all_lessons():
        assert f"{lesson.code} {lesson.title}" in text
        assert lesson.description in text
    for module in lessons.MODULES:
        assert f"Module {module.label}" in [s.value for s in at.subheader]


def test_home_links_available_lessons_and_marks_the_rest_coming_soon(data_dir, monkeypatch):
    at = run_home(monkeypatch)
    linked = {link.proto.page for link in at.get("page_link")}
    available = {lesson.slug for lesson in lessons.all_lessons() if lesson.available}
    assert "datasets-and-dataloaders" in linked
    assert linked == available
    text = shown_text(at)
    for lesson in lessons.all_lessons():
        if not lesson.available:
            assert f"⏳ **{lesson.code} {lesson.title}**" in text
    assert text.count(":gray-badge[coming soon]") == 10 - len(available)


def test_home_shows_both_datasets_ready_from_course_data_dir(data_dir, monkeypatch):
    at = run_home(monkeypatch)
    table = at.dataframe[0].value
    assert table["dataset"].tolist() == ["mnist", "fashion-mnist"]
    assert table["status"].tolist() == ["ready", "ready"]
    assert table["folder"].tolist() == [str(data_dir)] * 2
    assert table["set by"].tolist() == ["COURSE_DATA_DIR"] * 2


def test_home_on_an_empty_data_root_says_which_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    st.cache_resource.clear()
    at = run_home(monkeypatch)
    table = at.dataframe[0].value
    assert all(status.startswith("missing 4 of 4 files") for status in table["status"])
    assert table["folder"].tolist() == [str(tmp_path)] * 2
    assert [w.value for w in at.warning if w.value.startswith(f"No dataset is in `{tmp_path}` yet.")]


def test_home_with_the_data_shows_no_missing_data_warning(data_dir, monkeypatch):
    assert not [w for w in run_home(monkeypatch).warning if w.value.startswith("No dataset")]


def test_home_without_course_data_dir_names_the_default_cache_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    at = run_home(monkeypatch)
    table = at.dataframe[0].value
    assert table["set by"].tolist() == ["default cache folder"] * 2
    assert table["folder"].tolist() == [str(tmp_path / "pytorch-course-lab" / "data")] * 2


def test_home_says_where_colab_links_point_or_why_there_are_none(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_REPOSITORY", "alice/torch-course")
    assert "Colab links point at `alice/torch-course`." in shown_text(run_home(monkeypatch))
    monkeypatch.delenv("COURSE_REPOSITORY")
    monkeypatch.setattr(lessons, "repository", lambda: None)  # as in a checkout with no GitHub remote
    text = shown_text(run_home(monkeypatch))
    assert "Open in Colab needs the course's GitHub repository" in text
    assert "`COURSE_REPOSITORY=owner/name` environment variable" in text
    assert "open in Colab" not in text and "as an **Open in Colab** link" not in text


def test_home_promises_colab_only_when_the_link_exists(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_REPOSITORY", "alice/torch-course")
    text = shown_text(run_home(monkeypatch))
    assert "download or open in Colab." in text and "as an **Open in Colab** link." in text


def test_home_shows_each_modules_gap_and_misconceptions(data_dir, monkeypatch):
    at = run_home(monkeypatch)
    text = shown_text(at)
    core = lessons.MODULES[0]
    assert "I understand how this works, but I've never actually trained a real model" in text
    for belief, truth in core.misconceptions + lessons.MODULES[2].misconceptions:
        assert belief in text and truth in text
    assert [e.label for e in at.expander].count("Misconceptions this module fixes (4)") == 2
