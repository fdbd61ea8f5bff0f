"""How fast every page answers in a real browser, beside a minimal Streamlit page measured in the same run.

    python benchmarks/bench_pages.py            # every page, 8 interactions each, 3 cold starts
    python benchmarks/bench_pages.py --short    # CI: 2 interactions per page, one cold start
    python benchmarks/bench_pages.py --pages mnist-project --interactions 20
    python benchmarks/bench_pages.py --interactions 0 --cold-repeats 0 --while-training 3

A real `streamlit run app.py` (its own port, COURSE_DATA_DIR from the environment, a temporary
COURSE_RUNS_DIR) and a minimal page (a slider, a number input and a small plotly bar chart, in a
temporary folder with the app's own .streamlit/config.toml) are driven by headless Chromium.

Per page:
- interactions: every slider, number input, select box and toggle found (up to --interactions),
  each moved one step. Time = from the input to the end of the rerun it causes, read by a
  MutationObserver on the app root's `data-test-script-state`, installed just before the input.
  Bytes = what the websocket received meanwhile (CDP Network.webSocketFrameReceived).
  Each of the page's interactions is paired with one on the minimal page, back to back.
- cold start: a fresh server, a deep link to the page; seconds until the page's title shows
  (with Streamlit's running indicator or a spinner), and until the whole page has rendered
  (the last script run ended and no fragment shows its skeleton any more); raw page-file names
  in the sidebar are counted meanwhile.
  Each cold start is paired with one of the minimal page's.
- while training (--while-training N): a warm server (every page visited once), a new session
  opens the page with no run training, then again while two runs train (two other sessions
  pressed Train on the MNIST page, 15 epochs, and keep polling them), back to back, N times;
  seconds to the title and to the whole page, as for a cold start.
Targets (issue #10): median <= 300 ms and <= 1 MB per interaction; cold start: title <= 3 s,
whole page <= 10 s, no raw file names. Times are printed, never judged by the exit status:
the run fails (exit 1) only when a page shows a traceback (`stException`) or cannot be loaded.
Needs /usr/bin/chromium and the datasets. Not collected by pytest (benchmarks/ is outside
testpaths); tests/test_bench_pages.py runs --short.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from course import lessons  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORTS = (8615, 8616)  # the app, the minimal page
RERUN_MS = 300
PAYLOAD_BYTES = 1_000_000
COLD_TITLE_S, COLD_FULL_S = 3.0, 10.0
LOAD_TIMEOUT_MS = 180_000
MINIMAL_PAGE = '''
import plotly.graph_objects as go
import streamlit as st

st.title("Minimal page")
count = st.slider("Bars", 1, 20, 5)
scale = st.number_input("Scale", 1, 100, 10)
st.plotly_chart(go.Figure(go.Bar(y=[scale * (i + 1) for i in range(count)])))
'''
RAW_NAMES = ("app", "home", *(lesson.slug for lesson in lessons.all_lessons()))

# Installed in every page before Streamlit loads: the script state's transitions, the first
# moment the title shows, and any raw page-file name in the sidebar's navigation.
RECORDER = """
(() => {
  const log = window.__bench = {states: [], title: null, settled: null, raw: 0, rawNames: [],
                                wanted: null};
  const poll = () => {
    const root = document.querySelector('[data-test-script-state]');
    let state = null;
    if (root) {
      state = root.getAttribute('data-test-script-state');
      const last = log.states[log.states.length - 1];
      if (!last || last[0] !== state) log.states.push([state, performance.now()]);
    }
    const titled = log.wanted !== null && [...document.querySelectorAll('h1')].some(
        h => h.textContent.trim().startsWith(log.wanted));
    if (titled && log.title === null) log.title = performance.now();
    // Whole page: the run ended and no fragment still shows its skeleton (they fill in after).
    const complete = titled && state === 'notRunning'
        && !document.querySelector('[data-testid="stSkeleton"]');
    if (!complete) log.settled = null;
    else if (log.settled === null) log.settled = performance.now();
    const nav = document.querySelector('[data-testid="stSidebarNav"]');
    if (nav) {
      const names = [...nav.querySelectorAll('span')].map(s => s.textContent.trim());
      const raw = names.filter(n => window.__rawNames.includes(n));
      if (raw.length) { log.raw += 1; log.rawNames = raw; }
    }
  };
  setInterval(poll, 20);
})();
"""

# Installed just before an input: resolves with the time from now to the end of the rerun.
ARM = """
() => {
  const root = document.querySelector('[data-test-script-state]');
  const t0 = performance.now();
  window.__rerun = {t0, ms: null};
  // A fast rerun flips the state twice before the callback runs: read each change's old value.
  const observer = new MutationObserver((changes) => {
    if (changes.some(change => change.oldValue === 'running')) {
      window.__rerun.ms = performance.now() - t0;
      observer.disconnect();
    }
  });
  observer.observe(root, {attributes: true, attributeOldValue: true,
                          attributeFilter: ['data-test-script-state']});
}
"""

WIDGETS = {  # kind: the element a learner touches, one step at a time
    "slider": '[data-testid="stSlider"] input[type="range"]',
    "number input": '[data-testid="stNumberInputStepUp"]',
    "select box": '[data-testid="stSelectbox"] button[aria-haspopup="listbox"]',
    "toggle": '[data-testid="stCheckbox"] input[role="switch"]',
    "radio": '[data-testid="stRadio"]',
}


# ----------------------------------------------------------------------------- servers


def start_server(script: str, cwd: Path, port: int, env: dict) -> subprocess.Popen:
    """`streamlit run` headless on a port; returns once its health endpoint answers."""
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit run {script} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"streamlit run {script} did not answer within 120 s")


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server and every process it started (the training pool's fork server, workers)."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


class Apps:
    """The app and the minimal page, each served from its own folder and port."""

    def __init__(self, work: Path, ports: tuple[int, int]):
        self.work, self.ports = work, ports
        self.minimal_dir = work / "minimal"
        (self.minimal_dir / ".streamlit").mkdir(parents=True)
        (self.minimal_dir / "minimal.py").write_text(MINIMAL_PAGE)
        shutil.copy(PROJECT_ROOT / ".streamlit" / "config.toml", self.minimal_dir / ".streamlit")
        self.env = {"COURSE_RUNS_DIR": str(work / "runs")}

    @contextmanager
    def app(self):
        process = start_server("app.py", PROJECT_ROOT, self.ports[0], self.env)
        try:
            yield f"http://127.0.0.1:{self.ports[0]}"
        finally:
            stop_server(process)

    @contextmanager
    def minimal(self):
        process = start_server("minimal.py", self.minimal_dir, self.ports[1], {})
        try:
            yield f"http://127.0.0.1:{self.ports[1]}"
        finally:
            stop_server(process)


# ----------------------------------------------------------------------------- one browser tab


class Tab:
    """One Chromium page with the recorder installed and websocket bytes counted."""

    def __init__(self, browser, width: int = 1400):
        self.context = browser.new_context(viewport={"width": width, "height": 1000})
        self.context.add_init_script(f"window.__rawNames = {list(RAW_NAMES)!r};\n{RECORDER}")
        self.page = self.context.new_page()
        self.received = 0
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", self._count)
        self.tracebacks: list[str] = []

    def _count(self, event: dict) -> None:
        response = event.get("response", {})
        payload = response.get("payloadData", "")
        # opcode 2: a binary frame, which CDP hands over base64-encoded
        self.received += len(base64.b64decode(payload)) if response.get("opcode") == 2 \
            else len(payload.encode())

    def open(self, url: str, title: str) -> None:
        self.page.goto(url, wait_until="commit")
        self.page.evaluate(f"window.__bench.wanted = {title!r}")
        self.wait_until_rendered(title)

    def wait_until_rendered(self, title: str, timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
        """The title shows, the last script run has ended and every fragment has filled in."""
        self.page.wait_for_function(
            """(title) => {
              const root = document.querySelector('[data-test-script-state]');
              const h1 = [...document.querySelectorAll('h1')].some(
                  h => h.textContent.trim().startsWith(title));
              return h1 && root && root.getAttribute('data-test-script-state') === 'notRunning'
                  && !document.querySelector('[data-testid="stStatusWidget"]')
                  && !document.querySelector('[data-testid="stSkeleton"]');
            }""", arg=title, timeout=timeout_ms, polling=50)
        self.page.wait_for_timeout(300)  # a run that st.rerun() starts right after the last one
        if self.page.evaluate("document.querySelector('[data-test-script-state]')"
                              ".getAttribute('data-test-script-state')") != "notRunning":
            self.wait_until_rendered(title, timeout_ms)
        self.note_tracebacks()

    def note_tracebacks(self) -> None:
        for element in self.page.locator('[data-testid="stException"]').all():
            text = element.inner_text()[:300]
            if text not in self.tracebacks:
                self.tracebacks.append(text)

    def close(self) -> None:
        self.context.close()


def step(tab: Tab, kind: str, index: int) -> bool:
    """Move one widget one step; False when it cannot move (disabled, hidden)."""
    element = tab.page.locator(WIDGETS[kind]).nth(index)
    if element.is_disabled():
        return False
    if kind == "slider":  # react-aria's range input: focus it, one arrow key
        element.scroll_into_view_if_needed()
        now, top = element.input_value(), element.get_attribute("max")
        tab.page.evaluate(ARM)
        element.focus()
        tab.page.keyboard.press("ArrowLeft" if now == top else "ArrowRight")
    elif kind == "number input":
        element.scroll_into_view_if_needed()
        tab.page.evaluate(ARM)
        element.click()
    elif kind == "select box":
        element.scroll_into_view_if_needed()
        element.click()
        options = tab.page.locator('[role="option"]')
        options.first.wait_for(timeout=5_000)
        chosen = [i for i in range(options.count())
                  if options.nth(i).get_attribute("aria-selected") != "true"]
        if not chosen:
            tab.page.keyboard.press("Escape")
            return False
        tab.page.evaluate(ARM)
        options.nth(chosen[0]).click()
    elif kind == "radio":  # the first option not chosen yet
        options = element.locator('[data-testid="stRadioOption"]')
        free = [i for i in range(options.count())
                if not options.nth(i).locator("input").is_checked()]
        if not free:
            return False
        options.nth(free[0]).scroll_into_view_if_needed()
        tab.page.evaluate(ARM)
        options.nth(free[0]).click()
    else:  # toggle: the switch is visually hidden, its label takes the click
        element.scroll_into_view_if_needed()
        tab.page.evaluate(ARM)
        element.click(force=True)
    return True


def widget_label(tab: Tab, kind: str, index: int) -> str:
    """The label a learner reads beside the widget (the numbers alone do not say which it is)."""
    return tab.page.locator(WIDGETS[kind]).nth(index).evaluate(
        "e => e.closest('[data-testid=stSlider],[data-testid=stNumberInput],"
        "[data-testid=stSelectbox],[data-testid=stCheckbox],[data-testid=stRadio]')"
        "?.querySelector('[data-testid=stWidgetLabel]')?.innerText?.trim()?.slice(0, 30) ?? ''")


def timed_interaction(tab: Tab, kind: str, index: int, timeout_s: float = 20) -> tuple | None:
    """(milliseconds to the end of the rerun, bytes received), or None if nothing reran."""
    # Streamlit's frontend drops an input that comes within a moment of the last rerun's end
    # (seen on the minimal page about one time in five); a learner is never that quick.
    tab.page.wait_for_timeout(400)
    before = tab.received
    if not step(tab, kind, index):
        return None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ms = tab.page.evaluate("window.__rerun.ms")
        if ms is not None and tab.page.locator('[data-testid="stSkeleton"]').count():
            # fragments fill in after the run's end: the answer is complete when they have
            tab.page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
                timeout=timeout_s * 1000, polling=20)
            ms = tab.page.evaluate("performance.now() - window.__rerun.t0")
        if ms is not None:
            tab.page.wait_for_timeout(100)  # frames still in flight after the state flipped
            tab.note_tracebacks()
            return ms, tab.received - before
        tab.page.wait_for_timeout(20)
    tab.note_tracebacks()
    return None


def page_widgets(tab: Tab, cap: int) -> list[tuple[str, int]]:
    """Every widget of the kinds measured, spread over the kinds, at most `cap`."""
    found = {kind: tab.page.locator(selector).count() for kind, selector in WIDGETS.items()}
    chosen: list[tuple[str, int]] = []
    for index in range(max(found.values(), default=0)):
        for kind, count in found.items():
            if index < count and len(chosen) < cap:
                chosen.append((kind, index))
    return chosen


# ----------------------------------------------------------------------------- measurements


def interactions(browser, app_url: str, minimal_url: str, page: dict, cap: int) -> dict:
    """The page's interactions, each paired with one on the minimal page, back to back."""
    tab, minimal = Tab(browser), Tab(browser)
    try:
        tab.open(f"{app_url}/{page['url']}", page["title"])
        minimal.open(minimal_url, "Minimal page")
        times, payloads, floor, labels, skipped = [], [], [], [], 0
        for number, (kind, index) in enumerate(page_widgets(tab, cap)):
            try:
                result = timed_interaction(tab, kind, index)
            except Exception as error:  # noqa: BLE001 - a widget the tool cannot drive
                print(f"    {kind} #{index}: could not drive it ({type(error).__name__})")
                result = None
            if result is None:
                skipped += 1
                continue
            times.append(result[0])
            payloads.append(result[1])
            labels.append(f"{kind} #{index} {widget_label(tab, kind, index)!r}")
            reference = timed_interaction(minimal, ("slider", "number input")[number % 2], 0)
            if reference:
                floor.append(reference[0])
        return {"times": times, "payloads": payloads, "floor": floor, "labels": labels,
                "skipped": skipped,
                "tracebacks": tab.tracebacks + minimal.tracebacks}
    finally:
        tab.close()
        minimal.close()


