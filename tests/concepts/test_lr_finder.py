"""The honest lr finder on real Fashion-MNIST batches: a whole curve, the model untouched,
a suggestion in the sensible range, and three confirm rates around it."""

from __future__ import annotations

import math

import pytest
import torch

from course.concepts import lr_finder
from course.engine import data, models
from course.engine.train import fast_loader, make_optimizer


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """One torch thread (see conftest)."""


@pytest.fixture(scope="module")
def sweep_batches(data_dir):
    split = data.split_tensors("fashion-mnist", True)
    loader = fast_loader(split, 64, shuffle=True, generator=torch.Generator().manual_seed(0),
                         limit=6_400)
    return list(loader)


def adam(parameters, lr):
    return make_optimizer("adam", parameters, lr)


def test_the_sweep_leaves_the_model_exactly_as_it_was(sweep_batches):
    torch.manual_seed(0)
    model = models.improved_mlp((64, 32))
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    lr_finder.lr_sweep(model, sweep_batches, adam, steps=60)
    after = model.state_dict()
    assert before.keys() == after.keys()
    for name in before:  # weights and BatchNorm's running statistics alike
        assert torch.equal(before[name], after[name]), name
    assert model.training  # its mode is untouched too


def test_the_curve_rises_through_rates_and_stops_when_the_loss_explodes(sweep_batches):
    torch.manual_seed(0)
    sweep = lr_finder.lr_sweep(models.simple_mlp(), sweep_batches, adam, start=1e-6, end=10.0,
                               steps=100)
    rates = sweep["lr"]
    assert rates == sorted(rates) and rates[0] == pytest.approx(1e-6)
    assert len(rates) < 100  # 10 is far past divergence for Adam: the sweep ended early
    assert max(sweep["smoothed"][-3:]) > 2 * min(sweep["smoothed"])
    assert min(sweep["loss"]) < 1.2  # somewhere in the middle it learned


def test_the_suggestion_is_where_the_loss_falls_fastest_and_is_a_sensible_adam_rate(sweep_batches):
    torch.manual_seed(0)
    sweep = lr_finder.lr_sweep(models.improved_mlp(), sweep_batches, adam, steps=100)
    suggested = lr_finder.suggestion(sweep)
    assert 1e-4 <= suggested <= 1e-1
    index = sweep["lr"].index(suggested)
    assert sweep["smoothed"][index + 2] < sweep["smoothed"][index - 2]  # still falling there


def test_a_sweep_too_short_to_read_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="too early"):
        lr_finder.suggestion({"lr": [1e-3] * 5, "smoothed": [1.0] * 5})


def test_confirm_rates_are_a_third_the_suggestion_and_three_times_it_within_limits():
    assert lr_finder.confirm_rates(3e-3) == [1e-3, 3e-3, 9e-3]
    assert lr_finder.confirm_rates(0.5) == [0.17, 0.5, 1.0]
    assert lr_finder.confirm_rates(1e-5)[0] == 1e-5


def test_the_verdict_says_whether_the_suggestion_won_its_own_check():
    result = lr_finder.verdict({1e-3: 0.85, 3e-3: 0.86, 9e-3: 0.84}, 3e-3)
    assert result["suggestion_won"] and result["best_lr"] == 3e-3 and result["margin"] == 0
    lost = lr_finder.verdict({1e-3: 0.87, 3e-3: 0.86, 9e-3: 0.84}, 3e-3)
    assert not lost["suggestion_won"] and math.isclose(lost["margin"], 0.01)


def test_learning_rates_are_evenly_spaced_on_a_log_scale():
    rates = lr_finder.learning_rates(1e-4, 1.0, 5)
    assert [round(math.log10(r), 6) for r in rates] == [-4, -3, -2, -1, 0]
