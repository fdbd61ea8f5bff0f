"""A lesson page's head: title, where it sits in its module, the exercise notebook links."""

from __future__ import annotations

import streamlit as st

from course import lessons
from course.runs import memory, progress, server, workspace
from course.ui import callouts, checks
from course.ui.navigation import replace_app_heading, use_app_navigation

CURRENT_LESSON = "lesson.slug"  # checks and runs made on this page are counted in this lesson

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
    st.session_state[CURRENT_LESSON] = slug
    space = known_workspace()
    if space is not None:
        restore_progress(space, slug)
    module = lessons.module_of(lesson)
    replace_app_heading()
    callouts.readable_code_colours()  # every lesson shows code: token colours that pass contrast
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
    else:
        buttons = st.container(horizontal=True)
    if space is not None and (slug in progress.LESSON_CHECKS or progress.answers(space.path, slug)):
        reset_button(buttons, space, slug)
    return lesson


def known_workspace() -> workspace.Workspace | None:
    """The learner's workspace when their link or this session names one that exists; never
    starts one, so a visit alone leaves nothing on disk."""
    for token in (st.query_params.get("ws"), st.session_state.get("workspace.token")):
        if token and workspace.exists(token):
            return workspace.Workspace(token)
    return None


def restore_progress(space: workspace.Workspace, slug: str) -> None:
    """Answered checks show as answered when the learner comes back with their link; the
    visit becomes Home's "Continue where you left off"."""
    if st.session_state.get("progress.token") not in (None, space.token):
        for key in _session_checks():  # another workspace's link: its answers, not this one's
            checks.forget(key)
    st.session_state["progress.token"] = space.token
    for key, record in progress.answers(space.path, slug).items():
        if not checks.answered(key):
            checks.restore(key, record.get("answer"))
    if st.session_state.get("progress.visited") != (space.token, slug):  # once, not every rerun
        progress.record_visit(space.path, slug)
        st.session_state["progress.visited"] = (space.token, slug)


def _session_checks() -> set[str]:
    """Every check this session holds an answer for, on any page."""
    declared = {key for keys in progress.LESSON_CHECKS.values() for key in keys}
    return declared | {name.removesuffix(".result") for name in st.session_state
                       if isinstance(name, str) and name.endswith(".result")}


def forget_progress(space: workspace.Workspace, slug: str) -> None:
    """Reset one lesson: its answers leave the record and the page; its runs stay."""
    for key in {*progress.LESSON_CHECKS.get(slug, ()), *progress.answers(space.path, slug)}:
        checks.forget(key)
    progress.forget_lesson(space.path, slug)
    st.toast("Your answers in this lesson are forgotten: every check asks again. Your runs "
             "stay.", icon="🔄")


def reset_button(container, space: workspace.Workspace, slug: str) -> None:
    """"Reset my progress in this lesson", behind a confirmation."""
    with container.popover("🔄 Reset my progress in this lesson"):
        st.markdown("Forget every answer you gave to this lesson's checks, so each asks again? "
                    "Your runs stay, and other lessons keep their answers.")
        st.button("Yes, forget my answers", key=f"{slug}.reset", type="primary",
                  on_click=forget_progress, args=(space, slug))


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
