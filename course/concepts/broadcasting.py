"""The broadcasting X-ray: line the shapes up on the right, pad the shorter ones with 1s on the
left, and in every column the sizes must agree or be 1 (a 1 is stretched to the others' size).

The rule is NumPy's. The X-ray computes it column by column, so the learner sees *why*; the
result shape and any error message come from PyTorch itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

MAX_DIMS = 6
MAX_SIZE = 100_000
NAMES = "abc"


class ShapeError(ValueError):
    """A shape the learner typed that can't be read; the message says how to write one."""


def parse_shape(text: str) -> tuple[int, ...]:
    """'3, 1', '(2,3)', '[4]', '2 3', '5' or '()' -> a tuple of sizes; friendly errors otherwise."""
    stripped = text.strip()
    inner = re.sub(r"^(torch\.Size\()?[\(\[]?|[\)\]]?\)?$", "", stripped).strip()
    if inner == "":
        if stripped in ("()", "[]", "torch.Size([])"):
            return ()
        raise ShapeError("Type a shape such as `3, 1` or `(2, 3)`; `()` is a scalar.")
    parts = [p for p in re.split(r"[,\s]+", inner) if p != ""]
    sizes = []
    for part in parts:
        if not re.fullmatch(r"-?\d+", part):
            raise ShapeError(f"`{part}` is not a whole number: a shape lists sizes like `3, 1`.")
        size = int(part)
        if size < 0:
            raise ShapeError(f"Sizes can't be negative (`{part}`); a dimension holds 0 or more.")
        if size > MAX_SIZE:
            raise ShapeError(f"`{part}` is larger than this X-ray draws; keep sizes up to {MAX_SIZE:,}.")
        sizes.append(size)
    if len(sizes) > MAX_DIMS:
        raise ShapeError(f"{len(sizes)} dimensions is more than this X-ray draws (up to {MAX_DIMS}).")
    return tuple(sizes)


@dataclass(frozen=True)
class Cell:
    size: int  # after padding
    padded: bool  # a 1 added on the left because the shape had fewer dimensions
    stretched: bool  # a 1 repeated to match the column's size


@dataclass(frozen=True)
class Column:
    dimension: int  # position in the result, 0 = leftmost
    cells: tuple[Cell, ...]  # one per input shape
    size: int | None  # the result's size here, None when the sizes conflict

    @property
    def conflict(self) -> bool:
        return self.size is None


@dataclass(frozen=True)
class Fix:
    code: str  # e.g. "a.unsqueeze(-1)", the one call
    index_code: str  # the same with None indexing, e.g. "a[..., None]"
    input_index: int  # which input gets the new axis
    axis: int  # where: -1 (last) or 0 (first)
    before: tuple[tuple[int, ...], ...]  # the shapes as typed
    shapes: tuple[tuple[int, ...], ...]  # the shapes after the fix
    result: tuple[int, ...]  # what PyTorch gives for them


@dataclass(frozen=True)
class XRay:
    shapes: tuple[tuple[int, ...], ...]
    columns: tuple[Column, ...]
    result: tuple[int, ...] | None
    error: str | None  # PyTorch's own message from a + b (+ c)
    fix: Fix | None

    @property
    def conflicts(self) -> list[int]:
        return [column.dimension for column in self.columns if column.conflict]


def columns_of(shapes: tuple[tuple[int, ...], ...]) -> tuple[Column, ...]:
    """Right-align, pad with 1s, and decide each column: agree, stretch a 1, or conflict."""
    ndim = max(len(shape) for shape in shapes)
    padded = [(1,) * (ndim - len(shape)) + tuple(shape) for shape in shapes]
    columns = []
    for dim in range(ndim):
        sizes = [shape[dim] for shape in padded]
        others = {s for s in sizes if s != 1}
        size = None if len(others) > 1 else (others.pop() if others else 1)
        cells = tuple(Cell(s, dim < ndim - len(shape), s == 1 and size is not None and size != 1)
                      for s, shape in zip(sizes, shapes))
        columns.append(Column(dim, cells, size))
    return tuple(columns)


