"""The shared run view in headless Chromium: a run draws its per-step curve while it trains.

The page's fragment polls the run folder every two seconds; before the run has finished, the
loss chart must already hold more points than there are epochs.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

POINTS_IN_THE_LOSS_CHART = """() => {
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const traces = (plot.data || []).filter(t => (t.name || '').endsWith(' · train'));
        if (traces.length) return Math.max(...traces.map(t => (t.x || []).length));
    }
    return 0;
}"""


@pytest.fixture(scope="module")
def app(app_url):
    """conftest's shared server: this test's context is a workspace of its own."""
    return app_url


def test_a_run_draws_a_per_step_curve_while_it_trains(browser, app):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:  # the recipe on all 60,000 images: long enough to be watched while it trains
        page.goto(f"{app}/mnist-project?epochs=15", timeout=120_000)
        train = page.get_by_role("button", name=re.compile("Train"))
        train.wait_for(timeout=120_000)
        train.click()
        page.get_by_text(re.compile(r"epoch \d+ of 15 · step")).first.wait_for(timeout=180_000)
        deadline = time.monotonic() + 120
        points = 0
        while time.monotonic() < deadline:
            points = page.evaluate(POINTS_IN_THE_LOSS_CHART)
            if points >= 8:
                break
            time.sleep(0.5)
        assert points >= 8, "the loss chart did not grow step by step"
        assert page.get_by_text(re.compile("finished after")).count() == 0, \
            "the run had already finished: the curve was not seen while it trained"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "run-view-training.png"))
        page.get_by_role("button", name=re.compile("Stop")).first.click()
        page.get_by_text(re.compile("stopped (after|before its first epoch)")).first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()