def cold_start(browser, serve, url: str, title: str) -> dict:
    """A fresh server, a deep link: seconds to the title, to the whole page; raw names seen."""
    with serve() as base:
        tab = Tab(browser)
        try:
            tab.page.goto(f"{base}/{url}", wait_until="commit")
            tab.page.evaluate(f"window.__bench.wanted = {title!r}")
            tab.wait_until_rendered(title)
            log = tab.page.evaluate("window.__bench")
            # performance.now() counts from the navigation's start: the learner's clock
            done = log["settled"] or [t for state, t in log["states"] if state == "notRunning"][-1]
            return {"title": (log["title"] or done) / 1000, "full": done / 1000,
                    "raw": log["rawNames"] if log["raw"] else [],
                    "tracebacks": tab.tracebacks}
        finally:
            tab.close()


def page_load(browser, base: str, page: dict) -> dict:
    """A new session opens the page: seconds from navigation to its title and to the whole page."""
    tab = Tab(browser)
    try:
        tab.page.goto(f"{base}/{page['url']}", wait_until="commit")
        tab.page.evaluate(f"window.__bench.wanted = {page['title']!r}")
        tab.wait_until_rendered(page["title"])
        log = tab.page.evaluate("window.__bench")
        done = log["settled"] or [t for state, t in log["states"] if state == "notRunning"][-1]
        return {"title": (log["title"] or done) / 1000, "full": done / 1000,
                "tracebacks": tab.tracebacks}
    finally:
        tab.close()


