"""The graph walk on the learner's expression: real grad_fn nodes, gradients equal to .grad."""

import pytest
import torch

from course.concepts import autograd_graph


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


@pytest.mark.parametrize("expression", list(autograd_graph.EXPRESSIONS))
def test_walk_goes_output_to_inputs_along_next_functions(expression):
    nodes = autograd_graph.run_backward(expression, autograd_graph.DEFAULTS)
    order = [n.name for n in nodes]
    assert order[0] == list(autograd_graph.build(expression, autograd_graph.DEFAULTS))[-1]
    for n in nodes:  # a node is drawn before the tensors it was computed from
        assert all(order.index(p) > order.index(n.name) for p in n.parents)
    assert nodes[0].op.endswith("Backward0")
    assert {n.name for n in nodes if n.op == "leaf"} == set(
        autograd_graph.EXPRESSIONS[expression][1])


def test_first_expression_matches_micrograd_numbers():
    nodes = {n.name: n for n in autograd_graph.run_backward("L = (a·b + c)·f",
                                                            autograd_graph.DEFAULTS)}
    assert nodes["L"].value == pytest.approx(-8.0) and nodes["L"].grad == 1.0
    assert nodes["d"].grad == pytest.approx(-2.0) and nodes["f"].grad == pytest.approx(4.0)
    assert nodes["a"].grad == pytest.approx(6.0) and nodes["b"].grad == pytest.approx(-4.0)
    assert nodes["e"].op == "MulBackward0" and sorted(nodes["e"].parents) == ["a", "b"]


def test_backward_steps_fill_gradients_one_node_at_a_time():
    nodes = autograd_graph.run_backward("L = (a·b + c)·f", autograd_graph.DEFAULTS)
    none_shown = autograd_graph.to_dot(nodes, 0)
    one_shown = autograd_graph.to_dot(nodes, 1)
    all_shown = autograd_graph.to_dot(nodes)
    assert none_shown.count("grad ?") == len(nodes)
    assert one_shown.count("grad ?") == len(nodes) - 1 and "grad 1 |" in one_shown
    assert "grad ?" not in all_shown and "grad 6 |" in all_shown


def test_leaves_without_requires_grad_stay_out_of_backward():
    tensors = autograd_graph.build("y = tanh(w·x + b)", autograd_graph.DEFAULTS)
    assert all(tensors[n].requires_grad and tensors[n].is_leaf for n in ("w", "x", "b"))
    assert not tensors["z"].is_leaf and isinstance(tensors["y"].grad_fn, torch.autograd.graph.Node)
