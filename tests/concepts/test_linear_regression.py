"""The Foundations regression: by hand and with torch.optim reach y = 2x + 1, and the bugs go wrong."""

import pytest
import torch

from course.concepts import linear_regression as lr


@pytest.fixture(scope="module")
def data():
    return lr.regression_data()


def test_data_is_the_foundations_line(data):
    x, y = data
    assert x.shape == y.shape == (50, 1)
    assert x.min() >= -1 and x.max() <= 1
    slope, intercept = torch.linalg.lstsq(torch.cat([x, torch.ones_like(x)], 1), y).solution.view(-1)
    assert slope.item() == pytest.approx(2, abs=0.25) and intercept.item() == pytest.approx(1, abs=0.15)


def test_hand_written_loop_reaches_slope_2_intercept_1(data):
    w, b, loss = lr.fit_by_hand(*data, lr=0.1, steps=200)[-1]
    assert w == pytest.approx(2, abs=0.2) and b == pytest.approx(1, abs=0.1)
    assert loss < 0.15


def test_optim_sgd_repeats_the_hand_written_loop_step_for_step(data):
    by_hand = lr.fit_by_hand(*data, lr=0.1, steps=50)
    with_sgd = lr.fit_with_optimizer(*data, "sgd", lr=0.1, steps=50)
    for (w1, b1, l1), (w2, b2, l2) in zip(by_hand, with_sgd):
        assert w1 == pytest.approx(w2, abs=1e-5) and b1 == pytest.approx(b2, abs=1e-5)
        assert l1 == pytest.approx(l2, rel=1e-5)


@pytest.mark.parametrize("name,rate", [("adam", 0.1), ("momentum", 0.1)])
def test_other_optimizers_reach_the_same_line(data, name, rate):
    w, b, _ = lr.fit_with_optimizer(*data, name, lr=rate, steps=200)[-1]
    assert w == pytest.approx(2, abs=0.25) and b == pytest.approx(1, abs=0.15)


def test_forgetting_zero_grad_accumulates_and_fits_worse(data):
    correct, _ = lr.fit_with_bug(*data, "none")
    buggy, warning = lr.fit_with_bug(*data, "no_zero_grad")
    assert warning == ""
    assert buggy[-1][2] > 5 * correct[-1][2]
    assert abs(buggy[-1][0] - 2) > abs(correct[-1][0] - 2)


def test_step_before_backward_never_moves_because_zero_grad_sets_none(data):
    frames, _ = lr.fit_with_bug(*data, "step_before_backward")
    assert {(w, b) for w, b, _ in frames} == {(0.0, 0.0)}


def test_target_shape_bug_warns_and_fits_the_flat_mean(data):
    x, y = data
    frames, warning = lr.fit_with_bug(x, y, "target_shape", steps=300)
    assert "target size" in warning and "broadcasting" in warning
    w, b, _ = frames[-1]
    assert abs(w) < 0.05 and b == pytest.approx(y.mean().item(), abs=0.05)


def test_unknown_bug_is_refused(data):
    with pytest.raises(ValueError, match="unknown bug"):
        lr.fit_with_bug(*data, "typo")


def test_loss_surface_matches_mse_and_is_lowest_near_the_true_line(data):
    x, y = data
    ws, bs = [0.0, 2.0, 3.0], [0.0, 1.0]
    surface = lr.loss_surface(x, y, ws, bs)
    assert surface.shape == (3, 2)
    assert surface[1, 1].item() == pytest.approx(((2 * x + 1 - y) ** 2).mean().item(), rel=1e-6)
    assert surface.argmin().item() == 1 * 2 + 1


def test_sgd_diverges_just_above_the_threshold_and_not_below(data):
    limit = lr.divergence_threshold(data[0])
    below = lr.fit_with_optimizer(*data, "sgd", lr=0.95 * limit, steps=100)
    above = lr.fit_with_optimizer(*data, "sgd", lr=1.05 * limit, steps=100)
    assert below[-1][2] < 0.2
    assert above[-1][2] > above[0][2] * 10
