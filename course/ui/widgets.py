"""Small widget helpers."""

from __future__ import annotations

import streamlit as st


def nearest(options: list, value):
    """The option closest to value: a shared link's setting mapped onto a slider's stops."""
    return min(options, key=lambda option: abs(option - value))


def refresh_page() -> None:
    """Rerun the whole page from inside a fragment: the one rule for st.rerun() in this app.

    Call it from a fragment's body (Streamlit ignores it inside a callback), only when what the
    fragment changed is shown outside it (runs came or went, a run finished, a check answered),
    and once per change: a fragment that refreshes on every poll never stops. It can reset the
    widgets of a fragment that is being redrawn, so a page whose widgets must survive (the MNIST
    page's trainer) waits for its next full run instead.
    """
    st.rerun(scope="app")
