"""A learner's progress: which checks they answered and which runs they made, per lesson."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from course import lessons
from course.ui import lesson as lesson_ui


def test_next_lesson_follows_the_syllabus_and_ends_after_the_last():
    order = lessons.all_lessons()
    assert lesson_ui.next_lesson("tensors").slug == "autograd"
    assert lesson_ui.next_lesson("training-loop").slug == "datasets-and-dataloaders"  # across modules
    assert lesson_ui.next_lesson(order[-1].slug) is None


def _every_next_lesson_link():
    import streamlit as st

    from course import lessons
    from course.ui.lesson import next_lesson_link

    st.navigation([st.Page(str(item.page_path), url_path=item.slug)
                   for item in lessons.all_lessons() if item.available])
    for item in lessons.all_lessons():
        next_lesson_link(item.slug)


def test_next_lesson_link_links_written_pages_and_names_the_rest():
    at = AppTest.from_function(_every_next_lesson_link, default_timeout=60)
    at.run()
    assert not at.exception
    links = [link.proto.label for link in at.get("page_link")]
    assert links == ["Next: 2.2.1 Datasets and DataLoaders", "Next: 2.2.2 Project: MNIST",
                     "Next: 2.2.3 Debugging and Visualization"]
    captions = [caption.value for caption in at.caption]
    assert "Next: 2.3.1 Saving, Loading, and Checkpoints (coming soon)" in captions
    assert len(links) + len(captions) == len(lessons.all_lessons()) - 1  # none after the last