TRAINING = re.compile(r"epoch \d+ of 15 · step")


def start_two_runs(trainers: list[Tab], base: str, seed: int) -> None:
    """Each trainer session presses Train on a 15-epoch run (a new seed: never a twin) and
    waits until its run trains; the tabs stay open, so their panels keep polling."""
    for number, tab in enumerate(trainers):
        tab.page.goto(f"{base}/mnist-project?epochs=15&seed={seed + number}",
                      wait_until="commit")
        tab.page.evaluate("window.__bench.wanted = 'Project: MNIST'")
        tab.wait_until_rendered("Project: MNIST")
        tab.page.get_by_role("button", name="Train").click()
    for tab in trainers:
        tab.page.get_by_text(TRAINING).first.wait_for(timeout=LOAD_TIMEOUT_MS)


def stop_runs(trainers: list[Tab]) -> None:
    """Stop every run the trainers started, so the next idle measurement is idle."""
    for tab in trainers:  # the panel's "⏹️ Stop", not Streamlit's own "Stop" in its header
        stop = tab.page.get_by_role("button", name="⏹️ Stop", exact=True)
        if stop.count():
            stop.first.click()
        tab.page.get_by_text(re.compile("stopped after|finished after")).first.wait_for(
            timeout=60_000)


def while_training(browser, serve, pages: list[dict], repeats: int) -> dict[str, dict]:
    """Each page opened by a new session on a warm server: idle, then while two runs train."""
    measured = {page["slug"]: {"idle": [], "busy": [], "tracebacks": []} for page in pages}
    with serve() as base:
        for page in pages:  # every first visit (imports, data, the fork server) before timing
            page_load(browser, base, page)
        trainers = [Tab(browser), Tab(browser)]
        seeds = itertools.count(100, 2)  # a new pair each time: a twin of a run would not start
        try:
            for _ in range(repeats):
                for page in pages:
                    idle = page_load(browser, base, page)
                    start_two_runs(trainers, base, seed=next(seeds))
                    busy = page_load(browser, base, page)
                    still = sum(tab.page.get_by_text(TRAINING).count() > 0 for tab in trainers)
                    stop_runs(trainers)
                    row = measured[page["slug"]]
                    row["idle"].append(idle)
                    row["busy"].append(busy)
                    row["tracebacks"] += idle["tracebacks"] + busy["tracebacks"]
                    print(f"  while training, {page['slug']}: idle title {idle['title']:.1f} s, "
                          f"whole {idle['full']:.1f} s; two runs training ({still} still at the "
                          f"end) title {busy['title']:.1f} s, whole {busy['full']:.1f} s; load "
                          f"{os.getloadavg()[0]:.1f}", flush=True)
        finally:
            for tab in trainers:
                tab.close()
    return measured


