"""Callouts the lessons share: the code that runs, mental models, misconceptions, open questions."""

from __future__ import annotations

import inspect

import streamlit as st


def show_source(obj, caption: str | None = None) -> None:
    """The code on screen is the code that runs: read it from the object itself."""
    # Long lines scroll: wrapped back to column 0 they would look dedented.
    st.code(inspect.getsource(obj), language="python", wrap_lines=False)
    if caption:
        st.caption(caption)


def takeaway(text: str) -> None:
    st.success(f"**Mental model:** {text}", icon="🧭")


def misconception(belief: str, reality: str) -> None:
    st.warning(f"**Misconception:** “{belief}”\n\n{reality}", icon="🧠")


def foundations_link(text: str) -> None:
    st.info(text, icon="🔗")


def reveal(question: str, answer: str) -> None:
    """An open question: think, then open the answer."""
    with st.container(border=True):
        st.markdown(f"**Think it through:** {question}")
        with st.expander("Show the answer"):
            st.markdown(answer)
