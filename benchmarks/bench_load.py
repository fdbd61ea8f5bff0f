"""Four learners press Train at once: training time against a job run alone, and peak memory.

    python benchmarks/bench_load.py [--epochs 5] [--subset 60000] [--sessions 4] [--browser-nice 19]

Speed: the same job (simple MLP on MNIST, batch 64, lr 1e-3, CPU, `--epochs` epochs on
`--subset` training images; by default the page's default run, 5 epochs on all 60,000) runs alone from the
command line (`python -m course train --json`, default threads) = the issue's baseline,
`--baseline-runs` times, the last one after the load phase so the runs bracket it. The same
CLI run with `--threads 1` (what each worker uses when 2 slots share 2 cores) is measured
interleaved with it as a reference: on a busy host, default threads (= usable cores) can be
many times slower than one thread, which would make the issue's ratio look better than it is.
Then a real `streamlit run app.py` (fresh COURSE_RUNS_DIR) gets `--sessions` headless-Chromium
contexts on /mnist-project; each sets the same epochs and subset with the keyboard and
presses Train (back to back), and keeps its page open, so its live panel keeps polling, until
all show "finished". Each job's training time is the sum of the per-epoch "seconds" in its
run's status.json (evaluation excluded, as in the CLI's train_seconds). Target: every job's
time / the baseline's median <= 2.0. Waiting for a training slot (status.json's started -
submitted) is reported separately. A control phase runs the same jobs on a bare
`course.runs.jobs.JobRunner()` (the server's slot count, no server, no browser), to separate what
sharing the cores between slots costs from what the server and the polling pages cost.

Memory: the server's resident memory and that of the server plus its children (worker
processes, multiprocessing's resource tracker), sampled every 0.2 s from server start to the
end of the load phase. Target from the issue: under 1.5 GB.

The host may be shared: the load average and the CPU that processes outside this benchmark
used are printed beside each phase. Needs COURSE_DATA_DIR (the MNIST root) and
/usr/bin/chromium. Not collected by pytest (benchmarks/ is outside testpaths).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.conftest import (  # noqa: E402
    CHROMIUM_ARGS,
    free_port,
    set_slider,
    start_app,
    stop_server,
    wait_for_script_to_finish,
)

SUBSET_VALUES = [1_000, 5_000, 20_000, 60_000]  # the page's "Training images" choices
SPEED_TARGET = 2.0
MEMORY_TARGET_BYTES = 1.5e9
SAMPLE_SECONDS = 0.2
PSS_EVERY = 10  # samples: reading smaps costs ~25 ms of CPU per torch process
PAGE_SECONDS = 300
CHROMIUM = "/usr/bin/chromium"
MB = 1e6


# ----------------------------------------------------------------------------- CPU accounting


class CpuAccount:
    """Busy CPU seconds on the whole host vs. in the processes this benchmark started."""

    def __init__(self):
        self.start_busy = self._busy()
        self.start_wall = time.monotonic()
        self.start_load = os.getloadavg()[0]
        self.own: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self.classify = lambda process: "other"
        # CPU that processes alive now had already used before this account began
        self.base = {process.pid: cpu for process, cpu in self._descendants()}

    @staticmethod
    def _descendants():
        for process in psutil.Process().children(recursive=True):
            try:
                cpu = process.cpu_times()
            except psutil.Error:
                continue
            yield process, cpu.user + cpu.system

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return sum(getattr(times, field, 0.0) for field in
                   ("user", "nice", "system", "irq", "softirq", "steal"))

    def sample_own(self) -> None:
        """Record the CPU time of this process's descendants (kept after they exit)."""
        for process, cpu in self._descendants():
            try:
                used = cpu - self.base.get(process.pid, 0.0)
                self.own[process.pid] = max(self.own.get(process.pid, 0.0), used)
                if self.kinds.get(process.pid, "other") == "other":
                    self.kinds[process.pid] = self.classify(process)
            except psutil.Error:
                pass

    def summary(self) -> dict:
        wall = time.monotonic() - self.start_wall
        busy = self._busy() - self.start_busy
        own = sum(self.own.values())
        cores = psutil.cpu_count() or 1
        by_kind: dict[str, float] = {}
        for pid, seconds in self.own.items():
            kind = self.kinds.get(pid, "other")
            by_kind[kind] = by_kind.get(kind, 0.0) + (seconds / wall if wall else 0.0)
        return {"own_by_kind": by_kind, "wall": wall, "cores": cores,
                "busy_cores": busy / wall if wall else 0.0, "own_cores": own / wall if wall else 0.0,
                "other_cores": max(0.0, busy - own) / wall if wall else 0.0,
                "load_start": self.start_load, "load_end": os.getloadavg()[0]}


