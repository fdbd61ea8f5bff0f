"""Memory layout: a tensor is a flat block of storage plus a shape and strides that say how to
walk it. Some operations only change the walk (a view: same storage), others copy the elements.
`view` needs a walk it can express over the existing storage; after `transpose` it often can't,
which is why `.contiguous()` (copy into reading order) and `reshape` (view if it can, else copy) exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch

# Each operation as the learner would type it on a 2-D tensor x.
OPERATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "x.view(-1)": lambda x: x.view(-1),
    "x.reshape(-1)": lambda x: x.reshape(-1),
    "x.view(cols, rows)": lambda x: x.view(x.shape[1], x.shape[0]),
    "x.transpose(0, 1)": lambda x: x.transpose(0, 1),
    "x.permute(1, 0)": lambda x: x.permute(1, 0),
    "x.unsqueeze(0)": lambda x: x.unsqueeze(0),
    "x[:, 1:]": lambda x: x[:, 1:],
    "x.flatten()": lambda x: x.flatten(),
    "x.clone()": lambda x: x.clone(),
    "x.transpose(0, 1).view(-1)": lambda x: x.transpose(0, 1).view(-1),
    "x.transpose(0, 1).reshape(-1)": lambda x: x.transpose(0, 1).reshape(-1),
    "x.transpose(0, 1).contiguous()": lambda x: x.transpose(0, 1).contiguous(),
    "x.transpose(0, 1).contiguous().view(-1)": lambda x: x.transpose(0, 1).contiguous().view(-1),
}


@dataclass(frozen=True)
class Layout:
    operation: str
    shape: tuple[int, ...] | None
    stride: tuple[int, ...] | None
    storage_offset: int | None
    is_contiguous: bool | None
    shares_storage: bool | None  # with the original x: a view (True) or a copy (False)
    data_ptr_moved: int | None  # bytes from x's first element to this one's; None for a copy
    error: str | None  # PyTorch's own message when the operation fails

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        return "view (shares x's storage)" if self.shares_storage else "copy (new storage)"


def make_x(rows: int = 3, cols: int = 4) -> torch.Tensor:
    """The starting tensor: 0, 1, 2, ... laid out row by row."""
    return torch.arange(rows * cols).reshape(rows, cols)


def shares_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same storage block underneath? (a view of a view still counts)"""
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def describe(tensor: torch.Tensor, operation: str = "x", base: torch.Tensor | None = None) -> Layout:
    """Shape, strides and whether `tensor` lives in `base`'s storage."""
    base = tensor if base is None else base
    shared = shares_storage(tensor, base)
    return Layout(operation, tuple(tensor.shape), tuple(tensor.stride()), tensor.storage_offset(),
                  tensor.is_contiguous(), shared,
                  tensor.data_ptr() - base.data_ptr() if shared else None, None)


def apply(operation: str, rows: int = 3, cols: int = 4) -> Layout:
    """Run one operation on a fresh x and describe what came back (or PyTorch's error)."""
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown operation {operation!r}")
    x = make_x(rows, cols)
    try:
        result = OPERATIONS[operation](x)
    except RuntimeError as error:
        return Layout(operation, None, None, None, None, None, None, str(error))
    return describe(result, operation, x)


def memory_offsets(shape: tuple[int, ...], stride: tuple[int, ...], storage_offset: int = 0) -> list[int]:
    """Where each element, in reading order, sits in storage: offset + sum(index * stride)."""
    return [storage_offset + sum(i * s for i, s in zip(index, stride))
            for index in itertools.product(*(range(n) for n in shape))]


def reads_in_order(layout: Layout) -> bool:
    """Does reading the tensor walk its storage 0, 1, 2, ... without jumps?"""
    offsets = memory_offsets(layout.shape, layout.stride, layout.storage_offset)
    return offsets == list(range(offsets[0], offsets[0] + len(offsets))) if offsets else True


def all_layouts(rows: int = 3, cols: int = 4) -> list[Layout]:
    """Every operation of OPERATIONS on the same x, for the view-or-copy table."""
    return [apply(operation, rows, cols) for operation in OPERATIONS]
