"""Checks that ask before they reveal: a guess first, one retry, then the answer and why."""

from __future__ import annotations

import streamlit as st

from course.runs import progress
from course.ui import widgets
from course.ui.panel import current_workspace

# What a check keeps in session state, by suffix: its answer, why the last click showed nothing,
# a retry pending, tries used, and its two widgets.
STATE_SUFFIXES = (".result", ".empty", ".retry", ".tries", ".guess", ".choice")


def answered(key: str) -> bool:
    """Has the learner committed an answer to this check (right, or wrong twice)?"""
    return st.session_state.get(f"{key}.result") not in (None, "")


RETRY = "Not quite. Think again: one more try before the answer shows."


def _commit(key: str, guess, right: bool) -> None:
    """Record a guess: a first wrong one only earns a retry; a right one, a second wrong one, or
    any guess after the answer has shown, becomes the check's answer (see answered)."""
    if guess is None or guess == "":
        st.session_state[f"{key}.result"] = st.session_state.get(f"{key}.result") or ""
        st.session_state[f"{key}.empty"] = True
        return
    st.session_state[f"{key}.empty"] = False
    if right or answered(key) or st.session_state.get(f"{key}.tries", 0) >= 1:
        st.session_state[f"{key}.result"] = guess
        _remember(key, guess, right)
    else:
        st.session_state[f"{key}.tries"] = 1
        st.session_state[f"{key}.retry"] = True


def _remember(key: str, guess, right: bool) -> None:
    """Write the answer into the learner's progress, so their link brings it back; a check
    outside a lesson page (no lesson_header ran) keeps it in the session only."""
    slug = st.session_state.get("lesson.slug")
    if slug is None:
        return
    # the first answer on a page that trains nothing starts the learner's workspace
    progress.record_answer(current_workspace().path, slug, key, guess, right)


def restore(key: str, answer) -> None:
    """Show a check as answered with this answer (from the learner's record), before it draws."""
    st.session_state[f"{key}.result"] = answer
    widget = f"{key}.choice" if isinstance(answer, str) else f"{key}.guess"
    st.session_state[widget] = answer


def forget(key: str) -> None:
    """The check as it was before any guess: empty, unanswered, both tries left."""
    for suffix in STATE_SUFFIXES:
        st.session_state.pop(f"{key}{suffix}", None)


@st.fragment
def check_number(key: str, question: str, answer: float, explanation: str,
                 tolerance: float = 0.0, unlocks: bool = False, **input_options) -> None:
    """Predict first, then check: an empty number input and a button that judges the guess.

    The box starts empty, so checking without a guess asks for one; a wrong guess may be
    retried once before the answer shows. A fragment: typing a guess reruns only the check. With
    `unlocks` (a section waits for the answer, e.g. an explorer that would give it away) its
    answer reruns the page.
    """
    before = answered(key)
    input_options.setdefault("value", None)
    with st.container(border=True):
        st.markdown(f"**Predict:** {question}")
        guess = st.number_input("Your prediction", key=f"{key}.guess",
                                placeholder="type a number", **input_options)
        st.session_state[f"{key}.retry"] = False
        if st.button("Check my prediction", key=f"{key}.check"):
            _commit(key, guess, guess is not None and abs(guess - answer) <= tolerance)
        _verdict(key, lambda checked: abs(checked - answer) <= tolerance,
                 f"Right: {explanation}",
                 f"Not quite: the answer is {answer:,.10g}. {explanation}",
                 "Type a number first: predicting is the point.")
    if unlocks and answered(key) and not before:
        widgets.refresh_page()  # the page shows what waited for this answer


def _verdict(key: str, is_right, right: str, wrong: str, empty: str) -> None:
    """The check's feedback, kept in session state so it survives other clicks."""
    checked = st.session_state.get(f"{key}.result")
    if st.session_state.get(f"{key}.empty"):
        st.warning(empty)
    elif st.session_state.get(f"{key}.retry"):
        st.error(RETRY)
    elif checked not in (None, ""):
        if is_right(checked):
            st.success(right)
        else:
            st.error(wrong)


@st.fragment
def check_choice(key: str, question: str, options: list[str], answer: int,
                 explanation: str, unlocks: bool = False) -> None:
    """A multiple-choice prediction revealed only after the learner commits; a wrong choice may
    be retried once (a fragment, as check_number)."""
    if st.session_state.get(f"{key}.result") not in (None, "", *options):
        forget(key)  # a remembered answer the question no longer offers: ask again
    before = answered(key)
    with st.container(border=True):
        st.markdown(f"**Predict:** {question}")
        choice = st.radio("Your answer", options, index=None, key=f"{key}.choice")
        st.session_state[f"{key}.retry"] = False
        if st.button("Check my answer", key=f"{key}.check"):
            _commit(key, choice, choice is not None and options.index(choice) == answer)
        _verdict(key, lambda checked: options.index(checked) == answer,
                 f"Right. {explanation}", f"Not quite: “{options[answer]}”. {explanation}",
                 "Pick an answer first: predicting is the point.")
    if unlocks and answered(key) and not before:
        widgets.refresh_page()  # the page shows what waited for this answer
