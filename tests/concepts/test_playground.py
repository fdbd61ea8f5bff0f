"""The 2-D playground: datasets, Step, Rewind, live changes, and the exported script."""

import subprocess
import sys

import pytest
import torch

from course.concepts import playground as pg


@pytest.mark.parametrize("name", pg.DATASETS)
def test_datasets_are_balanced_seeded_and_in_the_drawn_plane(name):
    x, labels = pg.make_dataset(name, n=400, noise=0.1, seed=0)
    again, _ = pg.make_dataset(name, n=400, noise=0.1, seed=0)
    assert x.shape == (400, 2) and labels.shape == (400,)
    assert torch.equal(x, again)
    assert 0.35 < labels.float().mean().item() < 0.65
    assert x.abs().max().item() < pg.EXTENT


def test_step_changes_the_parameters_once_and_the_counter_by_one():
    play = pg.Playground()
    before = [p.detach().clone() for p in play.model.parameters()]
    play.step(1)
    assert play.steps == 1 and len(play.history) == 2
    assert all(not torch.equal(a, b) for a, b in zip(before, play.model.parameters()))


def test_two_moons_beat_95_percent_within_the_default_budget():
    play = pg.Playground()
    play.step(pg.DEFAULT_BUDGET)
    assert play.history[-1][3] > 0.95


def test_rewind_returns_to_the_same_initial_weights():
    play = pg.Playground()
    start = [p.detach().clone() for p in play.model.parameters()]
    play.step(20)
    play.rewind()
    assert play.steps == 0
    assert all(torch.equal(a, b) for a, b in zip(start, play.model.parameters()))
    play.step(20)
    replay = [p.detach().clone() for p in play.model.parameters()]
    play.rewind()
    play.step(20)
    assert all(torch.equal(a, b) for a, b in zip(replay, play.model.parameters()))


def test_reset_draws_another_start_and_keeps_the_data():
    play = pg.Playground()
    start = [p.detach().clone() for p in play.model.parameters()]
    data = play.x_train.clone()
    play.reset(play.seed + 1)
    assert not torch.equal(start[0], next(play.model.parameters()))
    assert torch.equal(data, play.x_train)


def test_changing_the_learning_rate_mid_run_keeps_the_weights():
    play = pg.Playground()
    play.step(10)
    weights = [p.detach().clone() for p in play.model.parameters()]
    play.set_lr(0.3)
    assert all(torch.equal(a, b) for a, b in zip(weights, play.model.parameters()))
    assert play.optimizer.param_groups[0]["lr"] == 0.3
    play.set_optimizer("sgd")
    assert all(torch.equal(a, b) for a, b in zip(weights, play.model.parameters()))


def test_new_widths_keep_the_weights_where_the_shapes_allow():
    play = pg.Playground(widths=(4, 4))
    play.step(10)
    old = [layer.weight.detach().clone() for layer in pg.linears(play.model)]
    play.set_shape((6, 3), "relu")
    new = pg.linears(play.model)
    assert new[0].weight.shape == (6, 2) and torch.equal(new[0].weight[:4], old[0])
    assert torch.equal(new[1].weight[:3, :4], old[1][:3, :4])
    assert isinstance(play.model[1], torch.nn.ReLU)
    play.step(1)  # the optimizer follows the new parameters
    assert not torch.equal(new[0].weight[:4], old[0])


def test_neuron_grid_is_that_neurons_activation():
    play = pg.Playground(widths=(3,))
    axis, grid = pg.neuron_grid(play.model, 0, 2, size=5)
    point = torch.tensor([[axis[1].item(), axis[3].item()]])  # x column 1, y row 3
    expected = torch.tanh(play.model[0](point))[0, 2]
    assert grid[3, 1].item() == pytest.approx(expected.item(), abs=1e-6)
    with pytest.raises(IndexError):
        pg.neuron_grid(play.model, 1, 0)


def test_network_links_cover_every_weight():
    model = pg.make_model((4, 3))
    assert len(pg.network_links(model)) == 2 * 4 + 4 * 3 + 3 * 1


def test_exported_script_runs_and_reaches_the_same_accuracy(tmp_path):
    play = pg.Playground()
    play.step(pg.DEFAULT_BUDGET)
    script = tmp_path / "exported.py"
    script.write_text(pg.export_script(play.config(), pg.DEFAULT_BUDGET))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    accuracy = float(done.stdout.strip().split("=")[1])
    assert accuracy == pytest.approx(play.history[-1][3], abs=0.02)
