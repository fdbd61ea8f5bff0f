"""The dataset a page needs, loaded once per server, or one clear message when it is missing."""

from __future__ import annotations

import weakref

import streamlit as st

from course.engine import data


@st.cache_resource(show_spinner="Loading the dataset into memory (once per server)…")
def _cached_split(name: str, train: bool, root: str):
    return data.split_tensors(name, train, root)


# Which datasets' "missing" message each script run has shown in full. Streamlit creates a fresh
# parallel-fragment coordinator at the start of every run, so it stands for "this run" and is
# forgotten with it.
_missing_shown: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _missing_this_run() -> set:
    """The datasets already found missing in this script run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    this_run = getattr(get_script_run_ctx(), "parallel_coordinator", None)
    return _missing_shown.setdefault(this_run, set()) if this_run is not None else set()


def _needs_too(name: str) -> None:
    st.caption(f"📦 This part needs the {name} dataset too: see the message above.")


def missing_dataset(error: data.DatasetUnavailable) -> None:
    """The full "dataset missing" message once per page run; later sections get one line."""
    shown = _missing_this_run()
    if error.name in shown:
        _needs_too(error.name)
        return
    shown.add(error.name)
    st.error(data.unavailable_message(error.name, error.root, then="reload the page", markdown=True),
             icon="📦")


def split_or_error(name: str = "mnist", train: bool = True):
    """The in-memory split, or None after showing the learner why it is missing. Found missing
    once in a run, it is not looked for again (each look may try a download)."""
    if name in _missing_this_run():
        _needs_too(name)
        return None
    try:
        return _cached_split(name, train, str(data.data_root()))
    except data.DatasetUnavailable as error:
        missing_dataset(error)
        return None
