"""A classroom on one address: two replicas behind Debian's HAProxy with deploy/haproxy.cfg.

Two `streamlit run app.py` replicas share one COURSE_RUNS_DIR (with COURSE_REPLICAS_PER_HOST=2,
so each trains one run at a time on this 2-core box); HAProxy listens on loopback with the
repository's own configuration. Four Chromium contexts come in through the proxy, each gets
the affinity cookie for one replica and trains a short run on the MNIST page. Then one replica
is killed with SIGKILL (its whole process tree, as a crashed container) while its runs train:
its learners reload through the proxy, land on the other replica with the same workspace link,
and see their runs interrupted with a Resume button, and one resumes to the end. The other
replica's learners finish. Every JSON file of every workspace still parses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psutil
import pytest

from course.runs import run_files, workspace
from tests.conftest import PROJECT_ROOT, free_port, start_app, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy.cfg"
COOKIE = "COURSE_REPLICA"
LEARNERS = 4
PAGE_MS = 300_000  # a fresh replica imports torch for its first page (8 s alone, minutes on a busy box)
RUN_SECONDS = 300  # a niced worker on a host loaded by other work waits its turn for the cores
# The doomed replica's runs are long enough to be killed mid-run (15 epochs of 1,000 images,
# a few seconds); the survivors' are two epochs.
LONG_RUN = {"epochs": 15, "train_subset": 1_000}
SHORT_RUN = {"epochs": 2, "train_subset": 1_000}


def haproxy_or_skip() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).exists()), None)
    if not found:
        pytest.skip("HAProxy is not installed (apt-get install -y haproxy): the classroom test "
                    "needs Debian's haproxy in front of the two replicas")
    return found


def start_haproxy(binary: str, port: int, replicas: list[int], log: Path) -> subprocess.Popen:
    """deploy/haproxy.cfg as it is, its addresses from the environment (presetenv keeps them)."""
    env = {**os.environ, "COURSE_PROXY_BIND": f"127.0.0.1:{port}",
           **{f"COURSE_APP{i}": f"127.0.0.1:{p}" for i, p in enumerate(replicas, 1)}}
    process = subprocess.Popen([binary, "-db", "-f", str(HAPROXY_CONFIG)], env=env,
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"haproxy exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"haproxy did not answer within 20 s: {log.read_text()[-2000:]}")


def kill_tree(process: subprocess.Popen) -> list[int]:
    """SIGKILL the server and every process under it at once, as a container that crashes."""
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    for member in tree:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(tree, timeout=10)
    process.wait(timeout=10)
    return [member.pid for member in tree]


def replica_of(context) -> str:
    values = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
    assert len(values) == 1, context.cookies()
    return values[0]


def token_of(page) -> str:
    token = parse_qs(urlparse(page.url).query).get("ws", [""])[0]
    assert workspace.is_token(token), page.url
    return token


def runs_of(root: Path, token: str) -> dict[str, dict]:
    return {folder.name: run_files.read_json(folder / run_files.STATUS_FILE)
            for folder in sorted((root / token / "runs").glob("run-*"))}


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def no_exception(page) -> None:
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, shown.first.inner_text()


def test_a_classroom_survives_losing_a_replica(browser, data_dir, tmp_path):
    haproxy = haproxy_or_skip()
    started = time.monotonic()
    root = tmp_path / "workspaces"
    env = {"COURSE_RUNS_DIR": str(root), "COURSE_REPLICAS_PER_HOST": "2"}
    ports = [free_port(), free_port()]
    servers: dict[str, subprocess.Popen] = {}
    proxy = None
    contexts = []
    try:
        with ThreadPoolExecutor(2) as pool:  # both replicas start at once
            starting = {name: pool.submit(start_app, port, env, tmp_path / f"{name}.log")
                        for name, port in zip(("app1", "app2"), ports)}
            servers.update({name: future.result() for name, future in starting.items()})
        proxy_port = free_port()
        proxy = start_haproxy(haproxy, proxy_port, ports, tmp_path / "haproxy.log")
        url = f"http://127.0.0.1:{proxy_port}"

        # Each learner's first answer through the proxy brings the affinity cookie.
        contexts = [browser.new_context(viewport={"width": 1400, "height": 1000})
                    for _ in range(LEARNERS)]
        for context in contexts:
            context.request.get(f"{url}/_stcore/health")
        replicas = [replica_of(context) for context in contexts]
        assert sorted(replicas) == ["app1", "app1", "app2", "app2"], replicas  # round robin
        doomed = "app1"
        pages = []
        for seed, (context, replica) in enumerate(zip(contexts, replicas)):
            settings = LONG_RUN if replica == doomed else SHORT_RUN
            query = "&".join(f"{key}={value}" for key, value in {**settings, "seed": seed}.items())
            page = context.new_page()
            page.goto(f"{url}/mnist-project?{query}", wait_until="domcontentloaded",
                      timeout=PAGE_MS)
            pages.append(page)
        for page in pages:
            page.get_by_role("button", name="Train").wait_for(timeout=PAGE_MS)
        print(f"four pages ready through the proxy at {time.monotonic() - started:.1f} s")
        tokens = [token_of(page) for page in pages]
        assert len(set(tokens)) == LEARNERS
        for page in pages:
            page.get_by_role("button", name="Train").click()
        wait_for(lambda: all(runs_of(root, token) for token in tokens), RUN_SECONDS,
                 "every learner's run on disk")
        assert [replica_of(context) for context in contexts] == replicas  # the cookie held

        # Kill the doomed replica while one of its runs trains (an epoch done, more to come).
        doomed_tokens = [t for t, r in zip(tokens, replicas) if r == doomed]

        def one_doomed_run_mid_way():
            return [run for token in doomed_tokens for run in runs_of(root, token).values()
                    if run.get("state") == "running" and 1 <= len(run.get("history", [])) < 15]

        wait_for(one_doomed_run_mid_way, RUN_SECONDS, "a run of the doomed replica to train an epoch")
        kill_tree(servers.pop(doomed))
        killed_at = time.monotonic()
        print(f"{doomed} killed at {killed_at - started:.1f} s")
        mid_way = {token: run_id for token in doomed_tokens
                   for run_id, run in runs_of(root, token).items() if run.get("history")}
        assert mid_way, "the kill came after the doomed replica's runs had ended"

        # Its learners reload through the proxy: the other replica, the same workspace.
        survivor = "app2"
        for page, context, replica, token in zip(pages, contexts, replicas, tokens):
            if replica != doomed:
                continue
            page.reload(wait_until="commit", timeout=PAGE_MS)  # both reload at once
        for page, context, replica, token in zip(pages, contexts, replicas, tokens):
            if replica != doomed:
                continue
            page.get_by_role("button", name="Train").wait_for(timeout=PAGE_MS)
            assert token_of(page) == token
            assert replica_of(context) == survivor
        for page, replica, token in zip(pages, replicas, tokens):
            if replica != doomed:
                continue
            (run_id,) = runs_of(root, token)
            # A training run looks interrupted once its status has been silent for a while.
            page.get_by_text("⚠️ interrupted").wait_for(
                timeout=(run_files.STALE_AFTER_SECONDS + 60) * 1000)
            page.get_by_role("button", name="▶️ Resume", exact=True).wait_for(timeout=10_000)
            assert run_id[-6:] in page.locator("body").inner_text()
            no_exception(page)
        print(f"interrupted and resumable {time.monotonic() - killed_at:.1f} s after the kill")

        # The survivor's learners finished their runs.
        for page, replica in zip(pages, replicas):
            if replica == survivor:
                page.get_by_text("finished after 2 epochs").wait_for(timeout=RUN_SECONDS * 1000)
                no_exception(page)

        # The run that was mid-way resumes on the survivor from its epoch checkpoint and ends.
        first = next(i for i, token in enumerate(tokens) if token in mid_way)
        resumed = mid_way[tokens[first]]
        pages[first].get_by_role("button", name="▶️ Resume", exact=True).click()
        wait_for(lambda: runs_of(root, tokens[first])[resumed].get("state") == "done", RUN_SECONDS,
                 "the resumed run to finish on the surviving replica")
        record = runs_of(root, tokens[first])[resumed]
        assert len(record["history"]) == LONG_RUN["epochs"]
        assert record["resumed_from_epoch"] >= 1
        pages[first].get_by_text("finished after 15 epochs").wait_for(timeout=30_000)
        no_exception(pages[first])

        # No workspace file is corrupted: every JSON file parses, every workspace holds its run.
        parsed = 0
        for path in root.rglob("*.json"):
            json.loads(path.read_text())
            parsed += 1
        assert parsed >= 3 * LEARNERS  # config, status and progress of each learner at least
        for token in tokens:
            assert len(runs_of(root, token)) == 1
        print(f"classroom test took {time.monotonic() - started:.1f} s")
    finally:
        for context in contexts:
            context.close()
        for run_dir in root.glob("*/runs/*"):
            (run_dir / run_files.STOP_FILE).touch()
        for process in servers.values():
            stop_server(process)
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
