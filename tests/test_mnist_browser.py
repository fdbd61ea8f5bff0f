"""Lesson 2.2.2 in headless Chromium: train, watch the live progress, draw, click the matrix.

What only a real browser shows: the run's panel polling itself (`st.fragment(run_every=...)`)
until the run finishes, the drawing canvas reaching the trained model, a click on a
confusion-matrix cell filtering the gallery, and a click on a gallery image inspecting it.
It shares conftest's server, whose runs go under a temporary root.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import ARTIFACTS, IDLE_FOR_A_SECOND, draw_a_one

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAIN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def mnist_app_url(app_url):
    """conftest's shared server (runs under a temporary root): this module's context is a
    workspace of its own."""
    return app_url




def wait_until_idle(page) -> None:
    """Wait for the rerun an action started to finish: give it a moment to show its status
    widget, then wait until no status widget and no stale element has been seen for 1 s."""
    try:
        page.locator('[data-testid="stStatusWidget"]').wait_for(timeout=2_000)
    except PlaywrightTimeout:
        pass  # a quick rerun may have come and gone already
    page.evaluate("() => { window.__idleSince = null; }")
    page.wait_for_function(IDLE_FOR_A_SECOND, polling=100, timeout=180_000)


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"mnist-{name}.png"))


@pytest.fixture(scope="module")
def page(browser, mnist_app_url):
    """One tab for the module: the second test comes back to the workspace the first trained."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def gallery(page):
    """The prediction gallery: the plotly chart holding a composed image."""
    return page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator("g.imagelayer image")).first


def click_confusion_cell(page, true_class: int, predicted_class: int):
    """Click the centre of a cell, where the heatmap's invisible marker for it sits."""
    matrix = page.locator('[data-testid="stPlotlyChart"]').filter(
        has=page.locator("text.xtitle", has_text="predicted")).first  # the clickable one
    matrix.scroll_into_view_if_needed()
    plot_area = matrix.locator(".nsewdrag").first.bounding_box()  # axes span -0.5 .. 9.5
    x = plot_area["x"] + (predicted_class + 0.5) / 10 * plot_area["width"]
    y = plot_area["y"] + (true_class + 0.5) / 10 * plot_area["height"]  # row 0 at the top
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    shown = page.get_by_text(re.compile(
        rf"Showing true {true_class} predicted as {predicted_class} \(\d+ images\)"))
    shown.wait_for(timeout=60_000)
    wait_until_idle(page)
    return shown


def test_train_watch_draw_and_click_a_confusion_cell(page, mnist_app_url):
    page.goto(f"{mnist_app_url}/mnist-project", wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=120_000)
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert re.search(r"[?&]ws=[A-Za-z0-9_-]{22}$", page.url), page.url

    # One epoch instead of the default five: the keyboard moves a slider one step at a time.
    epochs = page.locator('.st-key-mnist-epochs input[type="range"]')
    epochs.scroll_into_view_if_needed()
    epochs.focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "() => document.querySelector('.st-key-mnist-epochs input[type=\"range\"]')"
        ".value === '1'", timeout=30_000)
    wait_until_idle(page)

    started = time.monotonic()
    page.get_by_role("button", name="🚀 Train").click()
    # Train stays outside the settings' fragment: its click reruns the page, so the runs panel
    # lists the new run with its Cancel or Stop button at once.
    page.locator('[class*="st-key-mnist-runs-"]').get_by_role(
        "button", name=re.compile("Cancel|Stop")).first.wait_for(timeout=15_000)
    # The run panel polls itself: no reload, no click, until the finished run is evaluated.
    page.get_by_text("Test accuracy", exact=True).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    trained_in = time.monotonic() - started
    wait_until_idle(page)
    page.get_by_text("Test accuracy", exact=True).first.scroll_into_view_if_needed()
    shoot(page, "trained")
    print(f"1 epoch on 60,000 images: shown finished {trained_in:.1f} s after the click")

    # Draw a "1" on the canvas; the prediction of the trained model appears under it.
    canvas = page.locator('canvas[aria-label^="Drawing canvas"]')
    canvas.scroll_into_view_if_needed()
    draw_a_one(page, canvas)
    said = page.get_by_text(re.compile(r"The model says \d with \d+% confidence"))
    said.wait_for(timeout=60_000)
    wait_until_idle(page)
    said.scroll_into_view_if_needed()
    shoot(page, "digit")
    digit = int(re.search(r"The model says (\d)", said.inner_text()).group(1))
    assert 0 <= digit <= 9

    # Click the confusion-matrix cell (true 4, predicted 9): the gallery shows only those.
    click_confusion_cell(page, 4, 9).scroll_into_view_if_needed()
    shoot(page, "confusion")
    assert page.locator('[data-testid="stException"]').count() == 0