def _stand_in(shape: tuple[int, ...]) -> torch.Tensor:
    """A tensor of this shape that costs one element: a zero, expanded (stride 0)."""
    return torch.zeros(()).expand(shape)


def broadcast_result(shapes: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """PyTorch's result shape (torch.broadcast_tensors returns views: nothing is allocated)."""
    try:
        return tuple(torch.broadcast_tensors(*(_stand_in(shape) for shape in shapes))[0].shape)
    except RuntimeError:
        return None


def pytorch_error(shapes: tuple[tuple[int, ...], ...]) -> str | None:
    """PyTorch's exact message for adding tensors of these shapes, or None when they broadcast."""
    if broadcast_result(shapes) is not None:
        return None
    so_far = shapes[0]  # a + b + c runs left to right: the first pair that disagrees raises
    for shape in shapes[1:]:
        both = broadcast_result((so_far, shape))
        if both is None:
            try:
                _stand_in(so_far) + _stand_in(shape)  # raises before allocating anything
            except RuntimeError as error:
                return str(error)
        so_far = both
    return None


def one_call_fix(shapes: tuple[tuple[int, ...], ...]) -> Fix | None:
    """A single unsqueeze (a new axis of size 1) on one input that makes them broadcast; of
    those that do, the one whose result stretches least."""
    options = []
    for i, shape in enumerate(shapes):
        for axis, code, index_code in ((-1, f"{NAMES[i]}.unsqueeze(-1)", f"{NAMES[i]}[..., None]"),
                                       (0, f"{NAMES[i]}.unsqueeze(0)", f"{NAMES[i]}[None]")):
            if len(shape) >= MAX_DIMS:
                continue
            fixed = shape + (1,) if axis == -1 else (1,) + shape
            candidate = tuple(fixed if j == i else s for j, s in enumerate(shapes))
            result = broadcast_result(candidate)
            if result is None:
                continue
            options.append(Fix(code, index_code, i, axis, shapes, candidate, result))
    # prefer the fix whose result has the fewest elements: it stretches least
    return min(options, key=lambda f: (len(f.result), _numel(f.result)), default=None)


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def xray(*shapes: tuple[int, ...]) -> XRay:
    """Everything the X-ray draws for two or three shapes."""
    if not 1 <= len(shapes) <= len(NAMES):
        raise ValueError(f"The X-ray takes 1 to {len(NAMES)} shapes")
    shapes = tuple(tuple(int(s) for s in shape) for shape in shapes)
    error = pytorch_error(shapes)
    result = None if error else broadcast_result(shapes)
    return XRay(shapes, columns_of(shapes), result, error, one_call_fix(shapes) if error else None)


def run_fixed(fix: Fix) -> tuple[int, ...]:
    """Apply the fix's unsqueeze to real tensors of the typed shapes and broadcast them."""
    tensors = [_stand_in(shape) for shape in fix.before]
    tensors[fix.input_index] = tensors[fix.input_index].unsqueeze(fix.axis)
    return tuple(torch.broadcast_tensors(*tensors)[0].shape)


def sample_inputs(shapes: tuple[tuple[int, ...], ...]) -> list[torch.Tensor]:
    """Small real tensors of these shapes with distinct values (0, 1, 2, ... times 10^i)."""
    return [torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape) * 10 ** i
            for i, shape in enumerate(shapes)]


def explicit_then_implicit(shapes: tuple[tuple[int, ...], ...],
                           limit: int = 10_000) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The explicit operation, each input `.expand`ed to the result shape, then the sum with
    implicit broadcasting: the same tensor. None when they don't broadcast or are too big to show."""
    result = broadcast_result(shapes)
    if result is None or math.prod(result) > limit:
        return None
    inputs = sample_inputs(shapes)
    explicit = inputs[0].expand(result)
    for tensor in inputs[1:]:
        explicit = explicit + tensor.expand(result)  # same shapes now: nothing left to broadcast
    implicit = inputs[0]
    for tensor in inputs[1:]:
        implicit = implicit + tensor
    return explicit, implicit
