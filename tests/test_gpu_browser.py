"""Lesson 2.3.2 in headless Chromium: the sweep runs on a button press with a progress bar and
draws its chart and tables; the forgotten batch shows PyTorch's device error."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ARTIFACTS, wait_until_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    yield context.new_page()
    context.close()


def test_the_sweep_runs_and_draws_the_crossover_chart(page, app_url):
    page.goto(f"{app_url}/gpu-training")
    page.get_by_role("heading", name=re.compile("When does the GPU win")).wait_for(timeout=180_000)
    wait_until_settled(page)
    sweep_chart = page.locator(".js-plotly-plot").filter(has_text="cpu fp32 (here)")
    assert sweep_chart.count() == 0
    page.get_by_role("button", name="Run the sweep on this machine").click()
    page.locator('[data-testid="stProgress"]').first.wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Measured here")).wait_for(timeout=120_000)
    wait_until_settled(page)
    assert page.get_by_text(re.compile(r"bf16 autocast on this CPU")).count() == 1
    sweep_chart.first.wait_for(timeout=30_000)
    assert sweep_chart.filter(has_text="cpu bf16 (here)").count() == 1
    assert page.locator('[data-testid="stProgress"]').count() == 0, "the bar goes when done"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gpu-sweep.png"))


def test_a_forgotten_batch_shows_the_device_error(page, app_url):
    page.get_by_role("button", name="Leave the batch on the CPU").click()
    page.get_by_text(re.compile(r"RuntimeError: .*device")).first.wait_for(timeout=60_000)
