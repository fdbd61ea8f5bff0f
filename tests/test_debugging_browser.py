"""Lesson 2.2.3 in headless Chromium: the three-learning-rate comparison trains in the workers,
the page polls itself while they run, and the overlay read back from their TensorBoard event
files shows three curves without a reload."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAIN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def debug_app_url(app_url):
    """conftest's shared server: this module's context is a workspace of its own."""
    return app_url


@pytest.fixture(scope="module")
def page(browser, debug_app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def overlay(page, tag: str):
    """The plotly chart whose title is the event-file tag, e.g. `loss/train`."""
    return page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator("text.gtitle", has_text=tag))


def test_lr_comparison_overlays_three_curves_from_event_files(page, debug_app_url):
    page.goto(f"{debug_app_url}/debugging-and-visualization")
    button = page.get_by_role("button", name=re.compile("Train the three runs"))
    button.wait_for(timeout=120_000)
    button.click()
    finished = page.get_by_text(re.compile(
        r"lr 0\.0001 \(too small\): ✅ finished · lr 0\.001 \(the recipe\): ✅ finished · "
        r"lr 0\.1 \(too large\): ✅ finished"))
    finished.wait_for(timeout=TRAIN_TIMEOUT_MS)  # reached by the fragment's polling alone
    chart = overlay(page, "loss/train").first
    chart.scroll_into_view_if_needed()
    chart.locator("g.trace.scatter").nth(2).wait_for(timeout=30_000)
    assert chart.locator("g.trace.scatter").count() == 3
    legend = chart.locator("g.legend").text_content()
    for name in ("lr 0.0001 (too small)", "lr 0.001 (the recipe)", "lr 0.1 (too large)"):
        assert name in legend
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "debugging-lr-comparison.png"))
    assert page.get_by_role("button", name=re.compile("Run folder as .zip")).count() == 1
    # The TensorBoard steps a learner can run: unzip, then --logdir; no workspace token on screen.
    token = page.url.split("ws=")[1]
    steps = page.locator('[data-testid="stCode"]').filter(has_text="tensorboard --logdir")
    assert steps.count() == 1 and "unzip run-" in steps.text_content()
    assert token not in page.locator('[data-testid="stMain"]').inner_text().split("Your runs")[0]

