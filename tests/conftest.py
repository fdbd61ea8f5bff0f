"""Shared fixtures: the data root, a live `streamlit run` server, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# The app shows learners a plain error box (client.showErrorDetails = "none"); tests read the
# real exception message.
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real MNIST / Fashion-MNIST root (COURSE_DATA_DIR, else downloaded to the cache)."""
    from course.engine import data

    try:
        for name in data.DATASETS:
            data.load_dataset(name, train=True)
    except data.DatasetUnavailable as error:
        pytest.fail(f"tests need the real datasets: {error}")
    return data.data_root()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(port: int, env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    """`streamlit run app.py` headless on a port, returning once the health endpoint answers;
    with `log`, the server's output goes to that file (to read while it runs)."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false"]
    output = open(log, "wb") if log else subprocess.PIPE  # noqa: SIM115 (the server keeps it)
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})},
                               stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = Path(log).read_text() if log else process.stdout.read().decode()
            raise RuntimeError(f"streamlit exited: {said[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("streamlit did not answer its health endpoint within 90 s")


def stop_server(process: subprocess.Popen) -> float:
    """Terminate a server and its training workers; returns how long the server took to exit."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    start = time.monotonic()
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    took = time.monotonic() - start
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    return took


@pytest.fixture(scope="session")
def app_url(data_dir, tmp_path_factory):
    """One `streamlit run app.py` for every browser test that can share it (each Chromium
    context is a new session, so a new workspace): a server costs a cold start of its own.
    Runs go under a temporary root; tests that need another setting start their own server."""
    port = free_port()
    process = start_app(port, env={"COURSE_RUNS_DIR": str(tmp_path_factory.mktemp("app-runs"))})
    yield f"http://127.0.0.1:{port}"
    stop_server(process)


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Debian's chromium is required for browser tests: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    """A tab of its own for one test module on the shared server (a new session: a new
    workspace), 1400 px wide; a module that needs another server or size defines its own."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def one_torch_thread():
    """On a shared 2-core box torch's second thread spins against other work (one MNIST epoch
    went from ~1.6 s to ~24 s); one thread keeps tests fast and every number deterministic."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def draw_a_one(page, canvas) -> None:
    """A vertical stroke across the drawing canvas, with real mouse events."""
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.52 * box["width"], box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.48 * box["width"], box["y"] + 0.85 * box["height"], steps=20)
    page.mouse.up()


# A page at rest: no script running and no element left stale, for a whole second.
IDLE_FOR_A_SECOND = """() => {
    const busy = document.querySelector('[data-testid="stStatusWidget"]')
        || document.querySelector('[data-stale="true"]');
    if (busy) { window.__idleSince = null; return false; }
    window.__idleSince = window.__idleSince || Date.now();
    return Date.now() - window.__idleSince > 1000;
}"""


def wait_for_script_to_finish(page, timeout_ms: int = 180_000) -> None:
    """Streamlit shows its status widget while a script run is in progress."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=timeout_ms)


def wait_until_settled(page) -> None:
    """The status widget shows only after a moment, so look twice with a pause between."""
    wait_for_script_to_finish(page)
    page.wait_for_timeout(300)
    wait_for_script_to_finish(page)


def set_slider(page, label: str, steps_from_start: int, expected: str) -> None:
    """Drive a Streamlit slider from the keyboard: Home, then ArrowRight `steps_from_start` times.

    Fast key presses each start a rerun that interrupts the last. On a loaded machine a rerun can
    remount the slider between two presses, so a press lands nowhere, and until the last rerun has
    finished Streamlit may still show an interrupted run's copy beside the new one. So: press
    fast, let the page settle, read; if a press was lost, go again one press and one rerun at a
    time.
    """
    thumb = page.locator(f'input[type=range][aria-label="{label}"]')
    for one_at_a_time in (False, True):
        thumb.press("Home")
        if one_at_a_time:
            wait_until_settled(page)
        for _ in range(steps_from_start):
            if one_at_a_time:
                thumb.press("ArrowRight")
                wait_until_settled(page)
            else:
                page.keyboard.press("ArrowRight")
        wait_until_settled(page)
        shown = thumb.get_attribute("aria-valuetext")
        if shown == expected:
            return
    raise AssertionError(f"slider {label!r} shows {shown}, wanted {expected}")
