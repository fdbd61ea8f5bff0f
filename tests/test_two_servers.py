"""Two `streamlit run` processes on one runs root: workspaces live in the folder, not a process.

Both servers train at once in headless Chromium; afterwards every record on disk is whole
(status parses, checkpoints load, no temp file left behind), each workspace holds exactly its
own run, and server B opened with server A's `?ws=` link shows A's run.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psutil
import pytest

from course.runs import run_files, workspace
from course.runs.checkpoints import load_checkpoint
from tests.conftest import (
    free_port,
    set_slider,
    start_app,
    stop_server,
    wait_for_script_to_finish,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE_SECONDS = 300  # the training page imports torch and starts the pool on a shared 2-core box
RUN_SECONDS = 600
SUBSET_VALUES = [1_000, 5_000, 20_000, 60_000]






def open_trainer(context, url: str):
    page = context.new_page()
    page.goto(f"{url}/mnist-project", wait_until="domcontentloaded")
    page.get_by_role("button", name="Train").wait_for(timeout=PAGE_SECONDS * 1000)
    wait_for_script_to_finish(page)
    return page




def token_of(page) -> str:
    token = parse_qs(urlparse(page.url).query).get("ws", [""])[0]
    assert workspace.is_token(token), page.url
    return token


def leftover_temp_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")
                  if path.name.startswith(".") and path.name != ".last-used"
                  or path.name.endswith(".tmp"))


def test_two_servers_share_one_runs_root(browser, data_dir, tmp_path):
    root = tmp_path / "runs"
    # One slot per server keeps two pools of torch workers light on a shared 2-core box;
    # how many slots a server has is not what this test is about.
    env = {"COURSE_RUNS_DIR": str(root), "COURSE_TRAINING_SLOTS": "1"}
    servers, contexts = [], []
    try:
        for _ in range(2):
            port = free_port()
            servers.append((start_app(port, env), f"http://127.0.0.1:{port}"))
        (_, url_a), (_, url_b) = servers
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000})
                    for _ in servers]
        pages = [open_trainer(context, url) for context, (_, url) in zip(contexts, servers)]
        for page in pages:
            set_slider(page, "Epochs", 0, "1")
            set_slider(page, "Training images", SUBSET_VALUES.index(1_000), "1,000")
        for page in pages:  # both clicks back to back
            page.get_by_role("button", name="Train").click()
        deadline = time.monotonic() + RUN_SECONDS
        for page in pages:
            page.get_by_text("finished after 1 epoch").wait_for(
                timeout=max(1, deadline - time.monotonic()) * 1000)
        for page in pages:
            exceptions = page.locator('[data-testid="stException"]')
            assert exceptions.count() == 0, exceptions.first.inner_text()

        token_a, token_b = (token_of(page) for page in pages)
        assert token_a != token_b
        assert sorted(p.name for p in root.iterdir()) == sorted([token_a, token_b])
        runs = {}
        for token in (token_a, token_b):
            run_ids = workspace.Workspace(token, root=root).run_ids()
            assert len(run_ids) == 1, f"workspace {token} holds {run_ids}"
            runs[token] = run_ids[0]
        assert runs[token_a] != runs[token_b]

        run_dirs = [root / token / "runs" / run_id for token, run_id in runs.items()]
        for run_dir in run_dirs:
            record = run_files.read_json(run_dir / run_files.STATUS_FILE)
            assert record.get("state") == "done", record
            assert len(record["history"]) == 1
            assert run_files.run_config(run_dir).train_subset == 1_000
            assert load_checkpoint(run_dir / run_files.FINAL_CHECKPOINT).epoch == 1
            assert not (run_dir / run_files.EPOCH_CHECKPOINT).exists()  # a finished run keeps final.pt
        assert leftover_temp_files(root) == []

        # Server B with server A's link: the run is found through the folder.
        page_b = pages[1]
        page_b.goto(f"{url_b}/mnist-project?ws={token_a}", wait_until="domcontentloaded")
        page_b.get_by_text("finished after 1 epoch").wait_for(timeout=PAGE_SECONDS * 1000)
        wait_for_script_to_finish(page_b)
        assert token_of(page_b) == token_a
        picker = page_b.locator('[data-testid="stSelectbox"]').filter(has_text="Model to evaluate")
        shown = picker.inner_text() + " ".join(box.input_value() for box in picker.locator("input").all())
        assert f"({runs[token_a][-6:]})" in shown, picker.evaluate("e => e.outerHTML")
        assert f"({runs[token_b][-6:]})" not in page_b.locator("body").inner_text()
        assert sorted(p.name for p in root.iterdir()) == sorted([token_a, token_b])
        assert leftover_temp_files(root) == []
    finally:
        for context in contexts:
            context.close()
        for run_dir in root.glob("*/runs/*"):
            (run_dir / run_files.STOP_FILE).touch()
        for process, url in servers:
            took = stop_server(process)
            print(f"server {url} exited {took:.1f} s after SIGTERM (return code {process.returncode})")


def test_server_stops_promptly_on_sigterm_with_runs_queued(browser, data_dir, tmp_path):
    """A stopped server must not keep training: runs still queued at SIGTERM never start.

    The UI promises "interrupted (its training process ended…)" and a Resume button for such runs.
    """
    root = tmp_path / "runs"
    port = free_port()
    server = start_app(port, {"COURSE_RUNS_DIR": str(root), "COURSE_TRAINING_SLOTS": "1"})
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    workers: list[psutil.Process] = []
    try:
        page = open_trainer(context, f"http://127.0.0.1:{port}")
        set_slider(page, "Epochs", 14, "15")  # long runs: three of them keep one slot busy
        for count in range(1, 4):
            if count > 1:  # another seed: Train never repeats a run that already exists
                seed = page.locator('input[aria-label="Seed"]')
                seed.fill(str(count))
                seed.press("Enter")
                page.wait_for_timeout(500)
                wait_for_script_to_finish(page)
            page.get_by_role("button", name="Train").click()
            page.wait_for_timeout(500)
            wait_for_script_to_finish(page)
            deadline = time.monotonic() + PAGE_SECONDS
            while len(list(root.glob("*/runs/*/status.json"))) < count:
                assert time.monotonic() < deadline, f"click {count} started no run"
                time.sleep(0.2)
        deadline = time.monotonic() + RUN_SECONDS
        while True:
            records = {path.parent.name: run_files.read_json(path)
                       for path in root.glob("*/runs/*/status.json")}
            if any(r.get("state") == "running" and r.get("progress") for r in records.values()):
                break
            assert time.monotonic() < deadline, f"no run started: {records}"
            time.sleep(0.2)
        queued = sorted(run for run, record in records.items() if record.get("state") == "queued")
        assert len(queued) == 2, records
        workers = psutil.Process(server.pid).children(recursive=True)
        start = time.monotonic()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        exited_after = time.monotonic() - start
        still_running = server.poll() is None
        if still_running:
            server.kill()
            server.wait(timeout=10)
        for worker in workers:  # a killed server's workers would train on as orphans
            try:
                worker.kill()
            except psutil.NoSuchProcess:
                pass
        started_later = [run for run in queued if run_files.read_json(
            next(root.glob(f"*/runs/{run}")) / run_files.STATUS_FILE).get("started")]
        assert not still_running, (
            f"the server was still running 30 s after SIGTERM (queued at SIGTERM: {queued}; "
            f"started since: {started_later})")
        assert started_later == [], f"runs queued at SIGTERM trained anyway: {started_later}"
        print(f"server exited {exited_after:.1f} s after SIGTERM")
    finally:
        context.close()
        if server.poll() is None:
            workers = workers or psutil.Process(server.pid).children(recursive=True)
            server.kill()
            server.wait(timeout=10)
        for worker in workers:
            try:
                worker.kill()
            except psutil.NoSuchProcess:
                pass
        for run_dir in root.glob("*/runs/*"):
            (run_dir / run_files.STOP_FILE).touch()
