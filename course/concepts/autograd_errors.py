"""The autograd error lab: each mistake builds a small graph, names the node the error will
point at, and hands back the step that fails; trigger() runs it and returns PyTorch's own text."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch


def inplace_on_saved() -> tuple[str, Callable]:
    """sigmoid saves its output for backward; changing it in place breaks the version check."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.sigmoid(x)            # SigmoidBackward0 saves its output y for backward
    saved_by, saved_version = y.grad_fn.name(), y._version
    y.add_(1)                       # in place: y's version counter goes up by one
    node = (f"{saved_by} saved y at version {saved_version}; y.add_(1) moved y to version "
            f"{y._version}")
    return node, lambda: y.sum().backward()


def grad_of_non_leaf() -> tuple[str, Callable]:
    """A non-leaf's .grad is None unless retain_grad(); reading it warns."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3                       # y is made by MulBackward0: not a leaf
    (y * y).backward()
    node = f"y is the output of {y.grad_fn.name()} (is_leaf={y.is_leaf}): only leaves keep .grad"
    return node, lambda: y.grad


def second_backward() -> tuple[str, Callable]:
    """backward() frees the saved tensors; a second call needs retain_graph=True."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x * x                       # MulBackward0 saves x (twice) to compute dy/dx = 2x
    y.backward()                    # ... and frees them here
    node = f"{y.grad_fn.name()}: its saved tensors were freed by the first backward()"
    return node, lambda: y.backward()


def requires_grad_on_int() -> tuple[str, Callable]:
    """Only floating point (and complex) tensors can require gradients."""
    x = torch.tensor([1, 2, 3])
    node = (f"the leaf x ({x.dtype}): a gradient needs a float dtype, so no AccumulateGrad "
            "node can be made for it")
    return node, lambda: x.requires_grad_()


ERRORS = {
    "In-place change of a saved tensor": inplace_on_saved,
    ".grad of a non-leaf": grad_of_non_leaf,
    "Second backward() without retain_graph": second_backward,
    "requires_grad on an integer tensor": requires_grad_on_int,
}


@dataclass(frozen=True)
class LabResult:
    kind: str       # "error" (an exception was raised) or "warning"
    message: str    # PyTorch's own text
    node: str       # the graph node the mistake points at


def trigger(name: str) -> LabResult:
    """Make the mistake and catch what PyTorch says about it."""
    node, failing_step = ERRORS[name]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            failing_step()
        except RuntimeError as error:
            return LabResult("error", str(error), node)
    texts = [str(w.message) for w in caught]
    return LabResult("warning", texts[0] if texts else "(no warning)", node)


def non_leaf_fixed() -> float:
    """The fix for a non-leaf: retain_grad() before backward()."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).backward()
    return y.grad.item()
