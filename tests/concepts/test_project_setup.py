"""The textbook setup the MNIST page shows builds what the trainer builds, minus its speed-ups."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import RandomSampler, SequentialSampler

from course.concepts import project_setup
from course.engine import data, train

HYPERPARAMETERS = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")


@pytest.fixture(scope="module")
def mnist(data_dir):
    transform = data.normalize_transform("mnist")
    return (data.load_dataset("mnist", train=True, transform=transform),
            data.load_dataset("mnist", train=False, transform=transform))


@pytest.mark.parametrize("kind", ["mlp", "mlp-bn"])
def test_textbook_setup_has_the_trainers_settings_and_initial_weights(mnist, kind):
    torch.manual_seed(0)  # as train.Run does with the recipe's seed 0
    model, loss_fn, optimizer, train_loader, test_loader = project_setup.textbook_setup(
        *mnist, improved=kind == "mlp-bn")
    run = train.Run(train.recipe(kind))

    assert type(optimizer) is type(run.optimizer) is torch.optim.Adam
    ours, theirs = optimizer.param_groups[0], run.optimizer.param_groups[0]
    assert {name: ours[name] for name in HYPERPARAMETERS} == {
        name: theirs[name] for name in HYPERPARAMETERS}
    assert (ours["fused"], theirs["fused"]) == (None, True), "the one difference: fused Adam"
    assert isinstance(loss_fn, torch.nn.CrossEntropyLoss)
    assert train_loader.batch_size == run.config.batch_size == 64
    assert isinstance(train_loader.sampler, RandomSampler) and run.train_loader.sampler.shuffle
    assert test_loader.batch_size == run.test_loader.sampler.batch_size == 1000
    assert isinstance(test_loader.sampler, SequentialSampler)
    assert not run.test_loader.sampler.shuffle
    built, engine = model.state_dict(), run.model.state_dict()
    assert list(built) == list(engine)
    for name, value in built.items():
        assert torch.equal(value, engine[name]), f"{name}: same seed, same first weights"
    images, labels = next(iter(test_loader))
    engine_images, engine_labels = next(iter(run.test_loader))
    assert torch.equal(labels, engine_labels)
    torch.testing.assert_close(images, engine_images)
