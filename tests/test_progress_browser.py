"""Progress in headless Chromium: an answer puts the learner's link in the address bar, and that
link brings the answer back after the server restarts (what AppTest cannot show: the URL a
fragment writes, and a real restart)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import start_app, stop_server, wait_until_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PORT = 8621
SHAPE_RIGHT = "64 images, 1 channel (grayscale), 28×28 pixels"


def within(page, key: str):
    """The element Streamlit wraps around the widget with this key (other characters than
    letters, digits, _ and - become - in its class name)."""
    return page.locator(f'.st-key-{re.sub(r"[^a-zA-Z0-9_-]", "-", key)}').first


def test_an_answer_comes_back_with_the_link_after_a_server_restart(data_dir, browser, tmp_path):
    env = {"COURSE_RUNS_DIR": str(tmp_path)}
    server = start_app(PORT, env=env)
    try:
        page = browser.new_context().new_page()
        page.goto(f"http://127.0.0.1:{PORT}/datasets-and-dataloaders", timeout=180_000)
        wait_until_settled(page)
        within(page, "dl.q_shape.choice").get_by_text(SHAPE_RIGHT).click()
        within(page, "dl.q_shape.check").get_by_role("button").click()
        wait_until_settled(page)
        page.get_by_text("Right.", exact=False).first.wait_for(timeout=60_000)
        page.wait_for_url(re.compile(r"[?&]ws=[A-Za-z0-9_-]{22}"), timeout=30_000)
        link = page.url
        page.context.close()
    finally:
        stop_server(server)
    server = start_app(PORT, env=env)
    try:
        page = browser.new_context().new_page()
        page.goto(link, timeout=180_000)
        wait_until_settled(page)
        within(page, "dl.q_shape.choice").get_by_text(SHAPE_RIGHT).wait_for(timeout=120_000)
        page.get_by_text("Right.", exact=False).first.wait_for(timeout=60_000)
        chosen = within(page, "dl.q_shape.choice").locator("input[type=radio]:checked")
        assert chosen.count() == 1
        assert within(page, "dl.q_shape.choice").locator("label").filter(
            has=page.locator("input:checked")).inner_text().strip() == SHAPE_RIGHT
        token = re.search(r"ws=([A-Za-z0-9_-]{22})", link)[1]
        page.goto(f"http://127.0.0.1:{PORT}/?ws={token}", timeout=180_000)
        wait_until_settled(page)
        page.get_by_text("1 of 4 checks answered · 0 runs made").wait_for(timeout=60_000)
        page.get_by_text("Continue where you left off: 2.2.1 Datasets and DataLoaders").wait_for()
        page.context.close()
    finally:
        stop_server(server)
