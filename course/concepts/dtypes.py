"""dtypes: how many bytes each element takes, what a shape costs, and which dtype an expression
gives (`torch.result_type`), including the float64 that NumPy hands to an nn.Linear."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

DTYPES = {
    "float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32,
    "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}
USED_FOR = {
    "float32": "PyTorch's default float: weights, activations",
    "float64": "NumPy's default float; rarely needed in deep learning",
    "float16": "mixed precision on GPUs",
    "bfloat16": "mixed precision, float32's range with fewer digits",
    "int64": "PyTorch's default integer: class labels, indices",
    "int32": "smaller indices",
    "int8": "quantised models",
    "uint8": "raw image pixels 0-255 (MNIST)",
    "bool": "masks",
}


def element_size(dtype: torch.dtype) -> int:
    """Bytes per element, asked of PyTorch itself."""
    return torch.empty(0, dtype=dtype).element_size()


def total_bytes(shape: tuple[int, ...], dtype: torch.dtype) -> int:
    """What a tensor of this shape and dtype needs for its elements, without allocating it."""
    return element_size(dtype) * math.prod(shape)


def readable_bytes(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n:,} bytes"


def dtype_table(shape: tuple[int, ...]) -> list[dict]:
    """One row per dtype: its element size and what `shape` costs in it."""
    return [{"dtype": f"torch.{name}", "bytes per element": element_size(dtype),
             f"memory for {tuple(shape)}": readable_bytes(total_bytes(shape, dtype)),
             "used for": USED_FOR[name]}
            for name, dtype in DTYPES.items()]


def float64_into_linear() -> tuple[str, str]:
    """The trap: a NumPy array (float64) straight into nn.Linear (float32 weights).

    Returns PyTorch's real error message and the output dtype once the input is cast with .float().
    """
    layer = torch.nn.Linear(3, 2)
    x = torch.from_numpy(np.ones((1, 3)))  # float64, NumPy's default
    try:
        layer(x)
    except RuntimeError as error:
        message = str(error)
    else:
        raise AssertionError("nn.Linear accepted a float64 input")
    return message, str(layer(x.float()).dtype)


@dataclass(frozen=True)
class ResultTypeCard:
    expression: str
    run: Callable[[], torch.Tensor]  # the expression itself, evaluated on demand
    note: str


CARDS = {card.expression: card for card in (
    ResultTypeCard("torch.tensor([1, 2, 3]) + 0.5", lambda: torch.tensor([1, 2, 3]) + 0.5,
                   "An integer tensor meets a Python float: the result takes PyTorch's default "
                   "float, float32 (NumPy would say float64)."),
    ResultTypeCard("torch.ones(3) + torch.ones(3, dtype=torch.float64)",
                   lambda: torch.ones(3) + torch.ones(3, dtype=torch.float64),
                   "Two tensors with dimensions: the wider dtype wins."),
    ResultTypeCard("torch.ones(3) + torch.tensor(2.0, dtype=torch.float64)",
                   lambda: torch.ones(3) + torch.tensor(2.0, dtype=torch.float64),
                   "A 0-dimensional tensor counts like a Python number: it does not widen a "
                   "tensor of the same kind (float), so float32 stays."),
    ResultTypeCard("torch.tensor([1, 2], dtype=torch.uint8) + torch.tensor([1, 2], dtype=torch.int8)",
                   lambda: torch.tensor([1, 2], dtype=torch.uint8) + torch.tensor([1, 2], dtype=torch.int8),
                   "Neither uint8 nor int8 holds the other's range: PyTorch picks int16."),
    ResultTypeCard("torch.tensor([True, False]) + 1", lambda: torch.tensor([True, False]) + 1,
                   "bool meets a Python int: the result is PyTorch's default integer, int64."),
    ResultTypeCard("torch.arange(3) / 2", lambda: torch.arange(3) / 2,
                   "True division always gives a float, even int64 / int: float32."),
)}
DTYPE_CHOICES = ["torch.int16", "torch.int64", "torch.float32", "torch.float64"]


def result_type(expression: str) -> str:
    """The dtype PyTorch really gives for a card, by running its expression."""
    return str(CARDS[expression].run().dtype)
