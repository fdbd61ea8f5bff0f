"""The graph walk, accumulation, error lab and backprop example on real tensors."""

import pytest
import torch

from course.concepts import autograd_errors, autograd_graph, backprop_example, gradient_accumulation


@pytest.mark.parametrize("expression", list(autograd_graph.EXPRESSIONS))
def test_node_grads_equal_retain_grad(expression):
    tensors = autograd_graph.build(expression, autograd_graph.DEFAULTS)
    list(tensors.values())[-1].backward()
    nodes = autograd_graph.walk(tensors)
    assert {n.name for n in nodes} == set(tensors)
    for n in nodes:
        assert n.grad == pytest.approx(tensors[n.name].grad.item())
    hand = autograd_graph.hand_gradients(expression, autograd_graph.DEFAULTS)
    for n in nodes:
        if n.op == "leaf":
            assert n.grad == pytest.approx(hand[n.name])


def test_accumulation():
    assert gradient_accumulation.grad_timeline(3, False) == [3.0, 6.0, 9.0]
    assert gradient_accumulation.grad_timeline(3, True) == [3.0, 3.0, 3.0]
    x = torch.linspace(-1, 1, 12)
    y = 2 * x + 1
    assert torch.allclose(gradient_accumulation.full_batch_grad(x, y),
                          gradient_accumulation.accumulated_grad(x, y, 4))
    assert gradient_accumulation.zero_grad_effect(True) is None


def test_backprop_example():
    t = backprop_example.inputs()
    hand, auto = backprop_example.by_hand(t), backprop_example.by_autograd(t)
    for k in hand:
        assert hand[k].shape == auto[k].shape and torch.allclose(hand[k], auto[k])
    assert backprop_example.gradcheck_passes()