def describe_cpu(summary: dict) -> str:
    return (f"host busy {summary['busy_cores']:.2f} of {summary['cores']} cores, this benchmark "
            f"{summary['own_cores']:.2f}, others {summary['other_cores']:.2f}; load average "
            f"{summary['load_start']:.1f} -> {summary['load_end']:.1f}")


# ----------------------------------------------------------------------------- the baseline


def cli_run(epochs: int, subset: int, work: Path, threads: int | None = None) -> dict:
    """`python -m course train` alone; returns its train_seconds and the host's CPU picture."""
    run_dir = Path(tempfile.mkdtemp(prefix="cli-", dir=work))
    command = [sys.executable, "-m", "course", "train", "--epochs", str(epochs), "--json",
               "--device", "cpu", "--run-dir", str(run_dir)]  # the page's runs use the CPU too
    if subset != 60_000:
        command += ["--train-subset", str(subset)]
    if threads:
        command += ["--threads", str(threads)]
    account = CpuAccount()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        account.sample_own()
        time.sleep(SAMPLE_SECONDS)
    out, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err[-2000:]}")
    result = json.loads(out)
    return {"seconds": result["train_seconds"], "cpu": account.summary(),
            "threads": threads or "default"}


# ----------------------------------------------------------------------------- memory sampling


