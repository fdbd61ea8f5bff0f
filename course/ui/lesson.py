"""A lesson page's head: title, where it sits in its module, the exercise notebook links."""

from __future__ import annotations

import streamlit as st

from course import lessons
from course.runs import memory, server
from course.ui.navigation import replace_app_heading, use_app_navigation

# Every lesson page imports this module. The server's own torch work (evaluation, small demos)
# uses one thread, deliberately: training runs in worker processes (course.runs.jobs) with a
# fixed thread count each, and torch's thread count is process-global, so it is set once here.
server.configure_threads(1)
memory.return_freed_memory()  # sessions' threads must not each hoard freed memory


def colab_url(notebook_name: str) -> str | None:
    """The notebook opened in Colab from GitHub, or None when no GitHub repository is known."""
    repository = lessons.repository()
    if repository is None:
        return None
    return (f"https://colab.research.google.com/github/{repository}/blob/main/notebooks/"
            f"{notebook_name}")


def lesson_header(slug: str) -> lessons.Lesson:
    """Title, where the lesson sits in its module, and the exercise notebook links."""
    use_app_navigation()
    lesson = lessons.lesson(slug)
    module = lessons.module_of(lesson)
    replace_app_heading()
    st.caption(f"Module {module.label} · Lesson {lesson.code}")
    st.title(lesson.title)
    st.caption(" → ".join(f"“{step}”" for step in module.arc))
    notebook = lessons.PROJECT_ROOT / "notebooks" / lesson.notebook_name
    if notebook.exists():
        buttons = st.container(horizontal=True)  # side by side, each as wide as its label
        buttons.download_button("⬇️ Exercise notebook", notebook.read_bytes(),
                                file_name=lesson.notebook_name, width="content",
                                mime="application/x-ipynb+json", key=f"{slug}.notebook")
        url = colab_url(lesson.notebook_name)
        if url:  # without a GitHub repository a Colab link would lead nowhere: download only
            buttons.link_button("Open the notebook in Colab", url, width="content")
    return lesson


def next_lesson(slug: str) -> lessons.Lesson | None:
    """The syllabus' lesson after this one, or None after the last."""
    order = lessons.all_lessons()
    position = [item.slug for item in order].index(slug)
    return order[position + 1] if position + 1 < len(order) else None


def next_lesson_link(slug: str) -> None:
    """A link to the syllabus' next lesson (its page when written, else what comes next); none
    after the last lesson."""
    following = next_lesson(slug)
    if following is None:
        return
    label = f"Next: {following.code} {following.title}"
    if following.available:
        st.page_link(str(following.page_path), label=label, icon="➡️")
    else:
        st.caption(f"{label} (coming soon)")
