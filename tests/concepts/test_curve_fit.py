"""Same heartbeat, new instruments: the 1.2 network fits sin(x) through heartbeat.train."""

import pytest
import torch

from course.concepts import curve_fit, heartbeat


def test_a_net_fits_the_curve_a_line_cannot():
    model, losses, grid_mse = curve_fit.fit_curve(hidden=16, steps=400)
    assert losses[-1] < losses[0] / 10
    assert grid_mse < 0.01
    assert not model.training  # evaluated in eval mode


def test_one_hidden_neuron_is_not_enough():
    _, _, narrow = curve_fit.fit_curve(hidden=1, steps=400)
    _, _, wide = curve_fit.fit_curve(hidden=16, steps=400)
    assert narrow > 3 * wide


def test_heartbeat_train_is_the_four_lines_and_records_each_loss():
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.linspace(-1, 1, 8).view(-1, 1)
    seen = []
    losses = heartbeat.train(model, optimizer, x, 2 * x + 1, 30, after_step=seen.append)
    assert losses == seen and len(losses) == 30 and losses[-1] < losses[0]


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="unknown optimizer"):
        heartbeat.make_optimizer("rmsprop", [torch.zeros(1, requires_grad=True)], 0.1)
