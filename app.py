"""PyTorch Course Lab: page configuration and navigation, nothing else."""

import streamlit as st

from course import lessons

st.set_page_config(page_title="PyTorch Course Lab", page_icon="🔥", layout="wide")

pages = {"Course": [st.Page("pages/home.py", title="Home", icon="🏠", url_path="home",
                            default=True)]}
for module in lessons.MODULES:
    available = [st.Page(str(lesson.page_path), title=f"{lesson.code} {lesson.title}",
                         url_path=lesson.slug)
                 for lesson in module.lessons if lesson.available]
    if available:
        pages[module.label] = available

st.navigation(pages).run()
