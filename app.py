"""PyTorch Course Lab: page configuration and navigation, nothing else."""

import time

import streamlit as st

from course import lessons
from course.ui import navigation

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


# On top, not in the sidebar: until a fresh server's first st.navigation call (a deep link runs
# the page file directly), Streamlit lists pages/ in the sidebar by raw file name, so
# .streamlit/config.toml hides the sidebar list.
page = st.navigation(pages, position="top")
slug = page.url_path or "home"  # the default page answers at "/" too
entered = st.session_state.get("app.page") != slug  # a widget's rerun is not entering the page
st.session_state["app.page"] = slug
navigation.warm_server()  # torch's one-time optimizer import, on a side thread
seconds = navigation.page_seconds()
notice_text = navigation.loading_notice(slug, seconds) if entered else None
# Both placeholders on every run, filled only while a slow page loads: the page's elements then
# keep their places from one run to the next, so none is rebuilt (a focused slider keeps focus).
heading, notice = st.empty(), st.empty()
if notice_text:
    if slug not in seconds:  # a first visit imports PyTorch and loads data: its title at once
        st.session_state["app.heading"] = heading  # the page's header replaces it
        heading.title(headings.get(slug, page.title))
    notice.info(notice_text, icon="⏳")
started = time.monotonic()
try:
    page.run()
finally:
    if entered:
        seconds[slug] = time.monotonic() - started
    if notice_text:
        notice.empty()
        st.session_state.pop("app.heading", heading).empty()
