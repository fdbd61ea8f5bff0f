"""benchmarks/bench_pages.py in its short mode, on two pages: the benchmark itself works (cold
start, interactions paired with the minimal page, the table) and a traceback fails it.

Two pages, not all: every page is opened in Chromium and checked for a traceback by
tests/test_accessibility_browser.py already, and the whole short benchmark took 236 s of CI.
Times are printed, never judged here (CI machines differ).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks import bench_pages
from course import lessons
from tests.conftest import PROJECT_ROOT, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Home, and the first lesson: the page the short benchmark's cold start opens.
SLUGS = ["home", next(lesson.slug for lesson in lessons.all_lessons() if lesson.available)]


def test_short_benchmark_measures_its_pages_and_finds_no_traceback(data_dir, tmp_path):
    ports = {free_port()}
    while len(ports) < 2:
        ports.add(free_port())
    completed = subprocess.run(
        [sys.executable, "benchmarks/bench_pages.py", "--short", "--pages", *SLUGS,
         "--ports", *map(str, ports)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200)

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    table = completed.stdout.split("targets:")[0]
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.strip()}
    assert set(SLUGS) <= set(rows), table
    for slug in SLUGS[1:]:  # a lesson page has widgets, so at least one timed interaction
        assert int(rows[slug][1]) >= 1, rows[slug]
    assert "cold " in completed.stdout


def test_a_page_that_raises_is_counted_as_a_traceback(tmp_path, browser):
    """With the session's Chromium (a second sync Playwright in one process cannot start)."""
    (tmp_path / "broken.py").write_text(
        'import streamlit as st\nst.title("Broken page")\nraise ValueError("on purpose")\n')
    port = free_port()
    server = bench_pages.start_server("broken.py", tmp_path, port, {})
    try:
        tab = bench_pages.Tab(browser)
        tab.open(f"http://127.0.0.1:{port}", "Broken page")
        tab.context.close()
    finally:
        bench_pages.stop_server(server)

    assert len(tab.tracebacks) == 1
    assert "on purpose" in tab.tracebacks[0]
