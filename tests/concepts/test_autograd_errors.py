"""The error lab: each mistake raises (or warns) what the page says, and names its graph node."""

import pytest
import torch

from course.concepts import autograd_errors

EXPECTED = {  # name -> (kind, words of PyTorch's message, words of the node)
    "In-place change of a saved tensor": ("error", "modified by an inplace operation",
                                          "SigmoidBackward0"),
    ".grad of a non-leaf": ("warning", "retain_grad", "MulBackward0"),
    "Second backward() without retain_graph": ("error", "retain_graph=True", "MulBackward0"),
    "requires_grad on an integer tensor": ("error", "floating point", "torch.int64"),
}


@pytest.mark.parametrize("name", list(autograd_errors.ERRORS))
def test_each_mistake_gives_the_message_and_node_the_page_shows(name):
    kind, words, node_words = EXPECTED[name]
    result = autograd_errors.trigger(name)
    assert result.kind == kind
    assert words in result.message
    assert node_words in result.node


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if e[0] == "error"])
def test_errors_are_real_runtime_errors(name):
    _, failing_step = autograd_errors.ERRORS[name]()
    with pytest.raises(RuntimeError):
        failing_step()


def test_inplace_node_and_versions_match_pytorchs_message():
    result = autograd_errors.trigger("In-place change of a saved tensor")
    assert "SigmoidBackward0 saved y at version 0" in result.node
    assert "moved y to version 1" in result.node
    # PyTorch names the forward op (Sigmoid) and the same two versions
    assert "output 0 of Sigmoid" in result.message
    assert "is at version 1; expected version 0" in result.message


def test_second_backward_really_freed_the_saved_tensors():
    x = torch.tensor(2.0, requires_grad=True)
    y = x * x
    assert torch.equal(y.grad_fn._saved_self, x)
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        _ = y.grad_fn._saved_self


def test_non_leaf_fix_retain_grad():
    assert autograd_errors.trigger(".grad of a non-leaf").message != "(no warning)"
    assert autograd_errors.non_leaf_fixed() == pytest.approx(12.0)  # d(y²)/dy = 2y = 12