class MemorySampler(threading.Thread):
    """Peak RSS of the server, of server + children (summed per sample), and of each child."""

    def __init__(self, pid: int, account: CpuAccount):
        super().__init__(daemon=True)
        self.server = psutil.Process(pid)
        self.halt = threading.Event()
        self.peak_server = self.peak_total = 0
        self.peak_child: dict[int, int] = {}
        self.peak_pss: dict[int, int] = {}
        self.peak_pss_total = 0
        self.child_kind: dict[int, str] = {}
        self.cpu_series: dict[int, list[tuple[float, float]]] = {}  # pid -> (unix time, cpu s)
        self.samples = 0
        self.accounts = [account]
        account.classify = self.classify_any

    def add_account(self) -> CpuAccount:
        account = CpuAccount()
        account.classify = self.classify_any
        self.accounts.append(account)
        return account

    @staticmethod
    def kind(process: psutil.Process) -> str:
        command = " ".join(process.cmdline())
        if "resource_tracker" in command:
            return "resource tracker"
        if "multiprocessing.spawn" in command:
            return "worker"
        if "multiprocessing.forkserver" in command:  # the fork server, or a worker forked from it
            try:
                parent = " ".join(process.parent().cmdline())
            except (psutil.Error, AttributeError):
                return "other"
            return "worker" if "multiprocessing.forkserver" in parent else "fork server"
        return "other"

    def classify_any(self, process: psutil.Process) -> str:
        """Sort this benchmark's processes into server, workers, browser and the rest."""
        if process.pid == self.server.pid:
            return "server"
        kind = self.kind(process)
        if kind == "worker":
            return "workers"
        if kind == "fork server":
            return kind
        if kind == "other" and any(name in process.name() for name in ("chrom", "node")):
            return "browser"
        return "other"

    def run(self) -> None:
        server_command = self.server.cmdline()
        while not self.halt.is_set():
            try:
                server_rss = self.server.memory_info().rss
                children = self.server.children(recursive=True)
            except psutil.Error:
                break
            total = server_rss
            measured = [self.server]
            for child in children:
                try:
                    # Between fork and exec a child still shows the server's command line and
                    # maps all of the server's pages: not memory of its own yet, skip it.
                    if child.cmdline() == server_command:
                        continue
                    rss = child.memory_info().rss
                    if self.child_kind.get(child.pid, "other") == "other":
                        self.child_kind[child.pid] = self.kind(child)
                    cpu = child.cpu_times()
                    self.cpu_series.setdefault(child.pid, []).append(
                        (time.time(), cpu.user + cpu.system))
                except psutil.Error:
                    continue
                total += rss
                measured.append(child)
                self.peak_child[child.pid] = max(self.peak_child.get(child.pid, 0), rss)
            self.peak_server = max(self.peak_server, server_rss)
            self.peak_total = max(self.peak_total, total)
            if self.samples % PSS_EVERY == 0:
                self.sample_pss(measured)
            self.samples += 1
            for account in list(self.accounts):
                account.sample_own()
            self.halt.wait(SAMPLE_SECONDS)

    def sample_pss(self, processes: list[psutil.Process]) -> None:
        """Proportional set size: shared pages (torch's libraries) split between the sharers."""
        total = 0
        for process in processes:
            try:
                pss = process.memory_full_info().pss
            except (psutil.Error, AttributeError):
                continue
            total += pss
            self.peak_pss[process.pid] = max(self.peak_pss.get(process.pid, 0), pss)
        self.peak_pss_total = max(self.peak_pss_total, total)

    def workers(self) -> list[psutil.Process]:
        try:
            return [child for child in self.server.children(recursive=True)
                    if self.kind(child) == "worker"]
        except psutil.Error:
            return []

    def cpu_share(self, pid: int, start: float, end: float) -> float:
        """CPU seconds that process used from start to end (unix times) / (end - start)."""
        series = self.cpu_series.get(pid, [])

        def at(moment: float) -> float:
            earlier = [cpu for when, cpu in series if when <= moment]
            later = [cpu for when, cpu in series if when >= moment]
            return (earlier[-1] if earlier else later[0]) if series else float("nan")

        return (at(end) - at(start)) / (end - start) if end > start else float("nan")


def wait_for_warm_pool(sampler: MemorySampler, timeout: float = PAGE_SECONDS) -> float:
    """Seconds until the pool's workers exist and have gone quiet (torch imported, data loaded)."""
    start = time.monotonic()
    quiet_since, last = None, None
    while time.monotonic() - start < timeout:
        workers = sampler.workers()
        try:
            cpu = sum(sum(worker.cpu_times()[:2]) for worker in workers)
        except psutil.Error:
            cpu = None
        if workers and cpu is not None and last is not None and cpu - last < 0.05:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 3:
                return time.monotonic() - start
        else:
            quiet_since = None
        last = cpu
        time.sleep(0.5)
    return float("nan")


# ----------------------------------------------------------------------------- the load phase






def renice_browsers(niceness: int) -> None:
    """Give this benchmark's Chromium processes the lowest CPU priority (when niceness > 0).

    Learners' browsers run on their own machines, not on the server's cores; here they share the
    same two cores, and at normal priority their rendering of four live pages takes CPU from the
    training workers that a real deployment would not lose. Niced, they only get what the server
    and its workers leave idle (and their pages still poll the server as often as before).
    Playwright starts Chromium in a session of its own, and with the kernel's autogroup
    scheduling a process's niceness only counts inside its session's group: the group's own
    niceness (/proc/PID/autogroup) is what weighs against the server, so both are set.
    """
    if niceness <= 0:
        return
    for process in psutil.Process().children(recursive=True):
        try:
            if "chrom" not in process.name():
                continue
            if process.nice() < niceness:
                process.nice(niceness)
            group = Path(f"/proc/{process.pid}/autogroup")
            if group.exists():
                group.write_text(str(niceness))
        except (psutil.Error, OSError):
            pass


