"""The autograd error lab: each function makes one real autograd mistake and returns
PyTorch's own message (and the node it points at)."""

from __future__ import annotations

import warnings

import torch


def inplace_on_saved() -> str:
    """sigmoid saves its output for backward; changing it in place breaks the version check."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.sigmoid(x)
    y.add_(1)
    y.sum().backward()


def grad_of_non_leaf() -> str:
    """A non-leaf's .grad is None unless retain_grad(); reading it warns."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    (y * y).backward()
    return y.grad


def second_backward() -> str:
    """backward() frees the saved tensors; a second call needs retain_graph=True."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    y.backward()


def requires_grad_on_int() -> str:
    """Only floating point (and complex) tensors can require gradients."""
    torch.tensor([1, 2, 3], requires_grad=True)


ERRORS = {
    "In-place change of a saved tensor": inplace_on_saved,
    ".grad of a non-leaf": grad_of_non_leaf,
    "Second backward() without retain_graph": second_backward,
    "requires_grad on an integer tensor": requires_grad_on_int,
}


def trigger(name: str) -> tuple[str, str]:
    """(kind, message): 'error' with the exception text, or 'warning' with the warning text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ERRORS[name]()
        except RuntimeError as error:
            return "error", str(error)
    texts = [str(w.message) for w in caught]
    return "warning", texts[0] if texts else "(no warning)"


def non_leaf_fixed() -> float:
    """The fix for a non-leaf: retain_grad() before backward()."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).backward()
    return y.grad.item()
