"""nn.Linear is x @ W.T + b; editing one weight changes exactly the output it feeds."""

import torch

from course.concepts import linear_by_hand


def test_weight_is_out_by_in_and_layer_equals_the_explicit_operation():
    layer = linear_by_hand.make_layer()
    x = torch.randn(4, 3)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert torch.allclose(linear_by_hand.by_hand(x, layer.weight, layer.bias), layer(x))


def test_same_seed_same_weights():
    assert torch.equal(linear_by_hand.make_layer().weight, linear_by_hand.make_layer().weight)


def test_editing_one_weight_changes_only_its_output():
    layer = linear_by_hand.make_layer()
    x = torch.tensor([[1.0, 2.0, 3.0]])
    edited = linear_by_hand.with_edited_weight(layer, 0, 0, 1.5)
    assert edited.weight[0, 0] == 1.5 and layer.weight[0, 0] != 1.5  # the original is untouched
    change = edited(x) - layer(x)
    assert torch.allclose(change[0, 0], (1.5 - layer.weight[0, 0]) * x[0, 0])
    assert change[0, 1] == 0
    assert not edited.weight.grad_fn  # still a leaf Parameter, editing was not training
