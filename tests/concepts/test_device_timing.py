import time

import pytest
import torch

from course.concepts import device_timing

GPU = torch.cuda.is_available()


def test_available_devices_say_what_torch_says():
    rows = {row["device"]: row for row in device_timing.available_devices()}
    assert rows["cpu"]["available"]
    assert rows["cuda"]["available"] == torch.cuda.is_available()
    assert rows["mps"]["available"] == torch.backends.mps.is_available()
    assert device_timing.best_device() == ("cuda" if GPU else "cpu")


def test_move_to_the_same_device_is_the_same_tensor():
    x = torch.ones(3)
    assert device_timing.move(x, "cpu") is x
    assert device_timing.move(x, "meta").device.type == "meta"


def test_cpu_sweep_is_well_under_a_second_and_positive():
    # CPU time this process spends, so other work on a shared machine doesn't count against it
    started = time.process_time()
    timings = device_timing.sweep("cpu")
    elapsed = time.process_time() - started
    assert elapsed < 1.0, elapsed
    assert [t.size for t in timings] == list(device_timing.SIZES)
    assert all(t.median_seconds > 0 and t.transfer_seconds is None for t in timings)


def test_bigger_matmuls_take_longer():
    small, big = device_timing.time_matmul(16), device_timing.time_matmul(384)
    assert big.median_seconds > 20 * small.median_seconds  # 13,824x the work


def test_median_block_really_times_the_statement():
    timer = device_timing.Timer("time.sleep(0.001)", globals={"time": time})
    assert 0.0009 < device_timing._median_block(timer) < 0.01


def test_gflops_from_the_timing():
    timing = device_timing.Timing("cpu", 100, 0.001, None)
    assert timing.gflops == pytest.approx(2.0)


def test_gpu_wins_from_counts_the_transfer():
    cpu = [device_timing.Timing("cpu", n, s, None) for n, s in ((16, 1e-6), (1024, 1e-2))]
    gpu = [device_timing.Timing("cuda", 16, 1e-5, 1e-5), device_timing.Timing("cuda", 1024, 1e-4, 5e-2)]
    assert device_timing.gpu_wins_from(cpu, gpu, with_transfer=False) == 1024
    assert device_timing.gpu_wins_from(cpu, gpu) is None  # the copy costs more than it saves


def test_rows_for_the_table():
    rows = device_timing.as_rows([device_timing.Timing("cpu", 64, 2e-5, None)])
    assert rows == [{"device": "cpu", "n": 64, "matmul (µs)": 20.0, "GFLOP/s": 26.21,
                     "transfer (µs)": None}]


@pytest.mark.skipif(not GPU, reason="needs a CUDA GPU")
def test_gpu_sweep_has_transfer_costs():
    timings = device_timing.sweep("cuda", (64, 1024))
    assert all(t.transfer_seconds > 0 for t in timings)


def test_mixed_expressions_on_the_cpu_all_stay_there():
    assert set(device_timing.mixed_expression_devices("cpu").values()) == {"cpu"}


@pytest.mark.skipif(not GPU, reason="needs a CUDA GPU")
def test_mixed_expressions_on_a_gpu():
    results = list(device_timing.mixed_expression_devices("cuda").values())
    assert results[0].startswith("cuda") and results[1].startswith("cuda")
    assert results[2].startswith("RuntimeError") and "same device" in results[2]
