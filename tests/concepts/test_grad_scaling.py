import warnings

import pytest
import torch

from course.concepts import grad_scaling


@pytest.fixture(scope="module")
def gradients():
    return grad_scaling.real_gradients()


def test_unscaled_fp16_flushes_real_small_gradients_to_zero(gradients):
    plain = grad_scaling.fp16_damage(gradients, scale=1.0)
    scaled = grad_scaling.fp16_damage(gradients, scale=2.0 ** 16)
    assert plain["became zero"] > 0
    assert scaled["became zero"] == 0 and scaled["became inf"] == 0
    assert scaled["median relative error"] < plain["median relative error"]
    assert plain["below float16's normal range"] > scaled["below float16's normal range"]


def test_a_too_large_scale_overflows(gradients):
    biggest = gradients.abs().max().item()
    too_big = 2 * grad_scaling.FP16_LARGEST / biggest
    assert grad_scaling.fp16_damage(gradients, scale=too_big)["became inf"] >= 1


def test_through_fp16_matches_a_plain_half_cast_at_scale_one(gradients):
    assert torch.equal(grad_scaling.through_fp16(gradients), gradients.half().float())


def test_histogram_counts_every_value():
    values = torch.tensor([0.0, 1e-9, 3e-3, 0.5, float("inf")])
    hist = grad_scaling.log2_histogram(values)
    assert sum(hist["counts"]) + hist["zeros"] + hist["infs"] == values.numel()
    assert hist["zeros"] == 1 and hist["infs"] == 1


def test_scaler_skips_overflowing_steps_and_halves_the_scale():
    history = grad_scaling.scale_history(steps=40, init_scale=2.0 ** 24, growth_interval=8)
    skipped = [row for row in history if row["skipped"]]
    assert skipped and history[0]["skipped"], "2**24 overflows float16 on the first step"
    for row in skipped:
        following = history[row["step"] + 1] if row["step"] + 1 < len(history) else None
        if following:
            assert following["scale"] == row["scale"] / 2
    assert any(not row["skipped"] for row in history)
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in history)


def test_scaler_grows_after_a_run_of_good_steps():
    history = grad_scaling.scale_history(steps=20, init_scale=2.0 ** 4, growth_interval=5)
    scales = [row["scale"] for row in history]
    assert scales[-1] > scales[0]
    assert not any(row["skipped"] for row in history)


def test_checkpoint_carries_the_scalers_state():
    model = grad_scaling.deep_sigmoid_net(width=8, depth=2, inputs=4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    scaler.scale(model(torch.randn(2, 4)).sum()).backward()
    scaler.step(optimizer)
    scaler.update(new_scale=512.0)
    saved = grad_scaling.saved_bytes(grad_scaling.checkpoint(model, optimizer, scaler, epoch=3))
    resumed, state = grad_scaling.resume_scaler(saved)
    assert resumed.get_scale() == 512.0
    assert state["epoch"] == 3 and set(state) == {"epoch", "model", "optimizer", "scaler"}


def test_the_old_spelling_is_a_deprecated_alias():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = torch.cuda.amp.GradScaler()
    assert isinstance(old, torch.amp.GradScaler)
    assert any("deprecated" in str(w.message) for w in caught)
