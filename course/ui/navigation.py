"""The first thing every page does: make sure it runs inside app.py's navigation.

Light on purpose (Streamlit only): a page calls it before importing torch, so a deep link on a
fresh server reaches app.py, which shows the page's title and a loading notice at once, instead
of waiting several seconds for the page's imports with a blank screen.
"""

from __future__ import annotations

import streamlit as st

from course.runs import server


def use_app_navigation() -> None:
    """Make a deep link on a fresh server go through app.py's navigation.

    Streamlit 1.67 runs a page file directly (its old pages/-folder mode) until some run in
    this process has called st.navigation: the first visitor of /mnist-project would get no page
    config and the wrong sidebar. Leave that mode once and rerun through app.py.
    """
    from streamlit.runtime import Runtime
    from streamlit.runtime.pages_manager import PagesManager

    # AppTest resets this flag before every run and drives page files directly: leave it be.
    under_apptest = type(Runtime._instance).__module__ == "unittest.mock"
    if PagesManager.uses_pages_directory and not under_apptest:
        PagesManager.uses_pages_directory = False
        st.rerun()


def replace_app_heading() -> None:
    """Remove app.py's stand-in title of a first visit: the page draws its own title next.

    Call it right before the page's st.title, after the heavy imports: until then the stand-in
    is all a learner sees of the page (the loading notice under it stays until the page is done).
    """
    heading = st.session_state.pop("app.heading", None)
    if heading is not None:
        heading.empty()


SLOW_PAGE_SECONDS = 1.0  # longer than this without a word, and a page looks broken
FIRST_VISIT_NOTICE = ("Loading PyTorch and the data for this page's first visit since the server "
                      "started: a few seconds…")


@st.cache_resource
def warm_server() -> bool:
    """Once per server: start the side thread that pays torch's one-time optimizer import."""
    server.warm_in_the_background()
    return True


@st.cache_resource
def page_seconds() -> dict[str, float]:
    """Each page's last run on entering it, in seconds, on this server (shared, only numbers)."""
    return {}


def loading_notice(slug: str, seconds: dict[str, float]) -> str | None:
    """What a learner entering the page reads while it runs: the first visit's notice, a shorter
    one where the page took over a second last time (e.g. while runs train), else nothing (a
    notice that flashes for a fraction of a second only distracts)."""
    if slug not in seconds:
        return FIRST_VISIT_NOTICE
    if seconds[slug] > SLOW_PAGE_SECONDS:
        return f"Loading this page: it took {seconds[slug]:.0f} s last time…"
    return None
