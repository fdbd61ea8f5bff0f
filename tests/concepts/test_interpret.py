"""What the MLP learned: templates are the first layer's weights, activations and saliency are
what the model really computes, and saliency is zero where a pixel cannot change the answer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course.concepts import interpret
from course.engine import models


@pytest.fixture
def image() -> torch.Tensor:
    return torch.randn(1, 28, 28, generator=torch.Generator().manual_seed(0))


def left_half_only(hidden: int | None = 32) -> nn.Sequential:
    """A model whose first layer has zero weight on every pixel of the right half (x >= 14)."""
    torch.manual_seed(0)
    model = models.simple_mlp(hidden=(hidden,)) if hidden else nn.Sequential(
        nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        interpret.first_linear(model).weight.view(-1, 28, 28)[:, :, 14:] = 0
    return model


def test_templates_are_the_first_layer_weight_rows_as_28_by_28_images():
    model = models.simple_mlp()
    images = interpret.templates(model)
    assert images.shape == (256, 28, 28)
    assert torch.equal(images[5].flatten(), model[1].weight[5])
    improved = models.improved_mlp()
    assert torch.equal(interpret.templates(improved)[0].flatten(), improved[1].weight[0])


def test_templates_refuse_a_model_whose_first_layer_is_not_pixels():
    with pytest.raises(ValueError, match="not 784 pixels"):
        interpret.templates(nn.Sequential(nn.Linear(10, 3)))
    with pytest.raises(ValueError, match="no nn.Linear"):
        interpret.templates(nn.Sequential(nn.ReLU()))


def test_order_by_norm_puts_the_largest_weights_first():
    images = torch.zeros(3, 28, 28)
    images[0, 0, 0], images[1, 5, 5], images[2, 9, 9] = 1.0, -7.0, 3.0
    assert interpret.order_by_norm(images).tolist() == [1, 2, 0]


def test_tile_places_each_image_scaled_by_its_largest_absolute_value():
    images = torch.zeros(5, 4, 4)
    images[0, 1, 2] = -2.0
    images[0, 0, 0] = 1.0
    images[4, 3, 3] = 0.5
    grid = interpret.tile(images, columns=3, gap=1)
    assert grid.shape == (2 * 5 - 1, 3 * 5 - 1)
    assert grid[1, 2] == -1.0 and grid[0, 0] == 0.5
    assert grid[5 + 3, 5 + 3] == 1.0  # image 4: second row, second column, scaled 0.5 -> 1
    assert torch.isnan(grid[4, 0]) and torch.isnan(grid[0, 4]), "the gaps are background"
    assert torch.isnan(grid[5, 10]), "the unused sixth cell stays background"
    assert grid[5:9, 5:9].abs().max() == 1


def test_hidden_activations_are_relu_of_the_first_layer_and_the_logits_are_the_models(image):
    torch.manual_seed(0)
    model = models.simple_mlp()
    layers = interpret.hidden_activations(model, image)
    assert list(layers) == ["hidden layer 1 (256 units)", "hidden layer 2 (128 units)", "logits"]
    by_hand = torch.relu(model[1].weight @ image.flatten() + model[1].bias)
    torch.testing.assert_close(layers["hidden layer 1 (256 units)"], by_hand)
    with torch.no_grad():
        torch.testing.assert_close(layers["logits"], model(image.unsqueeze(0))[0])


def test_hidden_activations_of_the_improved_mlp_use_eval_mode(image):
    torch.manual_seed(0)
    model = models.improved_mlp(dropout=0.5).train()
    first = interpret.hidden_activations(model, image)
    second = interpret.hidden_activations(model, image)
    assert not model.training
    for name in first:
        assert torch.equal(first[name], second[name]), "dropout off: the same answer twice"


def test_saliency_has_the_input_shape_and_is_zero_where_the_input_has_no_effect(image):
    model = left_half_only()
    grad = interpret.saliency(model, image)
    assert grad.shape == (28, 28)
    assert torch.equal(grad[:, 14:], torch.zeros(28, 14)), "the right half cannot move the logit"
    assert grad[:, :14].abs().sum() > 0, "the left half does"
    assert all(p.grad is None for p in model.parameters()), "no gradients left on the model"


def test_saliency_of_a_linear_model_is_the_predicted_class_weight_row(image):
    model = left_half_only(hidden=None)
    with torch.no_grad():
        predicted = int(model(image.unsqueeze(0)).argmax())
    torch.testing.assert_close(interpret.saliency(model, image),
                               model[1].weight[predicted].reshape(28, 28))
    torch.testing.assert_close(interpret.saliency(model, image, target=3),
                               model[1].weight[3].reshape(28, 28))
