"""course/ui/navigation.py: which notice a learner reads while a page loads."""

from __future__ import annotations

from course.ui import navigation


def test_a_pages_first_visit_says_it_loads_pytorch_and_the_data():
    assert navigation.loading_notice("mnist-project", {}) == navigation.FIRST_VISIT_NOTICE


def test_a_page_that_took_over_a_second_last_time_says_so():
    notice = navigation.loading_notice("mnist-project", {"mnist-project": 7.6})
    assert notice is not None and "8 s last time" in notice


def test_a_quick_page_shows_no_notice_that_would_only_flash():
    assert navigation.loading_notice("mnist-project", {"mnist-project": 0.4}) is None
