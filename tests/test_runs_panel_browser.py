"""The runs panel clicked as a learner clicks, in headless Chromium on a real server.

AppTest passed while a browser's Delete raised: here the clicks are real mouse clicks, the
fragments really poll, and the server's log is read for tracebacks. One training slot, so a
second run waits in the queue (and can be cancelled).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, free_port, start_app, stop_server, wait_until_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUICK = "epochs=1&train_subset=1000"


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    log = runs / "server.log"
    port = free_port()
    process = start_app(port, env={"COURSE_RUNS_DIR": str(runs), "COURSE_TRAINING_SLOTS": "1"},
                        log=log)
    yield f"http://127.0.0.1:{port}", runs, log
    stop_server(process)


def run_states(runs: Path) -> dict[str, str]:
    """Every run of every workspace under the root: its id and its state on disk."""
    return {folder.name: json.loads((folder / "status.json").read_text())["state"]
            for folder in sorted(runs.glob("*/runs/run-*")) if (folder / "status.json").exists()}


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def clicks(page, locator, count: int) -> None:
    """`count` real clicks on one spot, as fast as a hand double- or triple-clicks."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    for _ in range(count):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(120)


def button(page, name: str):
    """A runs-panel button by its exact name ("⏹️ Stop", not Streamlit's header "Stop")."""
    return page.get_by_role("button", name=name, exact=True)


def no_traceback(page, log: Path) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-3000:]


def test_the_runs_panel_survives_real_clicks(browser, server):
    url, runs, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/mnist-project?{QUICK}", timeout=120_000)
        train = page.get_by_role("button", name=re.compile("Train"))
        train.wait_for(timeout=120_000)
        train.click()
        wait_for(lambda: [r for r, s in run_states(runs).items() if s == "done"], 240,
                 "the first run to finish")
        page.get_by_text("finished after 1 epoch").first.wait_for(timeout=60_000)

        # Repeat with 3 seeds, clicked three times: three runs, not nine
        clicks(page, page.get_by_role("button", name=re.compile("Repeat with 3 seeds")), 3)
        page.get_by_text(re.compile("Queued 3 runs with seeds 1, 2, 3")).wait_for(timeout=30_000)
        wait_for(lambda: len(run_states(runs)) == 4, 30, "three seeded runs")
        page.wait_for_timeout(2_000)
        assert len(run_states(runs)) == 4
        # the new runs appear without a reload, and all finish
        wait_for(lambda: all(s == "done" for s in run_states(runs).values()), 300,
                 "the seeded runs to finish")
        page.get_by_text(re.compile("used by 4 runs")).wait_for(timeout=30_000)
        wait_until_settled(page)
        no_traceback(page, log)

        # Delete a finished run: it asks first, then the run goes and the others stay
        delete = page.get_by_role("button", name=re.compile("Delete$")).first
        delete.click()
        page.get_by_role("button", name=re.compile("Delete for good")).first.click()
        wait_for(lambda: len(run_states(runs)) == 3, 30, "the deletion")
        page.get_by_text(re.compile("used by 3 runs")).wait_for(timeout=30_000)
        wait_until_settled(page)
        page.wait_for_timeout(3_000)  # the fragments poll: a stale row would raise by now
        no_traceback(page, log)
        assert page.get_by_role("button", name=re.compile("Delete$")).count() == 3

        # A longer run, stopped, then Resume double-clicked: it resumes and is not stopped
        page.goto(f"{url}/mnist-project?epochs=15&seed=9&"
                  f"ws={next(runs.glob('*/runs')).parent.name}", timeout=120_000)
        page.get_by_role("button", name=re.compile("Train")).click()
        long_run = wait_for(lambda: [r for r, s in run_states(runs).items() if s == "running"],
                            120, "the long run to train")[0]
        button(page, "⏹️ Stop").first.click()
        wait_for(lambda: run_states(runs)[long_run] == "stopped", 60, "the stop")
        resume = button(page, "▶️ Resume")
        resume.wait_for(timeout=30_000)
        clicks(page, resume, 2)
        page.wait_for_timeout(3_000)
        assert run_states(runs)[long_run] in ("queued", "running", "done"), run_states(runs)

        # While it trains (one slot), another run waits: Cancel double-clicked cancels it and
        # the second click deletes nothing
        page.goto(f"{url}/mnist-project?epochs=15&seed=10&"
                  f"ws={next(runs.glob('*/runs')).parent.name}", timeout=120_000)
        page.get_by_role("button", name=re.compile("Train")).click()
        waiting = wait_for(lambda: [r for r, s in run_states(runs).items() if s == "queued"
                                    and r != long_run], 60, "a waiting run")[0]
        cancel = button(page, "🚫 Cancel")
        cancel.wait_for(timeout=30_000)
        clicks(page, cancel.first, 2)
        wait_for(lambda: run_states(runs).get(waiting) == "cancelled", 30, "the cancellation")
        page.wait_for_timeout(2_000)
        assert waiting in run_states(runs), "the second click deleted the cancelled run"
        assert run_states(runs)[long_run] in ("running", "done"), run_states(runs)
        wait_until_settled(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "runs-panel-after-clicks.png"), full_page=True)
        no_traceback(page, log)
        button(page, "⏹️ Stop").first.click()
    finally:
        page.close()


def test_a_second_tab_on_the_same_link_sees_new_runs_without_a_reload(browser, server):
    """An idle panel watches the workspace: a run made elsewhere on the link appears by itself."""
    from course.engine.train import RunConfig
    from course.runs import run_files, workspace

    url, runs, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/mnist-project", timeout=120_000)
        page.get_by_role("button", name=re.compile("Train")).wait_for(timeout=120_000)
        wait_for(lambda: "ws=" in page.url, 30, "the page's workspace link")
        token = page.url.split("ws=")[1].split("&")[0]
        space = workspace.Workspace(token, root=runs)
        before = len(space.run_ids())
        # what the other tab's Train leaves on disk: a new run folder, here already finished
        folder = space.new_run_dir()
        run_files.create_run(folder, RunConfig(epochs=1, seed=42), "made in another tab")
        run_files.write_json(folder / run_files.STATUS_FILE, {
            "state": "done", "updated": time.time(),
            "history": [{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.9,
                         "test_loss": 0.3, "test_accuracy": 0.91}]})
        page.get_by_text("made in another tab").first.wait_for(timeout=30_000)
        page.get_by_text(re.compile(f"used by {before + 1} run")).wait_for(timeout=30_000)
        no_traceback(page, log)
    finally:
        page.close()