def run_states(root: Path) -> list[str]:
    states = []
    for status_file in root.glob("*/runs/*/status.json"):
        try:
            states.append(json.loads(status_file.read_text()).get("state"))
        except (OSError, ValueError):
            pass
    return states


def control_phase(args, work: Path) -> dict:
    """The same jobs on a JobRunner of the server's size with no server and no browser.

    Separates what the slot limit costs (jobs sharing cores with each other) from what the
    server and the polling pages cost.
    """
    from course.engine.train import RunConfig
    from course.runs import jobs as course_jobs

    config = RunConfig(epochs=args.epochs,
                       train_subset=None if args.subset == 60_000 else args.subset)
    runner = course_jobs.JobRunner()
    try:
        warm = [runner.executor.submit(course_jobs.warm_up) for _ in range(runner.slots)]
        for future in warm:
            future.result(timeout=PAGE_SECONDS)
        run_dirs = []
        for index in range(args.sessions):
            folder = work / "control" / f"run-{index}"
            folder.mkdir(parents=True)
            run_dirs.append(course_jobs.create_run(folder, config))
        account = CpuAccount()
        start = time.monotonic()
        for run_dir in run_dirs:
            runner.submit(run_dir)
        deadline = start + args.timeout
        while any(course_jobs.status(run_dir)["state"] in course_jobs.ACTIVE_STATES
                  for run_dir in run_dirs):
            if time.monotonic() > deadline:
                raise RuntimeError("the control runs did not finish")
            account.sample_own()
            time.sleep(SAMPLE_SECONDS)
        wall = time.monotonic() - start
        records = [course_jobs.status(run_dir) for run_dir in run_dirs]
    finally:
        for run_dir in work.glob("control/run-*"):
            (run_dir / course_jobs.STOP_FILE).touch()
        runner.shutdown()
    return {"slots": runner.slots, "wall": wall, "cpu": account.summary(),
            "jobs": [{"state": record["state"],
                      "seconds": sum(row["seconds"] for row in record.get("history", [])),
                      "wait": record["started"] - record["submitted"]} for record in records]}


