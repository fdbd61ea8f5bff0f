import math
import time

import pytest
import torch

from course.concepts import step_timing
from course.concepts.step_timing import StepTiming


def test_cpu_plan_covers_widths_batches_and_both_cpu_precisions():
    plan = step_timing.sweep_plan("cpu")
    assert len(plan) == (len(step_timing.CPU_WIDTHS) * len(step_timing.CPU_BATCHES)
                         * len(step_timing.CPU_PRECISIONS))
    assert {p["precision"] for p in plan} == {"fp32", "bf16"}
    assert all(p["data_on_device"] for p in plan)


@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for CUDA where there is none")
def test_a_cuda_plan_without_a_gpu_is_a_clear_error():
    with pytest.raises(step_timing.SweepError, match="no CUDA GPU"):
        step_timing.sweep_plan("cuda")


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(step_timing.SweepError, match="unknown precision"):
        step_timing.make_step(32, 8, precision="int4")


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16+scaler"])
def test_each_precision_trains_on_the_cpu_with_finite_losses(precision):
    step = step_timing.make_step(64, 32, "cpu", precision)
    losses = [step().item() for _ in range(30)]
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0], "the same batch 30 times: the loss must fall"


def test_bf16_autocast_computes_the_forward_in_bfloat16():
    model = step_timing.mlp(16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(4, step_timing.INPUTS))
    assert out.dtype == torch.bfloat16
    assert model[0].weight.dtype == torch.float32  # the weights stay fp32


def test_the_cpu_sweep_is_short_and_positive():
    seen = []
    started = time.process_time()
    timings = step_timing.run_sweep(step_timing.sweep_plan("cpu"), lambda done, total: seen.append(done))
    assert time.process_time() - started < 15  # a few seconds on an idle 2-core machine
    assert seen == list(range(1, len(timings) + 1))
    assert all(t.median_seconds > 0 and math.isfinite(t.loss) for t in timings)
    big = max(timings, key=lambda t: t.width * t.batch)
    small = min(timings, key=lambda t: t.width * t.batch)
    assert big.median_seconds > small.median_seconds


def timing(device, width, batch, ms, precision="fp32", on_device=True):
    return StepTiming(device, precision, width, batch, on_device, ms / 1e3, 1.0)


def test_crossover_is_the_smallest_step_where_the_gpu_beats_the_best_cpu_time():
    timings = [timing("cpu", 32, 16, 1.0), timing("cpu", 32, 16, 0.8, "bf16"),
               timing("cpu", 512, 64, 20.0),
               timing("cuda", 32, 16, 0.9), timing("cuda", 512, 64, 2.0),
               timing("cuda", 32, 16, 3.0, on_device=False), timing("cuda", 512, 64, 30.0, on_device=False)]
    rows = {row["setting"]: row for row in step_timing.crossover(timings)}
    assert rows["cuda fp32, data on device"]["GPU first wins at"] == "width 512, batch 64"
    assert rows["cuda fp32, data on device"]["speed-up there"] == 10.0
    assert rows["cuda fp32, copy each step"]["GPU first wins at"] is None


def test_bf16_ratio_compares_like_with_like():
    timings = [timing("cpu", 32, 16, 1.0), timing("cpu", 32, 16, 2.5, "bf16")]
    assert step_timing.bf16_vs_fp32(timings) == [{"width": 32, "batch": 16, "bf16 / fp32": 2.5}]


def test_records_round_trip():
    timings = [timing("cpu", 32, 16, 1.0)]
    assert step_timing.from_records(step_timing.to_records(timings)) == timings


def test_step_flops_count_the_three_matmuls_forward_and_backward():
    model = step_timing.mlp(32)
    weights = sum(layer.weight.numel() for layer in model if hasattr(layer, "weight"))
    assert step_timing.step_flops(32, 16) == 6 * 16 * weights


def test_gpu_figures_script_records_this_machine_and_the_page_can_read_it(tmp_path):
    from benchmarks import gpu_figures

    out = tmp_path / "gpu_figures.json"
    assert gpu_figures.main(["--out", str(out)]) == 0
    saved = step_timing.load_reference(out)
    assert saved["cuda"] == torch.cuda.is_available()
    devices = {t.device for t in saved["timings"]}
    assert devices == ({"cpu", "cuda"} if torch.cuda.is_available() else {"cpu"})
    assert bool(saved["crossover"]) == torch.cuda.is_available()
    assert set(saved["profile"]) == {"copy each batch", "dataset on device"}
    assert step_timing.load_reference(tmp_path / "absent.json") is None
