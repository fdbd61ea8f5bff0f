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


# --- Where "Open in Colab" points -------------------------------------------------------------

@pytest.mark.parametrize("remote", [
    "https://github.com/alice/torch-course.git", "https://github.com/alice/torch-course",
    "git@github.com:alice/torch-course.git", "ssh://git@github.com/alice/torch-course.git",
    "https://x-access-token:secret@github.com/alice/torch-course.git\n",
])
def test_github_remotes_give_owner_and_name_only(remote):
    assert lessons.github_repository(remote) == "alice/torch-course"


@pytest.mark.parametrize("remote", [
    "https://gitlab.com/alice/torch-course.git", "https://github.com/alice/torch-course/tree/x",
    "https://github.com/../etc", "https://github.com/alice/..", "git@github.com:alice/a b.git",
    "https://github.com.evil.example/alice/torch-course.git", "/srv/git/torch-course.git", "",
])
def test_other_remotes_give_no_repository(remote):
    assert lessons.github_repository(remote) is None


def git_checkout(folder: Path, remote: str | None = None) -> Path:
    """A real git repository in folder, with `origin` set to remote when given."""
    import subprocess

    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(folder), "remote", "add", "origin", remote], check=True)
    return folder


def test_origin_repository_reads_the_checkouts_own_remote(tmp_path):
    on_github = git_checkout(tmp_path / "a", "git@github.com:alice/torch-course.git")
    elsewhere = git_checkout(tmp_path / "b", "https://gitlab.com/alice/torch-course.git")
    no_remote = git_checkout(tmp_path / "c")
    assert lessons.origin_repository(on_github) == "alice/torch-course"
    assert lessons.origin_repository(elsewhere) is None
    assert lessons.origin_repository(no_remote) is None
    assert lessons.origin_repository(tmp_path / "gone") is None  # no folder: no git, no crash


@pytest.fixture
def checkout_remote(tmp_path, monkeypatch):
    """Point the course at a scratch checkout whose origin remote the test chooses."""
    def use(remote: str | None) -> None:
        folder = git_checkout(tmp_path / f"checkout-{len(list(tmp_path.iterdir()))}", remote)
        monkeypatch.setattr(lessons, "PROJECT_ROOT", folder)
    monkeypatch.delenv("COURSE_REPOSITORY", raising=False)
    return use


def test_repository_prefers_the_setting_then_the_remote_then_none(checkout_remote, monkeypatch):
    checkout_remote("https://github.com/alice/torch-course.git")
    assert lessons.repository() == "alice/torch-course"
    monkeypatch.setenv("COURSE_REPOSITORY", "bob/course-fork")
    assert lessons.repository() == "bob/course-fork"
    monkeypatch.setenv("COURSE_REPOSITORY", "not a repository")  # unusable: ignored
    assert lessons.repository() == "alice/torch-course"
    checkout_remote(None)
    assert lessons.repository() is None


def header_buttons(notebook_slug: str = "mnist-project"):
    """Run a page that shows only the lesson header; return its download and link buttons."""
    from streamlit.testing.v1 import AppTest

    def page(slug):
        from course.ui import lesson

        lesson.lesson_header(slug)

    app = AppTest.from_function(page, args=(notebook_slug,)).run(timeout=60)
    assert not app.exception
    return app.get("download_button"), app.get("link_button")


def test_header_links_colab_to_the_checkouts_github_repository(checkout_remote):
    checkout_remote("git@github.com:alice/torch-course.git")
    # The header only offers a notebook that exists: copy the real one into the scratch checkout.
    notebook = lessons.lesson("mnist-project").notebook_name
    (lessons.PROJECT_ROOT / "notebooks").mkdir()
    (lessons.PROJECT_ROOT / "notebooks" / notebook).write_bytes(
        (Path(__file__).resolve().parent.parent / "notebooks" / notebook).read_bytes())
    downloads, links = header_buttons()
    assert len(downloads) == 1 and len(links) == 1
    assert links[0].proto.url == ("https://colab.research.google.com/github/alice/torch-course/blob/"
                                  f"main/notebooks/{notebook}")


def test_header_without_a_github_repository_offers_the_download_alone(checkout_remote):
    checkout_remote("https://gitlab.com/alice/torch-course.git")
    notebook = lessons.lesson("mnist-project").notebook_name
    (lessons.PROJECT_ROOT / "notebooks").mkdir()
    (lessons.PROJECT_ROOT / "notebooks" / notebook).write_text("{}")
    downloads, links = header_buttons()
    assert len(downloads) == 1
    assert len(links) == 0
