"""Network-health readings on real models and real MNIST, and their TensorBoard log."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course.concepts import diagnostics
from course.engine import data, telemetry
from course.engine.models import simple_mlp
from course.engine.train import RunConfig, adam
from course.runs import jobs, recorder, run_files


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """One torch thread (see conftest)."""


@pytest.fixture(scope="module")
def batch(data_dir):
    split = data.split_tensors("mnist", True)
    return data.normalize_batch(split.images[:256]), split.labels[:256]


def test_initial_loss_of_an_untrained_mlp_is_within_0_1_of_ln_10(batch):
    torch.manual_seed(0)
    images, labels = batch
    assert abs(telemetry.initial_loss(simple_mlp(), images, labels) - math.log(10)) < 0.1


def test_a_layer_with_a_very_negative_bias_is_entirely_dead(batch):
    torch.manual_seed(0)
    model = simple_mlp()
    with torch.no_grad():
        model[1].bias.fill_(-1_000.0)
    optimizer = adam(model.parameters(), 1e-3)
    recorder = telemetry.Telemetry(model, optimizer, every=1)
    images, labels = batch
    loss = nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    reading = recorder.take()[0]
    assert reading["dead_relu"]["2"] == 1.0  # the ReLU after the first Linear
    assert reading["grad_norm"]["1.weight"] == 0.0  # dead units pass no gradient back


def test_update_ratios_are_finite_and_near_lr_for_adam_and_sampled_every_n_steps(batch):
    torch.manual_seed(0)
    model = simple_mlp()
    optimizer = adam(model.parameters(), 1e-3)
    recorder = telemetry.Telemetry(model, optimizer, every=5)
    images, labels = batch
    for _ in range(12):
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    readings = recorder.take()
    assert [r["step"] for r in readings] == [1, 6, 11]
    ratios = readings[-1]["update_ratio"]
    assert set(ratios) == {name for name, _ in model.named_parameters()}
    assert all(math.isfinite(value) for value in ratios.values())
    assert -4.0 < ratios["1.weight"] < -1.5  # Adam moves each weight by about lr
    assert recorder.take() == []
    recorder.remove()
    model(images)  # hooks gone: no new readings, no errors
    assert recorder.readings == []


def test_a_run_logs_its_telemetry_to_event_files_the_tensorboard_reader_reads_back(tmp_path, data_dir):
    folder = tmp_path / "run"
    folder.mkdir()
    run_files.create_run(folder, RunConfig(epochs=2, train_subset=3_200, batch_size=64))
    assert jobs.execute(str(folder)) == "done"
    record = run_files.status(folder)
    scalars = diagnostics.read_scalars(recorder.events_dir(folder))
    steps_per_epoch = 50
    assert len(scalars["accuracy/test"]) == 2
    assert [step for step, _ in scalars["accuracy/test"]] == [steps_per_epoch, 2 * steps_per_epoch]
    assert len(scalars["loss/train"]) == len([p for p in record["steps"]]) == 10
    assert [step for step, _ in scalars["update_ratio/1.weight"]] == [1, 51]
    assert all(math.isfinite(value) for _, value in scalars["update_ratio/1.weight"])
    assert abs(scalars["initial_loss"][0][1] - math.log(10)) < 0.1
    assert abs(record["telemetry"]["initial_loss"] - math.log(10)) < 0.1
    assert record["telemetry"]["latest"]["step"] == 51
    assert sorted(recorder.epoch_snapshots(folder)) == [1, 2]
