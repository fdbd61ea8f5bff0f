"""Lesson 2.1.4 in headless Chromium: the playground plays by itself, its boundary changes, Pause
stops it, a double click on Play or on a stage button of the inspector counts once."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ARTIFACTS, wait_until_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{app_url}/training-loop")
    page.get_by_role("button", name="▶ Play").wait_for(timeout=120_000)
    wait_until_settled(page)
    yield page
    context.close()


def steps_shown(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Optimizer steps")
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def boundary_title(page) -> str:
    return page.locator("text.gtitle", has_text="decision boundary").first.text_content()


def test_play_trains_live_and_pause_stops_it(page):
    play = page.get_by_role("button", name="▶ Play")
    play.scroll_into_view_if_needed()
    assert steps_shown(page) == 0
    play.dblclick()  # the second click lands on a disabled Play, never on Pause
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stMetric"]')]
        .some(m => m.innerText.includes('Optimizer steps') && /\\n[1-9][0-9,]*0\\s*$/.test(m.innerText)
              && parseInt(m.innerText.split('\\n').pop().replace(/,/g, '')) >= 50)""", timeout=60_000)
    assert page.get_by_role("button", name="⏸ Pause").is_enabled()
    assert "after 0 steps" not in boundary_title(page)
    first = steps_shown(page)
    page.wait_for_timeout(2000)
    assert steps_shown(page) > first  # still playing with no click: the fragment ticks
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training-loop-playground.png"))
    page.get_by_role("button", name="⏸ Pause").click()
    wait_until_settled(page)
    page.wait_for_timeout(1000)
    paused = steps_shown(page)
    page.wait_for_timeout(1500)
    assert steps_shown(page) == paused
    assert page.get_by_role("button", name="▶ Play").is_enabled()


def test_step_is_one_optimizer_step_and_rewind_goes_back_to_zero(page):
    before = steps_shown(page)
    page.get_by_role("button", name="Step (one optimizer step)").click()
    page.wait_for_function(f"""() => [...document.querySelectorAll('[data-testid="stMetric"]')]
        .some(m => m.innerText.includes('Optimizer steps')
                   && m.innerText.trim().endsWith('{before + 1:,}'))""", timeout=30_000)
    page.get_by_role("button", name=re.compile("Rewind to the same start")).click()
    page.get_by_text("decision boundary after 0 steps").wait_for(timeout=30_000)
    assert steps_shown(page) == 0


def test_a_double_click_on_a_stage_runs_one_stage(page):
    forward = page.get_by_role("button", name="① forward")
    forward.scroll_into_view_if_needed()
    forward.dblclick()
    wait_until_settled(page)
    assert page.get_by_role("button", name="② loss").is_enabled()
    assert not page.get_by_role("button", name="③ backward").is_enabled()
