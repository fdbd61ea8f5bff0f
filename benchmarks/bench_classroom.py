"""Eight learners on two replicas behind HAProxy: each job's training time against the job alone.

    python benchmarks/bench_classroom.py [--learners 8] [--epochs 5] [--subset 60000]
                                         [--browser-nice 19] [--no-budget] [--json-out FILE]

The classroom of deploy/: two `streamlit run app.py` replicas on one COURSE_RUNS_DIR with
COURSE_REPLICAS_PER_HOST=2 (each derives its slots and torch threads from its share of the
cores), Debian's HAProxy with deploy/haproxy.cfg in front. `--learners` headless-Chromium
contexts come in through the proxy (the affinity cookie spreads them over the replicas in
turn), each opens the MNIST page with the run's settings in its link (`?epochs=&train_subset=`,
seed = the learner's number) and presses Train; their pages keep polling until every run shows
"finished". The browsers are niced as in bench_load.py (they stand in for learners' own
machines). `--no-budget` leaves COURSE_REPLICAS_PER_HOST unset, as a control: each replica then
sizes its slots for the whole host.

Each job's training time is the sum of its epochs' "seconds" in status.json (waiting for a
slot and evaluation excluded, as the CLI's train_seconds); the baseline is the same job alone
from the command line (`python -m course train --json`, default threads), the median of
`--baseline-runs` runs, the last one after the load phase. Target: every job <= 2x the baseline.
Memory: the peak PSS of each replica's process tree (server, fork server, workers), sampled
as in bench_load.py. The host may be shared: the CPU used by processes outside this benchmark
is printed. Needs COURSE_DATA_DIR, /usr/bin/chromium and haproxy. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.bench_load import (  # noqa: E402
    CHROMIUM,
    MB,
    CpuAccount,
    MemorySampler,
    cli_run,
    describe_cpu,
    renice_browsers,
    run_states,
)
from tests.conftest import CHROMIUM_ARGS, free_port, start_app, stop_server  # noqa: E402
from tests.test_classroom import COOKIE, start_haproxy  # noqa: E402

SPEED_TARGET = 2.0
PAGE_SECONDS = 600
REPLICAS = 2


def load_phase(args, work: Path, haproxy: str) -> dict:
    from playwright.sync_api import sync_playwright

    root = work / "workspaces"
    env = {"COURSE_RUNS_DIR": str(root)}
    if not args.no_budget:
        env["COURSE_REPLICAS_PER_HOST"] = str(REPLICAS)
    account = CpuAccount()
    ports = [free_port() for _ in range(REPLICAS)]
    started = time.monotonic()
    servers = {f"app{i}": start_app(port, env, log=work / f"app{i}.log")
               for i, port in enumerate(ports, 1)}
    samplers = {name: MemorySampler(server.pid, account) for name, server in servers.items()}
    for sampler in samplers.values():
        sampler.start()
    proxy_port = free_port()
    proxy = start_haproxy(haproxy, proxy_port, ports, work / "haproxy.log")
    url = f"http://127.0.0.1:{proxy_port}"
    result: dict = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                renice_browsers(args.browser_nice)
                contexts = [browser.new_context(viewport={"width": 1400, "height": 1000})
                            for _ in range(args.learners)]
                for context in contexts:  # the first answer brings the affinity cookie
                    context.request.get(f"{url}/_stcore/health")
                replica_of = [next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
                              for context in contexts]
                pages = [context.new_page() for context in contexts]
                renice_browsers(args.browser_nice)
                subset = "" if args.subset == 60_000 else f"&train_subset={args.subset}"
                for seed, page in enumerate(pages):
                    page.goto(f"{url}/mnist-project?epochs={args.epochs}{subset}&seed={seed}",
                              wait_until="domcontentloaded", timeout=PAGE_SECONDS * 1000)
                for page in pages:
                    page.get_by_role("button", name="Train").wait_for(timeout=PAGE_SECONDS * 1000)
                result["pages_ready"] = time.monotonic() - started
                jobs_account = samplers["app1"].add_account()  # samples all descendants
                jobs_account.classify = lambda process: next(
                    (kind for sampler in samplers.values()
                     if (kind := sampler.classify_any(process)) != "other"), "other")
                clicked = time.monotonic()
                for page in pages:
                    page.get_by_role("button", name="Train").click()
                shown_done: dict[int, float] = {}
                most_running = 0
                while len(shown_done) < len(pages):
                    if time.monotonic() - clicked > args.timeout:
                        raise RuntimeError(f"only {len(shown_done)} of {len(pages)} learners "
                                           f"showed 'finished' within {args.timeout} s")
                    most_running = max(most_running, run_states(root).count("running"))
                    for index, page in enumerate(pages):
                        if index in shown_done:
                            continue
                        if page.locator('[data-testid="stException"]').count():
                            raise RuntimeError(f"learner {index + 1} shows an exception")
                        if page.get_by_text("finished after").count():
                            shown_done[index] = time.monotonic() - clicked
                    time.sleep(0.5)
                result["cpu_jobs"] = jobs_account.summary()
                result["shown_done"] = [shown_done[i] for i in range(len(pages))]
                result["most_running"] = most_running
                result["tokens"] = [page.url.split("ws=")[-1].split("&")[0] for page in pages]
                result["replica_of"] = replica_of
            finally:
                browser.close()
    finally:
        for sampler in samplers.values():
            sampler.halt.set()
            sampler.join(timeout=5)
        proxy.terminate()
        proxy.wait(timeout=10)
        for server in servers.values():
            stop_server(server)
    jobs = []
    for index, token in enumerate(result["tokens"]):
        for status_file in sorted(root.glob(f"{token}/runs/*/status.json")):
            record = json.loads(status_file.read_text())
            jobs.append({"learner": index + 1, "replica": result["replica_of"][index],
                         "state": record["state"],
                         "seconds": sum(row["seconds"] for row in record.get("history", [])),
                         "wait": record["started"] - record["submitted"]})
    result["jobs"] = jobs
    result["peak_pss"] = {name: sampler.peak_pss_total for name, sampler in samplers.items()}
    result["peak_rss_server"] = {name: sampler.peak_server for name, sampler in samplers.items()}
    result["slots"] = slots_line(args)
    return result


def slots_line(args) -> str:
    """What each replica derived from COURSE_REPLICAS_PER_HOST (asked in a fresh interpreter)."""
    import subprocess

    env = {**os.environ, "COURSE_REPLICAS_PER_HOST": "" if args.no_budget else str(REPLICAS)}

    code = ("from course.runs import jobs, server; "
            "print(server.usable_cores(), server.core_budget(), jobs.default_slots(), "
            "server.chosen_threads())")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, env=env, check=True).stdout.split()
    cores, budget, slots, threads = out
    setting = ("COURSE_REPLICAS_PER_HOST unset (control)" if args.no_budget
               else f"COURSE_REPLICAS_PER_HOST={REPLICAS}")
    return (f"{cores} usable cores, {setting}: each replica a budget of {budget} core(s), "
            f"{slots} slot(s) x {threads} torch thread(s)")


def report(args, baselines: list[dict], load: dict) -> bool:
    base = statistics.median(run["seconds"] for run in baselines)
    print()
    print(f"Classroom benchmark: {args.learners} learners, {REPLICAS} replicas behind HAProxy; "
          f"simple MLP, MNIST, {args.epochs} epoch(s) x {args.subset:,} images, CPU")
    print(f"Host: {psutil.cpu_count()} cores; {load['slots']}; Chromium niceness "
          f"{args.browser_nice}")
    print("Baseline: `python -m course train` alone, default threads")
    for index, run in enumerate(baselines, 1):
        print(f"  run {index}: {run['seconds']:7.2f} s   [{describe_cpu(run['cpu'])}]")
    print(f"  median: {base:7.2f} s")
    print()
    print(f"{'learner':>7} {'replica':>7} {'state':<6} {'train s':>8} {'ratio':>6} "
          f"{'wait s':>7} {'shown done s':>12}")
    ratios = []
    for job in load["jobs"]:
        ratios.append(job["seconds"] / base)
        print(f"{job['learner']:>7} {job['replica']:>7} {job['state']:<6} {job['seconds']:8.2f} "
              f"{ratios[-1]:6.2f} {job['wait']:7.2f} {load['shown_done'][job['learner'] - 1]:12.1f}")
    print("  ratio = train s / baseline median; wait = queued for a slot (started - submitted)")
    print()
    print(f"Pages ready {load['pages_ready']:.1f} s after the replicas started; most runs "
          f"training at once: {load['most_running']}; all finished "
          f"{max(load['shown_done']):.1f} s after the clicks")
    print(f"CPU from the clicks to the last 'finished': {describe_cpu(load['cpu_jobs'])}")
    print("  this benchmark's share by process: " + ", ".join(
        f"{kind} {cores:.2f}" for kind, cores in sorted(load["cpu_jobs"]["own_by_kind"].items())))
    for name in sorted(load["peak_pss"]):
        print(f"Peak PSS of {name}'s process tree (server + fork server + workers): "
              f"{load['peak_pss'][name] / MB:.0f} MB "
              f"(server RSS {load['peak_rss_server'][name] / MB:.0f} MB)")
    all_done = len(load["jobs"]) == args.learners and all(j["state"] == "done" for j in load["jobs"])
    ok = all_done and all(ratio <= SPEED_TARGET for ratio in ratios)
    print(f"Target, every job <= {SPEED_TARGET:.1f}x the job alone: {'PASS' if ok else 'FAIL'} "
          f"(worst {max(ratios, default=float('nan')):.2f}; {len(load['jobs'])} jobs, "
          f"all done: {all_done})")
    return ok


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5, help="1..15 (the page's slider)")
    parser.add_argument("--subset", type=int, default=60_000, choices=[1_000, 5_000, 20_000, 60_000])
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--browser-nice", type=int, default=19)
    parser.add_argument("--no-budget", action="store_true",
                        help="control: leave COURSE_REPLICAS_PER_HOST unset (each replica sizes "
                             "its slots for the whole host)")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target fails")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_arguments(argv)
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise SystemExit("haproxy is required (apt-get install -y haproxy)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is required (Debian's chromium)")
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as folder:
        work = Path(folder)
        baselines = []
        for _ in range(max(1, args.baseline_runs - 1)):
            print("CLI alone ...", flush=True)
            baselines.append(cli_run(args.epochs, args.subset, work))
        print(f"load phase: {REPLICAS} replicas + HAProxy + {args.learners} learners ...", flush=True)
        load = load_phase(args, work, haproxy)
        if args.baseline_runs > 1:
            print("CLI alone (after the load phase) ...", flush=True)
            baselines.append(cli_run(args.epochs, args.subset, work))
        ok = report(args, baselines, load)
        if args.json_out:
            args.json_out.write_text(json.dumps({"baselines": baselines, "load": load}, indent=1))
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
