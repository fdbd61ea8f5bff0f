"""Pages in headless Chromium against a real `streamlit run`: an old home link, a fresh
server's deep link. Every page's own render (no exception box, its title, app.py's navigation,
a whole-page screenshot) is checked beside its axe scan in tests/test_accessibility_browser.py:
one visit a page instead of two."""

from __future__ import annotations

import pytest

from tests.conftest import free_port, start_app, stop_server, wait_until_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]

def wait_until_rendered(page) -> None:
    """Streamlit streams the page in; wait until the script run has finished."""
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=180_000)
    page.wait_for_timeout(1_000)


def test_an_old_home_link_lands_on_home_without_page_not_found(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{app_url}/home", wait_until="domcontentloaded")
        wait_until_rendered(page)
        assert page.locator("h1").first.inner_text() == "PyTorch Course Lab"
        assert page.get_by_text("Page not found").count() == 0
        assert page.url.rstrip("/") == app_url
    finally:
        page.close()


# Records, every 20 ms from the first byte, what the page shows while a fresh server loads it.
FIRST_SIGHT = """
window.__sight = {title: null, notice: null, caption: null};
setInterval(() => {
  const text = document.body ? document.body.innerText : '';
  const titled = [...document.querySelectorAll('h1')].some(
      h => h.textContent.trim().startsWith('Project: MNIST'));
  const now = performance.now(), sight = window.__sight;
  if (titled && sight.title === null) sight.title = now;
  if (text.includes('Loading PyTorch') && sight.notice === null) sight.notice = now;
  if (text.includes('Lesson 2.2.2') && sight.caption === null) sight.caption = now;
}, 20);
"""


def test_a_fresh_servers_deep_link_shows_the_title_while_the_page_still_imports(browser, data_dir,
                                                                                 tmp_path):
    """app.py's stand-in title and loading notice come first; the page's own header (its
    caption) only after its imports: the learner never looks at a blank page meanwhile. Then
    the page answers its first input without rebuilding itself."""
    port = free_port()
    server = start_app(port, {"COURSE_RUNS_DIR": str(tmp_path / "runs")})
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(FIRST_SIGHT)
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/mnist-project", wait_until="commit")
        page.get_by_text("Loading PyTorch").wait_for(timeout=60_000)
        page.get_by_text("Loading PyTorch").wait_for(state="detached", timeout=180_000)
        wait_until_rendered(page)
        sight = page.evaluate("window.__sight")
        assert None not in sight.values(), sight
        assert sight["title"] < sight["caption"] and sight["notice"] < sight["caption"], sight
        assert page.get_by_text("Loading PyTorch").count() == 0  # gone once the page is done
        assert page.locator("h1", has_text="Project: MNIST").count() == 1  # the page's own, once

        # The first rerun after a first visit rebuilds nothing: a focused slider keeps its focus,
        # so the learner's next key press still moves it.
        thumb = page.locator('input[type=range][aria-label="Epochs"]')
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_until_settled(page)
        assert page.evaluate("() => document.activeElement?.getAttribute('aria-label')") == "Epochs"
        page.keyboard.press("ArrowRight")
        wait_until_settled(page)
        assert thumb.get_attribute("aria-valuetext") == "7"  # the recipe's 5, two presses on
    finally:
        context.close()
        stop_server(server)
