"""Lesson 2.1.1 in headless Chromium: typing a broadcasting shape redraws the X-ray's result,
and a clash shows PyTorch's own message with the one-call fix."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def type_shape(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")


def result_line(page, shape: str):
    return page.locator('[data-testid="stAlert"]').filter(
        has_text=re.compile(r"Result shape of a \+ b: " + re.escape(shape)))


def test_changing_a_broadcasting_shape_changes_the_result(page, app_url):
    page.goto(f"{app_url}/tensors")
    page.get_by_role("heading", name=re.compile("Broadcasting X-ray")).wait_for(timeout=120_000)
    type_shape(page, "Shape of a", "3, 1")
    type_shape(page, "Shape of b", "4")
    result_line(page, "(3, 4)").wait_for(timeout=30_000)
    type_shape(page, "Shape of b", "5")
    result_line(page, "(3, 5)").wait_for(timeout=30_000)
    assert result_line(page, "(3, 4)").count() == 0

    type_shape(page, "Shape of a", "3")
    page.get_by_text(re.compile(r"The size of tensor a \(3\) must match the size of tensor b \(5\) "
                                r"at non-singleton dimension 0")).wait_for(timeout=30_000)
    fix = page.locator('[data-testid="stAlert"]').filter(
        has_text=re.compile(r"Result shape of a\.unsqueeze\(-1\) \+ b: \(3, 5\)"))
    fix.wait_for(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tensors-broadcasting.png"))
