"""The course map matches the series plan, and pages/ matches the course map."""

from __future__ import annotations

from pathlib import Path

import pytest

from course import lessons

PAGES = Path(__file__).resolve().parent.parent / "pages"

SERIES_PLAN = {
    "2.1": ["tensors", "autograd", "nn-module", "training-loop"],
    "2.2": ["datasets-and-dataloaders", "mnist-project", "debugging-and-visualization"],
    "2.3": ["saving-and-loading", "gpu-training", "fashion-mnist-project"],
}


def test_course_has_ten_lessons_in_three_modules_with_the_series_plan_slugs():
    assert [module.code for module in lessons.MODULES] == ["2.1", "2.2", "2.3"]
    assert {module.code: [lesson.slug for lesson in module.lessons]
            for module in lessons.MODULES} == SERIES_PLAN
    assert len(lessons.all_lessons()) == 10


def test_lessons_are_numbered_from_one_inside_their_module():
    for module in lessons.MODULES:
        assert [lesson.module for lesson in module.lessons] == [module.code] * len(module.lessons)
        assert [lesson.number for lesson in module.lessons] == list(
            range(1, len(module.lessons) + 1))


def test_every_module_has_a_goal_and_a_three_step_arc():
    for module in lessons.MODULES:
        assert module.goal
        assert len(module.arc) == 3
        assert module.label.startswith(f"{module.code} ")


@pytest.mark.parametrize(("slug", "code", "notebook"), [
    ("tensors", "2.1.1", "2-1-1-tensors.ipynb"),
    ("datasets-and-dataloaders", "2.2.1", "2-2-1-datasets-and-dataloaders.ipynb"),
    ("fashion-mnist-project", "2.3.3", "2-3-3-fashion-mnist-project.ipynb"),
])
def test_code_and_notebook_name_follow_series_module_lesson(slug, code, notebook):
    lesson = lessons.lesson(slug)
    assert lesson.code == code
    assert lesson.notebook_name == notebook


def test_every_notebook_name_is_2_m_l_slug():
    for lesson in lessons.all_lessons():
        module = lesson.module.split(".")[1]
        assert lesson.notebook_name == f"2-{module}-{lesson.number}-{lesson.slug}.ipynb"


def test_lesson_lookup_names_an_unknown_slug():
    assert lessons.lesson("autograd").title == "Autograd"
    with pytest.raises(KeyError, match="no-such-lesson"):
        lessons.lesson("no-such-lesson")


def test_module_of_finds_the_lessons_module():
    for module in lessons.MODULES:
        for lesson in module.lessons:
            assert lessons.module_of(lesson) is module


def test_available_lessons_are_exactly_the_page_files():
    page_slugs = {path.stem for path in PAGES.glob("*.py")} - {"home"}
    available = {lesson.slug for lesson in lessons.all_lessons() if lesson.available}
    assert available == page_slugs
    for lesson in lessons.all_lessons():
        assert lesson.page_path == PAGES / f"{lesson.slug}.py"


def test_every_page_file_except_home_is_a_lesson_slug():
    slugs = {lesson.slug for lesson in lessons.all_lessons()}
    stray = [path.name for path in PAGES.glob("*.py") if path.stem not in slugs | {"home"}]
    assert stray == []


def test_datasets_and_dataloaders_lesson_is_available_and_needs_data():
    lesson = lessons.lesson("datasets-and-dataloaders")
    assert lesson.available
    assert lesson.needs_data