def test_cleared_cell_filter_stays_cleared_on_the_next_rerun(page):
    """After "Clear cell filter", toggling "Mistakes only" must not bring the cell back."""
    page.reload(wait_until="domcontentloaded")  # a fresh session on the trained workspace
    page.get_by_text("Test accuracy", exact=True).first.wait_for(timeout=120_000)
    wait_until_idle(page)
    click_confusion_cell(page, 7, 2)
    page.get_by_role("button", name="Clear cell filter").click()
    page.get_by_text(re.compile(r"Showing true \d")).wait_for(state="detached", timeout=60_000)
    wait_until_idle(page)
    page.get_by_text("Mistakes only").click()
    wait_until_idle(page)
    page.get_by_text("Mistakes only").scroll_into_view_if_needed()
    shoot(page, "cleared-filter")
    assert page.get_by_role("switch", name="Mistakes only").is_checked()
    assert page.get_by_text(re.compile(r"Showing true \d")).count() == 0, (
        "the cleared cell filter came back: the chart's selection still holds the clicked cell"
    )
    assert page.get_by_role("button", name="Clear cell filter").count() == 0
    labels = gallery(page).locator("g.textpoint text").all_text_contents()
    wrong = [label for label in labels if re.search(r"true \d: (<)?[\d.]+%$", label)]
    assert len(wrong) == len(labels) == 24, f"24 mistakes from every class expected: {labels}"


# Installed just before an input: the time until the app's script state is back at "notRunning".
RERUN_TIMER = """() => {
    const root = document.querySelector('[data-test-script-state]');
    const started = performance.now();
    let ran = false;
    window.__rerunMs = null;
    const observer = new MutationObserver(() => {
        const state = root.getAttribute('data-test-script-state');
        if (state === 'running') ran = true;
        else if (ran && state === 'notRunning') {
            window.__rerunMs = performance.now() - started;
            observer.disconnect();
        }
    });
    observer.observe(root, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def click_gallery_image(page, position: int) -> float:
    """A real mouse click on the thumbnail at `position` (0 = #1); returns the rerun's ms."""
    chart = gallery(page)
    chart.scroll_into_view_if_needed()
    picture = chart.locator("g.imagelayer image").first.bounding_box()
    marker = chart.locator("path.point").nth(position).bounding_box()  # invisible, on the thumbnail
    x, y = marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2
    assert picture["x"] < x < picture["x"] + picture["width"]
    assert picture["y"] < y < picture["y"] + picture["height"]
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.evaluate(RERUN_TIMER)
    page.mouse.click(x, y)
    page.wait_for_function("() => window.__rerunMs !== null", timeout=60_000)
    return page.evaluate("() => window.__rerunMs")


def test_clicking_a_gallery_image_shows_its_activations(page):
    """Click image #5 of the gallery: the inspector follows it (its picture, saliency map and
    activations appear), and the picker below says #5."""
    page.reload(wait_until="domcontentloaded")
    page.get_by_text("Test accuracy", exact=True).first.wait_for(timeout=120_000)
    wait_until_idle(page)
    picker = page.locator('[data-testid="stSelectbox"]').filter(
        has_text="Look inside the network for gallery image")
    assert picker.locator("input").input_value().startswith("#1 · ")
    labels = gallery(page).locator("g.textpoint text").all_text_contents()
    assert len(labels) == 24 and labels[4].startswith("#5 · "), labels

    took = click_gallery_image(page, 4)
    picked = re.compile(r"^#5 · true (\d) · predicted \d$")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')]"
        ".some(input => input.value.startsWith('#5 · '))", timeout=60_000)
    wait_until_idle(page)
    print(f"gallery click to the end of its rerun: {took:.0f} ms")
    true_label = picked.match(picker.locator("input").input_value()).group(1)
    caption = page.get_by_text(re.compile(rf"^test image [\d,]+: true {true_label}$"))
    assert caption.count() == 1
    assert page.get_by_text(re.compile(r"^\d+ of 256 first-layer units are active")).count() == 1
    assert page.get_by_text(re.compile(r"^saliency: ∂ logit \d / ∂ pixel$")).count() == 1
    for width in (1400, 900):
        page.set_viewport_size({"width": width, "height": 1000})
        wait_until_idle(page)
        gallery(page).scroll_into_view_if_needed()
        shoot(page, f"gallery-{width}")
        caption.scroll_into_view_if_needed()
        shoot(page, f"inspect-{width}")
    page.set_viewport_size({"width": 1400, "height": 1000})

    # A second click, on #12, moves the inspector on; the picker stays in step.
    click_gallery_image(page, 11)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')]"
        ".some(input => input.value.startsWith('#12 · '))", timeout=60_000)
    wait_until_idle(page)
    true_label = re.search(r"true (\d)", picker.locator("input").input_value()).group(1)
    assert page.get_by_text(re.compile(rf"^test image [\d,]+: true {true_label}$")).count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
