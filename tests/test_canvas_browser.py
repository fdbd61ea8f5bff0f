"""The drawing canvas in headless Chromium: a mouse stroke reaches Python as a PNG with ink."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from tests.conftest import ARTIFACTS, PROJECT_ROOT, draw_a_one, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCRIPT = textwrap.dedent("""
    import io

    import streamlit as st
    from PIL import Image

    from course.concepts import digits
    from course.ui.canvas import draw_digit

    png = draw_digit("test.canvas")
    if png is None:
        st.write("no drawing yet")
    else:
        st.write(f"image size: {Image.open(io.BytesIO(png)).size}")
        steps = dict(digits.preprocess_steps(png))
        st.write(f"ink pixels: {int((steps['centred 28×28'] > 0.1).sum())}")
        drawn, kept = int((steps["inverted"] > 0).sum()), int((steps["ink only"] > 0).sum())
        st.write(f"paper step kept {kept} of {drawn} drawn pixels")
""")


@pytest.fixture
def canvas_url(tmp_path):
    """`streamlit run` on a one-canvas script, as conftest's start_app does for app.py."""
    script = tmp_path / "canvas_app.py"
    script.write_text(SCRIPT)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_health(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_health(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {process.stdout.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("streamlit did not answer its health endpoint within 90 s")


def test_mouse_stroke_reaches_python_as_png_with_ink(browser, canvas_url):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        page.goto(canvas_url, wait_until="domcontentloaded")
        # The component mounts in an open shadow root; Playwright's CSS selectors pierce it.
        canvas = page.locator("canvas")
        canvas.wait_for(timeout=120_000)
        page.get_by_text("no drawing yet").wait_for(timeout=60_000)

        draw_a_one(page, canvas)

        ink = page.get_by_text(re.compile(r"ink pixels: \d+"))
        ink.wait_for(timeout=60_000)
        assert int(ink.inner_text().split(":")[1]) > 0
        assert page.get_by_text("image size: (280, 280)").count() == 1
        # A canvas is already clean: separating ink from paper must not drop its antialiased edge.
        kept = page.get_by_text(re.compile(r"paper step kept \d+ of \d+")).inner_text().split()
        assert int(kept[3]) == int(kept[5]) > 1000, kept
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "canvas.png"))

        page.get_by_role("button", name="Clear").click()
        page.get_by_text("no drawing yet").wait_for(timeout=60_000)
    finally:
        context.close()
