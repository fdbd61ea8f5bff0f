import pytest
import torch

from course.concepts import step_profile


@pytest.fixture(scope="module", params=[False, True], ids=["copy each batch", "dataset on device"])
def profiled(request):
    return step_profile.profile_step(width=64, batch=32, whole_dataset_on_device=request.param)


def again(profiled, times: int = 4):
    """The same profile measured again: on a shared host a preemption can land between two
    ranges of one sub-millisecond step, so a timing claim holds when it holds for one of five."""
    return [profiled] + [step_profile.profile_step(
        width=64, batch=32, whole_dataset_on_device=profiled.whole_dataset_on_device)
        for _ in range(times)]


def test_the_phases_sum_to_the_step(profiled):
    assert set(profiled.phase_ms) == set(step_profile.PHASES)
    assert all(ms >= 0 for ms in profiled.phase_ms.values())
    # the phases are the step cut into pieces: only the gaps between ranges are missing
    assert any(one.phases_total_ms == pytest.approx(one.step_ms, rel=0.05, abs=0.2)
               for one in again(profiled))


def test_the_profiled_step_is_the_wall_clock_step(profiled):
    assert any(one.step_ms == pytest.approx(one.wall_ms, rel=0.2, abs=1.0) for one in again(profiled))


def test_the_item_call_is_counted_as_a_sync(profiled):
    assert profiled.syncs >= 1
    assert profiled.operator_calls > 10


def test_no_gpu_kernels_on_the_cpu(profiled):
    assert profiled.device == "cpu" and profiled.gpu_kernels == 0


def test_rows_give_each_phase_a_share():
    result = step_profile.profile_step(width=32, batch=16)
    rows = step_profile.as_rows(result)
    assert [row["phase"] for row in rows] == list(step_profile.PHASES)
    assert all(row["share of the step"].endswith("%") for row in rows)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_the_dataset_on_the_device_removes_the_copies():
    copying = step_profile.profile_step(device="cuda", whole_dataset_on_device=False)
    resident = step_profile.profile_step(device="cuda", whole_dataset_on_device=True)
    assert copying.gpu_kernels > 0
    assert resident.phase_ms["batch to device"] < copying.phase_ms["batch to device"]
