"""Lesson 2.1.2 in headless Chromium: stepping the backward pass fills in the graph's gradients
node by node, output first (graphviz is drawn in the browser, so only a browser shows it)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def graph_text(page) -> str:
    return page.locator('[data-testid="stGraphVizChart"] svg').first.text_content()


def step_slider(page):
    return page.locator('[data-testid="stSlider"]').filter(
        has_text="Backward steps shown").locator('input[type="range"]')


def wait_for_graph(page, holds, timeout_s: float = 30.0) -> str:
    """The graph's text once `holds(text)` is true (the chart is redrawn after each rerun)."""
    deadline = time.monotonic() + timeout_s
    text = graph_text(page)
    while not holds(text):
        if time.monotonic() > deadline:
            raise AssertionError(f"graph never changed as expected; it reads: {text!r}")
        page.wait_for_timeout(100)
        text = graph_text(page)
    return text


def test_stepping_backward_fills_in_gradients_output_first(page, app_url):
    page.goto(f"{app_url}/autograd")
    page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(timeout=120_000)
    assert "grad ?" not in graph_text(page)  # all steps shown by default: every grad filled
    slider = step_slider(page)
    slider.focus()
    page.keyboard.press("Home")  # zero steps: no gradient yet
    text = wait_for_graph(page, lambda t: t.count("grad ?") == 7)
    page.keyboard.press("ArrowRight")  # one step: the output's own gradient, dL/dL = 1
    text = wait_for_graph(page, lambda t: t.count("grad ?") == 6)
    assert "grad 1" in text
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    text = wait_for_graph(page, lambda t: "grad ?" not in t)
    assert "grad 6" in text and "grad -4" in text  # dL/da = f·b = 6, dL/db = f·a = -4
