"""Small widget helpers."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def plural(count: int, word: str) -> str:
    """'1 run', '3 runs'."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


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


POLL_SECONDS = 2.0  # four polling pages at 1 s cost the server ~0.6 cores; 2 s halves it


def poll(draw: Callable[[], bool], training: bool) -> None:
    """Draw once; while something trains, redraw every POLL_SECONDS until draw() says it ended.

    The one rule for a section that watches runs: its fragment polls only while a run trains,
    and when the last one ends a single refresh_page() draws the page at rest, so polling stops.
    """

    @st.fragment(run_every=POLL_SECONDS)
    def live() -> None:
        if not draw():
            refresh_page()

    if training:
        live()
    else:
        draw()
