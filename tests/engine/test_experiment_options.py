"""The capstone's run options: custom widths, BatchNorm off, channels, optimizers, augmentation,
a validation split and the best epoch's weights; every default leaves older runs unchanged."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from course.engine import data
from course.engine.models import ModelConfig, build_model, improved_mlp, parameter_count, small_cnn
from course.engine.train import InMemoryBatches, Run, RunConfig, fast_loader, make_optimizer


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def fashion_train(data_dir) -> data.SplitTensors:
    return data.split_tensors("fashion-mnist", True)


def test_an_older_config_dict_without_the_new_fields_gives_the_same_run_settings():
    old = {"dataset": "mnist", "model": "mlp-bn", "epochs": 5, "batch_size": 64, "lr": 1e-3,
           "dropout": 0.3, "weight_decay": 1e-4, "seed": 0, "device": "cpu",
           "train_subset": None, "schedule": "constant", "bug": ""}
    config = RunConfig.from_dict(old)
    assert config.model_config == ModelConfig(kind="mlp-bn", dropout=0.3)
    assert parameter_count(build_model(config.model_config)) == parameter_count(improved_mlp())


def test_custom_widths_and_channels_survive_json_and_build_the_model_asked_for():
    config = RunConfig(model="mlp-bn", hidden=(512, 256, 64), batch_norm=False, dropout=0.1)
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    layers = [m for m in build_model(again.model_config) if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in layers] == [512, 256, 64, 10]
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in build_model(again.model_config))
    cnn = RunConfig(model="cnn", channels=(8, 16))
    convs = [m for m in build_model(cnn.model_config) if isinstance(m, torch.nn.Conv2d)]
    assert [conv.out_channels for conv in convs] == [8, 16]
    assert parameter_count(small_cnn(channels=(8, 16))) < parameter_count(small_cnn())


@pytest.mark.parametrize("bad", [{"hidden": []}, {"hidden": [0]}, {"hidden": [8] * 5},
                                 {"channels": [8]}, {"optimizer": "rmsprop"},
                                 {"validation": 30_000}, {"hidden": ["wide"]}])
def test_out_of_range_options_are_refused_with_a_value_error(bad):
    with pytest.raises(ValueError):
        RunConfig.from_dict({**RunConfig().to_dict(), **bad})


@pytest.mark.parametrize("name, kind", [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
                                        ("sgd", torch.optim.SGD)])
def test_each_optimizer_name_builds_that_optimizer_with_the_lr_and_decay(name, kind):
    optimizer = make_optimizer(name, improved_mlp().parameters(), 0.02, 1e-4)
    assert type(optimizer) is kind
    assert optimizer.param_groups[0]["lr"] == 0.02
    assert optimizer.param_groups[0]["weight_decay"] == 1e-4


def test_augmentation_keeps_shapes_and_label_order_and_changes_the_images(fashion_train):
    plain = InMemoryBatches(fashion_train, limit=512)
    augmented = InMemoryBatches(fashion_train, limit=512, augment=torch.Generator().manual_seed(1))
    indices = torch.arange(0, 512, 3)
    (plain_images, plain_labels), (new_images, new_labels) = plain[indices], augmented[indices]
    assert new_images.shape == plain_images.shape == (len(indices), 1, 28, 28)
    assert torch.equal(new_labels, plain_labels)
    assert not torch.equal(new_images, plain_images)


def test_flips_alone_give_each_image_or_its_mirror_and_shifts_keep_the_pixels(fashion_train):
    images = fashion_train.images[:200]
    flipped = data.random_flips_and_shifts(images, torch.Generator().manual_seed(0), max_shift=0)
    mirrored = (flipped == images.flip(-1)).flatten(1).all(1)
    same = (flipped == images).flatten(1).all(1)
    assert bool((mirrored | same).all()) and 0 < int(mirrored.sum()) < 200
    moved = data.random_flips_and_shifts(images, torch.Generator().manual_seed(0), max_shift=2)
    assert moved.dtype == torch.uint8 and moved.shape == images.shape
    # a shift of at most 2 pixels loses only the border: nearly all the ink is still there
    kept = moved.flatten(1).sum(1).double() / images.flatten(1).sum(1).double()
    assert float(kept.min()) > 0.8


def test_the_validation_split_is_disjoint_the_same_for_every_run_and_covers_the_split(fashion_train):
    kept, held_out = data.validation_split(fashion_train, 5_000)
    assert (len(kept), len(held_out)) == (55_000, 5_000)
    again_kept, again_held = data.validation_split(fashion_train, 5_000)
    assert torch.equal(held_out.images, again_held.images)
    order = torch.randperm(60_000, generator=torch.Generator().manual_seed(data.VALIDATION_SEED))
    held_indices = set(order[:5_000].tolist())
    assert torch.equal(held_out.labels, fashion_train.labels[sorted(held_indices)])
    assert torch.equal(kept.labels, fashion_train.labels[sorted(set(range(60_000)) - held_indices)])
    assert int(torch.bincount(held_out.labels, minlength=10).min()) > 400  # every class is in it


def test_the_best_epoch_checkpoint_holds_the_weights_of_the_epoch_with_the_best_validation_accuracy(
        data_dir):
    config = RunConfig(dataset="fashion-mnist", model="mlp-bn", epochs=3, train_subset=1_000,
                       validation=2_000, lr=3e-2, hidden=(32,))
    run = Run(config)
    states = {}
    for event in run.events():
        if event.kind == "epoch":
            states[event.epoch] = {k: v.clone() for k, v in run.model.state_dict().items()}
    accuracies = {row["epoch"]: row["val_accuracy"] for row in run.history.epochs}
    best = run.history.best_epoch
    assert accuracies[best] == max(accuracies.values())
    assert best == min(e for e, a in accuracies.items() if a == max(accuracies.values()))
    for name, tensor in run.best_state.items():
        assert torch.equal(tensor, states[best][name]), name
    # the validation images are not trained on: 1,000 training images come from the other 58,000
    assert len(run.train_loader.dataset) == 1_000 and len(run.val_loader.dataset) == 2_000


def test_a_run_without_a_validation_split_records_the_history_it_always_did(data_dir):
    run = Run(RunConfig(dataset="fashion-mnist", epochs=1, train_subset=500))
    list(run.events())
    assert set(run.history.epochs[0]) == {"epoch", "train_loss", "train_accuracy", "test_loss",
                                          "test_accuracy", "seconds"}
    assert run.history.best_epoch is None and run.best_state is None


def test_an_augmented_run_is_reproducible_from_its_seed(data_dir):
    config = RunConfig(dataset="fashion-mnist", epochs=1, train_subset=640, augment=True)
    first, second = Run(config), Run(config)
    list(first.events()), list(second.events())
    assert first.history.epochs[0]["train_loss"] == second.history.epochs[0]["train_loss"]
    other = Run(replace(config, augment=False))
    list(other.events())
    assert other.history.epochs[0]["train_loss"] != first.history.epochs[0]["train_loss"]


def test_fast_loader_with_augment_still_visits_every_image_once(fashion_train):
    loader = fast_loader(fashion_train, 100, shuffle=True, generator=torch.Generator().manual_seed(0),
                         limit=1_000, augment=torch.Generator().manual_seed(0))
    labels = torch.cat([batch_labels for _, batch_labels in loader])
    assert torch.equal(labels.sort().values, fashion_train.labels[:1_000].sort().values)


def test_a_run_with_validation_and_augmentation_resumes_exactly_from_its_epoch_checkpoint(
        data_dir, tmp_path):
    from course.runs.checkpoints import load_checkpoint, restore_run, save_run

    config = RunConfig(dataset="fashion-mnist", model="mlp-bn", epochs=2, train_subset=640,
                       validation=1_000, augment=True, hidden=(32,))
    whole = Run(config)
    list(whole.events())
    first = Run(config)
    for event in first.events():
        if event.kind == "epoch":
            save_run(first, tmp_path / "epoch.pt")
            break
    resumed = Run(config)
    restore_run(resumed, load_checkpoint(tmp_path / "epoch.pt"))
    list(resumed.events())

    def without_seconds(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert without_seconds(resumed.history.epochs) == without_seconds(whole.history.epochs)
    assert resumed.history.best_epoch == whole.history.best_epoch
