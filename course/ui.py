"""The few Streamlit helpers every lesson page shares: header, checks, callouts, data access."""

from __future__ import annotations

import inspect
import os

import streamlit as st

from course import data, lessons


@st.cache_resource(show_spinner="Loading the dataset into memory (once per server)…")
def _cached_split(name: str, train: bool, root: str):
    return data.split_tensors(name, train, root)


def split_or_error(name: str = "mnist", train: bool = True):
    """The in-memory split, or None after showing the learner why it is missing."""
    try:
        return _cached_split(name, train, str(data.data_root()))
    except data.DatasetUnavailable as error:
        st.error(str(error), icon="📦")
        return None


def dataset_or_error(name: str = "mnist", train: bool = True, transform=None):
    """torchvision's own dataset object (per-sample transforms), or None with an error shown."""
    try:
        return data.load_dataset(name, train=train, transform=transform)
    except data.DatasetUnavailable as error:
        st.error(str(error), icon="📦")
        return None


def colab_url(notebook_name: str) -> str:
    repository = os.environ.get("COURSE_REPOSITORY", lessons.REPOSITORY)
    return (f"https://colab.research.google.com/github/{repository}/blob/main/notebooks/"
            f"{notebook_name}")


def lesson_header(slug: str) -> lessons.Lesson:
    """Title, where the lesson sits in its module, and the exercise notebook links."""
    lesson = lessons.lesson(slug)
    module = lessons.module_of(lesson)
    st.caption(f"Module {module.label} · Lesson {lesson.code}")
    st.title(lesson.title)
    st.caption(" → ".join(f"“{step}”" for step in module.arc))
    notebook = lessons.PROJECT_ROOT / "notebooks" / lesson.notebook_name
    left, right = st.columns(2)
    if notebook.exists():
        left.download_button("⬇️ Exercise notebook", notebook.read_bytes(),
                             file_name=lesson.notebook_name,
                             mime="application/x-ipynb+json", key=f"{slug}.notebook")
    right.link_button("Open the notebook in Colab", colab_url(lesson.notebook_name))
    return lesson


def show_source(obj, caption: str | None = None) -> None:
    """The code on screen is the code that runs: read it from the object itself."""
    st.code(inspect.getsource(obj), language="python", wrap_lines=True)
    if caption:
        st.caption(caption)


def takeaway(text: str) -> None:
    st.success(f"**Mental model:** {text}", icon="🧭")


def misconception(belief: str, reality: str) -> None:
    st.warning(f"**Misconception:** “{belief}”\n\n{reality}", icon="🧠")


def foundations_link(text: str) -> None:
    st.info(text, icon="🔗")


def check_number(key: str, question: str, answer: float, explanation: str,
                 tolerance: float = 0.0, **input_options) -> None:
    """Predict first, then check: a number input and a button that reveals the answer."""
    with st.container(border=True):
        st.markdown(f"**Predict:** {question}")
        guess = st.number_input("Your prediction", key=f"{key}.guess", **input_options)
        if st.button("Check my prediction", key=f"{key}.check"):
            if abs(guess - answer) <= tolerance:
                st.success(f"Right: {explanation}")
            else:
                st.error(f"Not quite: the answer is {answer:g}. {explanation}")


def check_choice(key: str, question: str, options: list[str], answer: int,
                 explanation: str) -> None:
    """A multiple-choice prediction revealed only after the learner commits."""
    with st.container(border=True):
        st.markdown(f"**Predict:** {question}")
        choice = st.radio("Your answer", options, index=None, key=f"{key}.choice")
        if st.button("Check my answer", key=f"{key}.check"):
            if choice is None:
                st.warning("Pick an answer first: predicting is the point.")
            elif options.index(choice) == answer:
                st.success(f"Right. {explanation}")
            else:
                st.error(f"Not quite: “{options[answer]}”. {explanation}")


def reveal(question: str, answer: str) -> None:
    """An open question: think, then open the answer."""
    with st.container(border=True):
        st.markdown(f"**Think it through:** {question}")
        with st.expander("Show the answer"):
            st.markdown(answer)
