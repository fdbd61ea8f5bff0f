"""PyTorch Course Lab: page configuration and navigation, nothing else."""

import streamlit as st

from course import lessons

st.set_page_config(page_title="PyTorch Course Lab", page_icon="🔥", layout="wide")

home = st.Page("pages/home.py", title="Home", icon="🏠", url_path="course", default=True)
# The default page answers at "/" only: an old /home link is sent there instead of "Page not found".
old_home_link = st.Page(lambda: st.switch_page(home), title="Home", url_path="home",
                        visibility="hidden")
pages = {"Course": [home, old_home_link]}
headings = {"home": "PyTorch Course Lab"}
for module in lessons.MODULES:
    available = [lesson for lesson in module.lessons if lesson.available]
    if available:
        pages[module.label] = [st.Page(str(lesson.page_path), title=f"{lesson.code} {lesson.title}",
                                       url_path=lesson.slug) for lesson in available]
        headings |= {lesson.slug: lesson.title for lesson in available}


@st.cache_resource
def pages_shown() -> set:
    """Pages this server has rendered at least once (shared by every session, only grows)."""
    return set()


# On top, not in the sidebar: until a fresh server's first st.navigation call (a deep link runs
# the page file directly), Streamlit lists pages/ in the sidebar by raw file name, so
# .streamlit/config.toml hides the sidebar list.
page = st.navigation(pages, position="top")
slug = page.url_path or "home"  # the default page answers at "/" too
first_visit = slug not in pages_shown()
# Both placeholders on every run, filled on a first visit only: the page's elements then keep
# their places from the first run to the next, so none is rebuilt (a focused slider keeps focus).
heading, notice = st.empty(), st.empty()
if first_visit:  # it imports PyTorch and loads data first: its title and a notice at once
    st.session_state["app.heading"] = heading  # the page's header replaces it
    heading.title(headings.get(slug, page.title))
    notice.info("Loading PyTorch and the data for this page's first visit since the server "
                "started: a few seconds…", icon="⏳")
try:
    page.run()
finally:
    if first_visit:
        notice.empty()
        st.session_state.pop("app.heading", heading).empty()
        pages_shown().add(slug)