# ----------------------------------------------------------------------------- report


def pages_to_measure(slugs: list[str] | None) -> list[dict]:
    pages = [{"url": "", "title": "PyTorch Course Lab", "slug": "home"}]  # "/": what one types
    pages += [{"url": lesson.slug, "title": lesson.title, "slug": lesson.slug}
              for lesson in lessons.all_lessons() if lesson.available]
    return [page for page in pages if not slugs or page["slug"] in slugs]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def report(results: dict[str, dict], cold: dict[str, list[dict]], minimal_cold: list[dict],
           training: dict[str, dict] | None = None) -> None:
    rows = [["page", "n", "median ms (minimal)", "worst ms", "largest payload",
             "cold: title s (minimal)", "cold: whole page s", "raw names"]]
    nothing = {"times": [], "floor": [], "payloads": []}  # --interactions 0: cold starts only
    for slug in dict.fromkeys([*results, *cold]):
        result = results.get(slug, nothing)
        times, floor = result["times"], result["floor"]
        colds = cold.get(slug, [])
        rows.append([
            slug, str(len(times)),
            f"{median(times):,.0f} ({median(floor):,.0f})" if times else "-",
            f"{max(times):,.0f}" if times else "-",
            f"{max(result['payloads']) / 1e3:,.1f} KB" if result["payloads"] else "-",
            f"{median([c['title'] for c in colds]):.1f} "
            f"({median([c['title'] for c in minimal_cold]):.1f})" if colds else "-",
            f"{median([c['full'] for c in colds]):.1f}" if colds else "-",
            ", ".join(sorted({name for c in colds for name in c["raw"]})) or "none",
        ])
    print()
    print_table(rows)
    if training:
        print()
        print_table([["page opened", "n", "idle: title s", "idle: whole s",
                      "two runs training: title s", "whole s"]] + [
            [slug, str(len(row["busy"])), f"{median([m['title'] for m in row['idle']]):.1f}",
             f"{median([m['full'] for m in row['idle']]):.1f}",
             f"{median([m['title'] for m in row['busy']]):.1f}",
             f"{median([m['full'] for m in row['busy']]):.1f}"]
            for slug, row in training.items()])
    print(f"\ntargets: median <= {RERUN_MS} ms and <= {PAYLOAD_BYTES / 1e6:g} MB per interaction; "
          f"cold start: title <= {COLD_TITLE_S:g} s, whole page <= {COLD_FULL_S:g} s, no raw names."
          " The minimal page's figures were measured in the same run, interleaved.")


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="CI: 2 interactions per page, one cold start of one page")
    parser.add_argument("--pages", nargs="*", help="slugs to measure (default: every page)")
    parser.add_argument("--interactions", type=int, default=None,
                        help="interactions per page (default 8, 2 with --short)")
    parser.add_argument("--cold-repeats", type=int, default=None,
                        help="cold starts per page (default 3; --short: 1, first lesson page only)")
    parser.add_argument("--while-training", type=int, default=0, metavar="N",
                        help="each page opened N times idle and N times while two runs train")
    parser.add_argument("--ports", type=int, nargs=2, default=PORTS, help="app, minimal page")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    if not os.environ.get("COURSE_DATA_DIR"):
        print("warning: COURSE_DATA_DIR is not set; pages without their dataset say so instead",
              file=sys.stderr)
    cap = arguments.interactions if arguments.interactions is not None else (
        2 if arguments.short else 8)
    repeats = arguments.cold_repeats if arguments.cold_repeats is not None else (
        1 if arguments.short else 3)
    pages = pages_to_measure(arguments.pages)
    cold_pages = [page for page in pages if page["slug"] != "home"][:1] if arguments.short \
        else pages
    from playwright.sync_api import sync_playwright

    print(f"load average {os.getloadavg()[0]:.2f}; {len(pages)} pages, up to {cap} interactions "
          f"each, {repeats} cold start(s) per page", flush=True)
    failures = []
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as scratch, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        apps = Apps(Path(scratch), tuple(arguments.ports))
        cold: dict[str, list[dict]] = {}
        minimal_cold: list[dict] = []
        for _ in range(repeats):  # fresh servers first: a cold start must come before any visit
            for page in cold_pages:
                minimal_cold.append(cold_start(browser, apps.minimal, "", "Minimal page"))
                try:
                    measured = cold_start(browser, apps.app, page["url"], page["title"])
                except Exception as error:  # noqa: BLE001 - reported, and the run fails
                    failures.append(f"{page['slug']} cold start: {error}")
                    continue
                cold.setdefault(page["slug"], []).append(measured)
                failures += [f"{page['slug']} cold start: {t}" for t in measured["tracebacks"]]
                print(f"  cold {page['slug']}: title {measured['title']:.1f} s, whole page "
                      f"{measured['full']:.1f} s (minimal {minimal_cold[-1]['full']:.1f} s)"
                      f"{'; raw names ' + ', '.join(measured['raw']) if measured['raw'] else ''}",
                      flush=True)
        training = {}
        if arguments.while_training:
            lesson_pages = [page for page in pages if page["slug"] != "home"]
            training = while_training(browser, apps.app, lesson_pages, arguments.while_training)
            failures += [f"{slug} while training: {text}" for slug, row in training.items()
                         for text in row["tracebacks"]]
        results = {}
        if cap:  # --interactions 0: cold starts and --while-training only
            with apps.app() as app_url, apps.minimal() as minimal_url:
                for page in pages:
                    try:
                        results[page["slug"]] = result = interactions(browser, app_url, minimal_url,
                                                                      page, cap)
                    except Exception as error:  # noqa: BLE001 - reported, and the run fails
                        failures.append(f"{page['slug']}: {type(error).__name__}: {error}")
                        continue
                    failures += [f"{page['slug']}: traceback {text}" for text in result["tracebacks"]]
                    shown = ", ".join(f"{label} {t:,.0f}" for label, t in
                                      zip(result["labels"], result["times"])) or "no widgets"
                    floor = ", ".join(f"{t:,.0f}" for t in result["floor"]) or "-"
                    print(f"  {page['slug']}: {shown} ms (minimal {floor})", flush=True)
        browser.close()
    report(results, cold, minimal_cold, training)
    if failures:
        print(f"\n{len(failures)} failure(s):")
        for failure in failures:
            print(f"  {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
