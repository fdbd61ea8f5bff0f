"""Home: the course map, what is ready, and where the data comes from."""

from course.ui.navigation import replace_app_heading, use_app_navigation

use_app_navigation()  # first, before torch: a fresh server's deep link shows its title at once

import streamlit as st

from course import lessons
from course.engine import data
from course.runs import progress
from course.ui.lesson import known_workspace
from course.ui.widgets import plural

replace_app_heading()
st.title("PyTorch Course Lab")
st.markdown(f"**Series 2: PyTorch.** {lessons.SERIES_GOAL}")
repository = lessons.repository()
st.markdown(
    "Every lesson here runs real PyTorch on real data, live: you change a number, the code "
    "runs, and you see what happened. Each lesson also has an exercise notebook you can "
    + ("download or open in Colab." if repository else "download.")
)
space = known_workspace()  # only a learner who has answered or trained has one
if space is None:
    st.caption("Your progress (checks answered, runs made) shows here once you answer a check "
               "or train a run in a lesson. It is kept with your private link (`?ws=…`).")
else:
    st.query_params["ws"] = space.token  # this address is the learner's link too
    last = progress.last_lesson(space.path)
    if last is not None and last.available:
        st.page_link(str(last.page_path), label=f"Continue where you left off: {last.code} "
                     f"{last.title}", icon="⏩")

for module in lessons.MODULES:
    with st.container(border=True):
        st.subheader(f"Module {module.label}")
        st.markdown(module.goal)
        st.caption("The feeling this module is after: " + " → ".join(f"“{s}”" for s in module.arc))
        if module.gap:
            st.markdown(f"**Where you start:** “{module.gap}”")
        if module.misconceptions:
            with st.expander(f"Misconceptions this module fixes ({len(module.misconceptions)})"):
                st.markdown("\n".join(f"- **“{belief}”** {truth}"
                                       for belief, truth in module.misconceptions))
        for lesson in module.lessons:
            left, right = st.columns([3, 1])
            if lesson.available:
                left.page_link(str(lesson.page_path), label=f"{lesson.code} {lesson.title}",
                               icon="▶️")
                right.markdown(":green-badge[available]")
                if space is not None:
                    done = progress.lesson_progress(space.path, lesson.slug)
                    right.caption(f"{done['answered']} of {plural(done['total'], 'check')} "
                                  f"answered · {plural(done['runs'], 'run')} made")
            else:
                left.markdown(f"⏳ **{lesson.code} {lesson.title}**")
                right.markdown(":gray-badge[coming soon]")
            left.caption(lesson.description)

st.header("Exercise notebooks")
st.markdown(
    "Every lesson has a notebook with its exercises (guided, supported, then independent), "
    "named `notebooks/{series}-{module}-{lesson}-{slug}.ipynb`, for example "
    "`2-1-1-tensors.ipynb`. Each lesson page offers it as a download"
    + (", and as an **Open in Colab** link." if repository else ".")
    + " Each exercise has your cell, a check to run after it, and a folded solution to open "
    "when you are stuck."
)
st.caption(f"Colab links point at `{repository}`." if repository else
           "Open in Colab needs the course's GitHub repository: a deployment sets the "
           "`COURSE_REPOSITORY=owner/name` environment variable (or runs from a clone whose "
           "`origin` is on GitHub).")
ready = [lesson for lesson in lessons.all_lessons()
         if (lessons.PROJECT_ROOT / "notebooks" / lesson.notebook_name).exists()]
st.caption("Notebooks available now: " + (", ".join(f"`{lesson.notebook_name}`" for lesson in ready)
                                           or "none yet"))

st.header("Where the data comes from")
st.markdown(
    "MNIST and Fashion-MNIST are loaded with `torchvision.datasets`. With internet access they "
    "download once into the data folder; offline, copy the raw files there yourself or point "
    "the `COURSE_DATA_DIR` environment variable at a folder that already holds them."
)
rows = []
statuses = [data.dataset_status(name) for name in data.DATASETS]
if not any(status["ready"] for status in statuses):
    st.warning(f"No dataset is in `{statuses[0]['root']}` yet. The lessons that train or show "
               "images download them on first use if the internet is reachable; otherwise copy "
               "the raw files there (or set `COURSE_DATA_DIR`). The rest of each page works "
               "without them.")
for status in statuses:
    name = status["dataset"]
    rows.append({
        "dataset": name,
        "status": "ready" if status["ready"] else
                  f"missing {status['files'] - status['present']} of {status['files']} files "
                  "(downloads on first use if the internet is reachable)",
        "folder": status["root"],
        "set by": "COURSE_DATA_DIR" if status["configured"] else "default cache folder",
    })
st.dataframe(rows, hide_index=True, width="stretch")
st.caption("Pages that need no dataset keep working without it.")
