"""Lesson 2.1.3 in headless Chromium: clicking Add layer adds a Linear and the parameter count
(in × out + out per Linear) changes on screen."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def parameter_metric(page):
    return page.locator('[data-testid="stMetric"]').filter(has_text="Parameters (in × out")


def test_add_layer_changes_the_parameter_count(page, app_url):
    page.goto(f"{app_url}/nn-module")
    metric = parameter_metric(page)
    metric.filter(has_text="33").wait_for(timeout=120_000)  # 2×8+8 + 8×1+1
    page.get_by_role("button", name=re.compile("Add layer")).click()
    # a new hidden layer of width 8 before the output: 2×8+8 + 8×8+8 + 8×1+1 = 105
    metric.filter(has_text="105").wait_for(timeout=30_000)
    assert "Linear(in_features=8, out_features=8" in page.locator(
        '[data-testid="stCode"]').filter(has_text="Sequential").first.text_content()
    page.get_by_role("button", name=re.compile("Remove layer")).click()
    metric.filter(has_text="33").wait_for(timeout=30_000)