def load_phase(args, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    root = work / "runs"
    env = {"COURSE_RUNS_DIR": str(root)}
    account = CpuAccount()
    port = free_port()
    server_start = time.monotonic()
    server = start_app(port, env)
    url = f"http://127.0.0.1:{port}/mnist-project"
    sampler = MemorySampler(server.pid, account)
    sampler.start()
    result: dict = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                renice_browsers(args.browser_nice)  # its later processes inherit the niceness
                contexts = [browser.new_context(viewport={"width": 1400, "height": 1000})
                            for _ in range(args.sessions)]
                pages = [context.new_page() for context in contexts]
                renice_browsers(args.browser_nice)
                for page in pages:
                    page.goto(url, wait_until="domcontentloaded")
                for page in pages:
                    page.get_by_role("button", name="Train").wait_for(timeout=PAGE_SECONDS * 1000)
                    wait_for_script_to_finish(page)
                result["pages_ready"] = time.monotonic() - server_start
                result["pool_warm"] = wait_for_warm_pool(sampler) + result["pages_ready"]
                for page in pages:
                    set_slider(page, "Epochs", args.epochs - 1, str(args.epochs))
                    set_slider(page, "Training images", SUBSET_VALUES.index(args.subset),
                               str(args.subset))
                jobs_account = sampler.add_account()
                clicked = time.monotonic()
                for page in pages:
                    page.get_by_role("button", name="Train").click()
                result["click_spread"] = time.monotonic() - clicked
                shown_done: dict[int, float] = {}
                most_running = 0
                deadline = clicked + args.timeout
                while len(shown_done) < len(pages):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"only {len(shown_done)} of {len(pages)} sessions "
                                           f"showed 'finished' within {args.timeout} s")
                    most_running = max(most_running, run_states(root).count("running"))
                    for index, page in enumerate(pages):
                        if index in shown_done:
                            continue
                        if page.locator('[data-testid="stException"]').count():
                            raise RuntimeError(f"session {index + 1} shows an exception: "
                                               + page.locator('[data-testid="stException"]')
                                               .first.inner_text())
                        if page.get_by_text("finished after").count():
                            shown_done[index] = time.monotonic() - clicked
                    time.sleep(0.5)
                result["wall_all_done"] = max(shown_done.values())
                result["cpu_jobs"] = jobs_account.summary()
                result["shown_done"] = [shown_done[i] for i in range(len(pages))]
                result["most_running"] = most_running
                result["tokens"] = [page.url.split("ws=")[-1].split("&")[0] for page in pages]
            finally:
                browser.close()
    finally:
        sampler.halt.set()
        sampler.join(timeout=5)
        result["cpu"] = account.summary()
        result["shutdown_seconds"] = stop_server(server)

    jobs = []
    for token in result["tokens"]:
        for status_file in sorted(root.glob(f"{token}/runs/*/status.json")):
            record = json.loads(status_file.read_text())
            jobs.append({"token": token, "run": status_file.parent.name, "state": record["state"],
                         "seconds": sum(row["seconds"] for row in record.get("history", [])),
                         "wait": record["started"] - record["submitted"],
                         "pid": record.get("pid"),
                         "cpu_share": sampler.cpu_share(record.get("pid"), record["started"],
                                                        record["updated"])})
    result["jobs"] = jobs
    result["peak_server"] = sampler.peak_server
    result["peak_total"] = sampler.peak_total
    result["peak_children"] = [(pid, sampler.child_kind.get(pid, "?"), rss,
                                sampler.peak_pss.get(pid, 0))
                               for pid, rss in sorted(sampler.peak_child.items())]
    result["peak_pss_server"] = sampler.peak_pss.get(server.pid, 0)
    result["peak_pss_total"] = sampler.peak_pss_total
    result["samples"] = sampler.samples
    return result


# ----------------------------------------------------------------------------- the report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def describe_baseline(title: str, runs: list[dict]) -> float:
    median = statistics.median(run["seconds"] for run in runs)
    print(title)
    for index, run in enumerate(runs, 1):
        print(f"  run {index}: {run['seconds']:7.2f} s   [{describe_cpu(run['cpu'])}]")
    print(f"  median: {median:7.2f} s")
    return median


