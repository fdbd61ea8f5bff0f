"""zero_grad is not boilerplate: .grad adds up; micro-batches of loss/k equal the full batch;
no_grad, detach and requires_grad=False keep a computation out of the graph."""

import pytest
import torch

from course.concepts import gradient_accumulation as acc


def test_timeline_adds_without_zero_grad_and_repeats_with_it():
    assert acc.grad_timeline(4, zero_each_time=False) == [3.0, 6.0, 9.0, 12.0]
    assert acc.grad_timeline(4, zero_each_time=True) == [3.0, 3.0, 3.0, 3.0]
    assert acc.grad_timeline(3, zero_each_time=False, x=-2.0) == [-2.0, -4.0, -6.0]


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 6, 12])
def test_micro_batches_of_loss_over_k_equal_the_full_batch(parts):
    x = torch.linspace(-1, 1, 12)
    y = 2 * x + 1
    assert torch.allclose(acc.accumulated_grad(x, y, parts), acc.full_batch_grad(x, y),
                          atol=1e-6)


def test_micro_batches_without_dividing_by_k_are_k_times_too_big():
    x = torch.linspace(-1, 1, 12)
    y = 2 * x + 1
    w = torch.tensor(0.5, requires_grad=True)
    for xb, yb in zip(x.chunk(4), y.chunk(4)):
        ((w * xb - yb) ** 2).mean().backward()
    assert torch.allclose(w.grad, 4 * acc.full_batch_grad(x, y))


def test_set_to_none_frees_grad_and_false_leaves_zeros():
    assert acc.zero_grad_effect(True) is None
    zeros = acc.zero_grad_effect(False)
    assert torch.equal(zeros, torch.zeros(2))


def test_no_grad_detach_and_requires_grad_false_keep_y_out_of_the_graph():
    assert acc.graph_effect("torch.no_grad()") == {"requires_grad": False, "grad_fn": None,
                                                   "value": 6.0}
    assert acc.graph_effect("detach()") == {"requires_grad": False, "grad_fn": None,
                                            "value": 6.0}
    assert acc.graph_effect("requires_grad=False") == {"requires_grad": False, "grad_fn": None,
                                                       "value": 6.0}
    w = torch.tensor(2.0, requires_grad=True)  # the same expression, autograd on
    assert type((w * 3.0).grad_fn).__name__ == "MulBackward0"
