"""The gpu-training page's sweep on whatever machine runs it, written as a small JSON the page
shows as "measured on ...".

    python benchmarks/gpu_figures.py                 # writes course/reference/gpu_figures.json
    python benchmarks/gpu_figures.py --out FILE      # somewhere else (the tests do this)

On a CUDA machine: the CPU sweep, then the GPU sweep (fp32, bf16 autocast, fp16 autocast +
GradScaler; data on the device and copied each step), the crossover, and one profiled step each
way. On a CPU-only machine it records the CPU only (no GPU rows, no crossover). Under 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from course.concepts import step_profile, step_timing  # noqa: E402

DEFAULT_OUT = ROOT / "course" / "reference" / "gpu_figures.json"


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores (no GPU)"


def summary(timings: list[step_timing.StepTiming]) -> list[dict]:
    """Per step size: the CPU's fp32 time beside each GPU setting's, in milliseconds."""
    rows: dict[tuple[int, int], dict] = {}
    for t in timings:
        row = rows.setdefault((t.width, t.batch), {"width": t.width, "batch": t.batch})
        row[f"{t.label} (ms)"] = round(t.median_seconds * 1e3, 4)
    return list(rows.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    plan = step_timing.sweep_plan("cpu")
    if torch.cuda.is_available():
        plan += step_timing.sweep_plan("cuda")
    timings = step_timing.run_sweep(
        plan, lambda done, total: print(f"\r{done}/{total} settings timed", end="", flush=True))
    print()
    cuda = torch.cuda.is_available()
    profiles = {}
    for resident in (False, True):
        result = step_profile.profile_step(device="cuda" if cuda else "cpu",
                                           whole_dataset_on_device=resident)
        profiles["dataset on device" if resident else "copy each batch"] = {
            "phases_ms": result.phase_ms, "step_ms": result.step_ms, "gpu_kernels": result.gpu_kernels,
            "copies": result.copies, "syncs": result.syncs}
    figures = {
        "device": device_name(), "cuda": cuda,
        "measured": datetime.now(UTC).strftime("%Y-%m-%d"),
        "torch": torch.__version__, "cpu_threads": torch.get_num_threads(),
        "seconds": round(time.perf_counter() - started, 1),
        "crossover": step_timing.crossover(timings) if cuda else [],
        "summary": summary(timings), "profile": profiles,
        "timings": step_timing.to_records(timings),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"{figures['device']}: {len(timings)} settings in {figures['seconds']} s -> {args.out}")
    for row in figures["crossover"]:
        print(f"  {row['setting']}: GPU first wins at {row['GPU first wins at']} "
              f"({row['speed-up there']}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