def report(args, baselines: list[dict], single_thread: list[dict] | None, load: dict,
           control: dict | None) -> bool:
    priority = ("below the server: it stands in for browsers on learners' own machines"
                if args.browser_nice > 0 else "equal to the server")
    print()
    print(f"Load benchmark: simple MLP, MNIST, {args.epochs} epoch(s) x {args.subset:,} images, "
          f"batch 64, lr 1e-3, CPU; {args.sessions} browser sessions on one server")
    print(f"Host: {psutil.cpu_count()} cores; COURSE_TRAINING_SLOTS="
          f"{os.environ.get('COURSE_TRAINING_SLOTS', '(unset)')}; Chromium niceness "
          f"{args.browser_nice} ({priority})")
    print()
    base = describe_baseline("Baseline: `python -m course train` alone, default threads "
                             "(the issue's baseline)", baselines)
    base_1 = None
    if single_thread:
        base_1 = describe_baseline("Reference: the same with --threads 1 (what a worker uses "
                                   "when 2 slots share 2 cores)", single_thread)
    print()
    print(f"{'session':>7}  {'run':<26} {'state':<6} {'train s':>8} {'ratio':>6} "
          f"{'ratio 1t':>8} {'wait s':>7} {'shown done s':>12} {'worker pid':>10} {'cpu':>5}")
    ratios, ratios_1 = [], []
    by_token = {token: index for index, token in enumerate(load["tokens"])}
    for job in sorted(load["jobs"], key=lambda job: by_token.get(job["token"], 99)):
        index = by_token.get(job["token"], -1)
        ratios.append(job["seconds"] / base)
        ratios_1.append(job["seconds"] / base_1 if base_1 else float("nan"))
        print(f"{index + 1:>7}  {job['run']:<26} {job['state']:<6} {job['seconds']:8.2f} "
              f"{ratios[-1]:6.2f} {ratios_1[-1]:8.2f} {job['wait']:7.2f} "
              f"{load['shown_done'][index]:12.1f} {job['pid'] or '-':>10} "
              f"{job['cpu_share']:5.0%}")
    print("  ratio = train s / default-threads median; ratio 1t = train s / --threads 1 median;"
          " wait = started - submitted;\n  cpu = the worker's CPU time from start to end of the "
          "run / that wall time (100% = one core)")
    print()
    if control:
        print(f"Control, the same {args.sessions} jobs on a JobRunner({control['slots']} slots) "
              "with no server and no browser:")
        for index, job in enumerate(control["jobs"], 1):
            print(f"  job {index}: {job['state']:<5} train {job['seconds']:6.2f} s  ratio "
                  f"{job['seconds'] / base:5.2f}  ratio 1t "
                  f"{job['seconds'] / base_1 if base_1 else float('nan'):5.2f}  wait {job['wait']:6.2f} s")
        print(f"  all done after {control['wall']:.1f} s   [{describe_cpu(control['cpu'])}]")
        print()
    print(f"Pages ready {load['pages_ready']:.1f} s after server start; worker pool warm at "
          f"{load['pool_warm']:.1f} s. The {args.sessions} Train clicks took "
          f"{load['click_spread']:.1f} s.")
    print(f"Wall time from the first click until all {args.sessions} sessions showed "
          f"'finished': {load['wall_all_done']:.1f} s")
    print(f"Most runs seen training at once: {load['most_running']}; worker processes: "
          f"{sum(1 for _, kind, *_ in load['peak_children'] if kind == 'worker')}")
    print(f"CPU during the load phase: {describe_cpu(load['cpu'])}")
    print("  this benchmark's share by process: " + ", ".join(
        f"{kind} {cores:.2f}" for kind, cores in sorted(load["cpu"]["own_by_kind"].items())))
    print(f"CPU from the first click to the last 'finished': {describe_cpu(load['cpu_jobs'])}")
    print("  this benchmark's share by process: " + ", ".join(
        f"{kind} {cores:.2f}" for kind, cores in sorted(load["cpu_jobs"]["own_by_kind"].items())))
    print("  (the browser's share is an artifact of this benchmark: learners' browsers run on "
          "their own machines)")
    print(f"Server exited {load['shutdown_seconds']:.1f} s after SIGTERM")
    print()
    print(f"Peak memory ({load['samples']} samples every {SAMPLE_SECONDS} s; PSS every "
          f"{SAMPLE_SECONDS * PSS_EVERY:g} s)      RSS        PSS")
    print(f"  server alone:                   {load['peak_server'] / MB:8.0f} MB "
          f"{load['peak_pss_server'] / MB:7.0f} MB")
    print(f"  server + its children:          {load['peak_total'] / MB:8.0f} MB "
          f"{load['peak_pss_total'] / MB:7.0f} MB  (peak of the per-sample sum)")
    for pid, kind, rss, pss in load["peak_children"]:
        print(f"    pid {pid:<8} {kind:<17}   {rss / MB:8.0f} MB {pss / MB:7.0f} MB")
    print("  RSS counts the pages of torch's shared libraries in every process; PSS splits them "
          "between\n  the processes that share them, closer to what a container's memory limit "
          "counts.")
    print()
    all_done = len(load["jobs"]) == args.sessions and all(
        job["state"] == "done" for job in load["jobs"])
    speed_ok = all_done and all(ratio <= SPEED_TARGET for ratio in ratios)
    print(f"Target speed, every job <= {SPEED_TARGET:.1f} x baseline (default threads): "
          f"{verdict(speed_ok)} (worst {max(ratios, default=float('nan')):.2f}; "
          f"{len(load['jobs'])} jobs, all done: {all_done})")
    if base_1:
        print(f"  stricter, against the --threads 1 baseline: "
              f"{verdict(all_done and all(ratio <= SPEED_TARGET for ratio in ratios_1))} "
              f"(worst {max(ratios_1, default=float('nan')):.2f})")
    print(f"Target memory < {MEMORY_TARGET_BYTES / 1e9:.1f} GB, server alone: "
          f"{verdict(load['peak_server'] < MEMORY_TARGET_BYTES)} ({load['peak_server'] / 1e9:.2f} GB)")
    tree_ok = load["peak_pss_total"] < MEMORY_TARGET_BYTES
    print(f"Target memory < {MEMORY_TARGET_BYTES / 1e9:.1f} GB, server + fork server + workers, PSS "
          f"(each shared page counted once, as a container's limit counts it): {verdict(tree_ok)} "
          f"({load['peak_pss_total'] / 1e9:.2f} GB; the RSS sum, which counts torch's shared "
          f"pages once per process, is {load['peak_total'] / 1e9:.2f} GB)")
    return speed_ok and load["peak_server"] < MEMORY_TARGET_BYTES and tree_ok


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5,
                        help="1..15 (the page's slider; default 5, the page's default run)")
    parser.add_argument("--subset", type=int, default=60_000, choices=SUBSET_VALUES,
                        help="training images (the page's choices; 60000 = all)")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--baseline-runs", type=int, default=3,
                        help="CLI runs alone per thread setting; the last after the load phase")
    parser.add_argument("--no-single-thread", action="store_true",
                        help="skip the reference CLI runs with --threads 1")
    parser.add_argument("--no-control", action="store_true",
                        help="skip the control phase (the jobs on a JobRunner, no server)")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds from the clicks until all sessions must show finished")
    parser.add_argument("--browser-nice", type=int, default=19,
                        help="niceness of the Chromium processes (default 19: learners' browsers "
                             "run on their own machines; 0 = compete with the server as equals)")
    parser.add_argument("--json-out", type=Path, help="also write the measurements here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_arguments(argv)
    if not 1 <= args.epochs <= 15:
        raise SystemExit("--epochs must be between 1 and 15 (the page's slider)")
    if not os.environ.get("COURSE_DATA_DIR"):
        print("note: COURSE_DATA_DIR is not set; the MNIST root falls back to the cache",
              file=sys.stderr)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is required (Debian's chromium)")
    variants = [None] + ([] if args.no_single_thread else [1])  # default threads, --threads 1
    baselines: dict = {threads: [] for threads in variants}

    def measure_baselines(count: int, note: str) -> None:
        for _ in range(count):
            for threads in variants:  # interleaved, so both see the same host
                print(f"CLI alone, {'--threads 1' if threads else 'default threads'}{note} ...",
                      flush=True)
                baselines[threads].append(cli_run(args.epochs, args.subset, work, threads))

    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        work = Path(folder)
        before = max(1, args.baseline_runs - 1)
        measure_baselines(before, "")
        control = None
        if not args.no_control:
            print(f"control: {args.sessions} jobs on a JobRunner, no server, no browser ...",
                  flush=True)
            control = control_phase(args, work)
        print(f"load phase: server + {args.sessions} browser sessions ...", flush=True)
        load = load_phase(args, work)
        measure_baselines(args.baseline_runs - before, " (after the load phase)")
        ok = report(args, baselines[None], baselines.get(1), load, control)
        if args.json_out:
            args.json_out.write_text(json.dumps(
                {"args": {key: str(value) for key, value in vars(args).items()},
                 "baseline_default_threads": baselines[None],
                 "baseline_one_thread": baselines.get(1), "control": control, "load": load},
                indent=1))
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
