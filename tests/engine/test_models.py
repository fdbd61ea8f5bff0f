"""The course's models: exact parameter counts, layer order, shapes, and train/eval behaviour."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from course.engine.models import (
    MODEL_KINDS,
    MODEL_LABELS,
    ModelConfig,
    build_model,
    improved_mlp,
    parameter_count,
    simple_mlp,
    small_cnn,
)


def layer_types(model: nn.Sequential) -> list[type]:
    return [type(layer) for layer in model]


def test_simple_mlp_has_exactly_235_146_parameters():
    # 784*256 + 256 + 256*128 + 128 + 128*10 + 10
    assert parameter_count(build_model(ModelConfig(kind="mlp"))) == 235_146


def test_improved_mlp_adds_batchnorm_scale_and_shift_for_235_914_parameters():
    # BatchNorm1d learns a scale and a shift per feature: 2 * (256 + 128) = 768 more
    assert parameter_count(build_model(ModelConfig(kind="mlp-bn"))) == 235_914


def test_parameter_count_counts_only_trainable_parameters():
    model = simple_mlp()
    model[1].weight.requires_grad_(False)

    assert parameter_count(model) == 235_146 - 784 * 256


def test_simple_mlp_is_flatten_then_linear_relu_per_hidden_layer_and_a_bare_output():
    model = simple_mlp()

    assert layer_types(model) == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == [
        (784, 256), (256, 128), (128, 10)]


def test_improved_mlp_orders_linear_batchnorm_relu_dropout_and_keeps_output_bare():
    model = improved_mlp(dropout=0.3)

    hidden_block = [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert layer_types(model) == [nn.Flatten, *hidden_block, *hidden_block, nn.Linear]
    assert [layer.num_features for layer in model if isinstance(layer, nn.BatchNorm1d)] == [256, 128]
    assert all(layer.p == 0.3 for layer in model if isinstance(layer, nn.Dropout))
    assert model[-1].out_features == 10


def test_build_model_passes_hidden_sizes_and_dropout_from_the_config():
    model = build_model(ModelConfig(kind="mlp-bn", hidden=(64, 32, 16), dropout=0.5))

    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert [layer.out_features for layer in linears] == [64, 32, 16, 10]
    assert {layer.p for layer in model if isinstance(layer, nn.Dropout)} == {0.5}


def test_model_config_round_trips_through_a_plain_dict_and_json():
    config = ModelConfig(kind="mlp-bn", hidden=(64, 32), dropout=0.2)

    as_dict = config.to_dict()

    assert as_dict == {"kind": "mlp-bn", "hidden": [64, 32], "dropout": 0.2}
    assert ModelConfig.from_dict(as_dict) == config
    assert ModelConfig.from_dict(json.loads(json.dumps(as_dict))) == config


def test_unknown_model_kind_is_a_value_error_listing_the_choices():
    with pytest.raises(ValueError, match="unknown model kind 'resnet'.*mlp"):
        build_model(ModelConfig(kind="resnet"))


def test_every_model_kind_has_a_label_for_the_pages():
    assert set(MODEL_LABELS) == set(MODEL_KINDS)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_model_maps_an_image_batch_to_ten_logits(kind):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind)).eval()

    with torch.no_grad():
        logits = model(torch.randn(5, 1, 28, 28))

    assert logits.shape == (5, 10)
    assert torch.isfinite(logits).all()


def test_small_cnn_halves_the_image_at_each_conv_block():
    model = small_cnn()
    x = torch.randn(2, 1, 28, 28)
    shapes = []
    for layer in model:
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            shapes.append(tuple(x.shape[1:]))

    assert shapes == [(32, 14, 14), (48, 7, 7)]
    assert x.shape == (2, 10)


def test_mlp_logits_are_raw_scores_not_probabilities():
    torch.manual_seed(0)
    model = simple_mlp()

    with torch.no_grad():
        logits = model(torch.randn(8, 1, 28, 28))

    assert (logits < 0).any()
    assert not torch.allclose(logits.sum(dim=1), torch.ones(8))


def test_improved_mlp_dropout_is_random_in_train_and_off_in_eval():
    torch.manual_seed(0)
    model = improved_mlp(dropout=0.3)
    images = torch.randn(16, 1, 28, 28)

    model.train()
    first, second = model(images), model(images)
    model.eval()
    with torch.no_grad():
        third, fourth = model(images), model(images)

    assert not torch.equal(first, second)
    assert torch.equal(third, fourth)


def test_improved_mlp_in_eval_scores_each_image_independently_of_its_batch():
    # eval() switches BatchNorm to running averages, so an image's logits do not depend on
    # which other images share its batch; in train() they do.
    torch.manual_seed(0)
    model = improved_mlp(dropout=0.0)
    images = torch.randn(16, 1, 28, 28)

    model.eval()
    with torch.no_grad():
        alone, in_batch = model(images[:1]), model(images)[:1]
    assert torch.allclose(alone, in_batch, atol=1e-6)

    model.train()
    with torch.no_grad():
        small, large = model(images[:4])[:1], model(images)[:1]
    assert not torch.allclose(small, large, atol=1e-3)
