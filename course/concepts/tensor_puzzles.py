"""Tensor puzzles with a strict checker: each answer is graded on value, shape, dtype and device
separately (course.concepts.strict_compare), so tensor(6), tensor([6]) and tensor([[6]]) are three
different answers. Beside it, what a broadcasting checker (`torch.allclose`) would have said.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import torch

from course.concepts.strict_compare import Comparison, cell_diff, compare


@dataclass(frozen=True)
class Puzzle:
    key: str
    title: str
    task: str
    inputs: Callable[[], dict]  # fresh input tensors, by name
    solution: Callable[..., torch.Tensor]
    attempts: dict[str, Callable[..., torch.Tensor]]  # what a learner might write, by its code


@dataclass(frozen=True)
class Grade:
    attempt: str
    got: torch.Tensor | None
    expected: torch.Tensor
    comparison: Comparison | None  # None when the attempt raised
    error: str | None  # PyTorch's message when it raised
    same_values_any_shape: bool  # the numbers match if shape is ignored
    broadcasting_checker_accepts: bool  # torch.allclose would have said yes

    @property
    def accepted(self) -> bool:
        return self.comparison is not None and self.comparison.ok

    def checks(self) -> dict[str, bool | None]:
        """value, shape, dtype, device graded separately (None: could not be graded)."""
        if self.comparison is None:
            return {"value": None, "shape": None, "dtype": None, "device": None}
        c = self.comparison
        return {"value": c.values_ok if c.shape_ok else self.same_values_any_shape,
                "shape": c.shape_ok, "dtype": c.dtype_ok, "device": c.device_ok}


PUZZLES = {p.key: p for p in (
    Puzzle("total", "Sum as a one-element vector",
           "Return the sum of `x = torch.arange(4)` as a tensor of shape `(1,)`: `tensor([6])`.",
           lambda: {"x": torch.arange(4)},
           lambda x: x.sum(dim=0, keepdim=True),
           {"x.sum()": lambda x: x.sum(),
            "x.sum(dim=0, keepdim=True)": lambda x: x.sum(dim=0, keepdim=True),
            "x.sum().reshape(1, 1)": lambda x: x.sum().reshape(1, 1),
            "x.float().sum(dim=0, keepdim=True)": lambda x: x.float().sum(dim=0, keepdim=True)}),
    Puzzle("outer", "Outer sum",
           "Given `a = torch.arange(3)` and `b = torch.arange(4)`, return the `(3, 4)` table "
           "`out[i, j] = a[i] + b[j]`.",
           lambda: {"a": torch.arange(3), "b": torch.arange(4)},
           lambda a, b: a[:, None] + b,
           {"a + b": lambda a, b: a + b,
            "a[:, None] + b": lambda a, b: a[:, None] + b,
            "a[None, :] + b[:, None]": lambda a, b: a[None, :] + b[:, None],
            "(a[:, None] + b).float()": lambda a, b: (a[:, None] + b).float()}),
    Puzzle("centre", "Centre each row",
           "Subtract each row's mean from `x = torch.arange(6.).reshape(2, 3)`, so every row "
           "averages 0.",
           lambda: {"x": torch.arange(6.0).reshape(2, 3)},
           lambda x: x - x.mean(dim=1, keepdim=True),
           {"x - x.mean(dim=1)": lambda x: x - x.mean(dim=1),
            "x - x.mean(dim=1, keepdim=True)": lambda x: x - x.mean(dim=1, keepdim=True),
            "x - x.mean(dim=0)": lambda x: x - x.mean(dim=0),
            "x - x.mean()": lambda x: x - x.mean()}),
    Puzzle("eye", "Identity from arange",
           "Build the float32 identity matrix of size `n = 3` with `torch.arange` and "
           "broadcasting (no `torch.eye`).",
           lambda: {"n": 3},
           lambda n: torch.eye(n),
           {"torch.arange(n)[:, None] == torch.arange(n)":
                lambda n: torch.arange(n)[:, None] == torch.arange(n),
            "(torch.arange(n)[:, None] == torch.arange(n)).float()":
                lambda n: (torch.arange(n)[:, None] == torch.arange(n)).float(),
            "torch.ones(n)": lambda n: torch.ones(n),
            "(torch.arange(n)[:, None] - torch.arange(n) == 0).long()":
                lambda n: (torch.arange(n)[:, None] - torch.arange(n) == 0).long()}),
)}


def _has_data(*tensors: torch.Tensor) -> bool:
    """Meta tensors have a shape but no values to compare."""
    return all(t.device.type != "meta" for t in tensors)


def broadcasting_checker(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """What the famous checkers do: torch.allclose, which broadcasts and casts."""
    if not _has_data(got, expected):
        return False
    try:
        return bool(torch.allclose(got.detach().cpu().double(), expected.detach().cpu().double()))
    except RuntimeError:
        return False


def same_values_any_shape(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """The numbers agree once both are flattened: right value, perhaps the wrong shape."""
    if not _has_data(got, expected):
        return False
    a, b = got.detach().cpu().double().flatten(), expected.detach().cpu().double().flatten()
    return a.shape == b.shape and bool(torch.allclose(a, b))


def grade_tensor(got, expected: torch.Tensor, attempt: str = "your answer") -> Grade:
    """Grade any answer against the expected tensor, strictly."""
    if not isinstance(got, torch.Tensor):
        return Grade(attempt, None, expected, compare(got, expected), None, False, False)
    return Grade(attempt, got, expected, compare(got, expected), None,
                 same_values_any_shape(got, expected), broadcasting_checker(got, expected))


def grade(puzzle_key: str, attempt: str) -> Grade:
    """Run one attempt on the puzzle's inputs and grade it against the reference solution."""
    puzzle = PUZZLES[puzzle_key]
    expected = puzzle.solution(**puzzle.inputs())
    try:
        got = puzzle.attempts[attempt](**puzzle.inputs())
    except RuntimeError as error:
        return Grade(attempt, None, expected, None, str(error), False, False)
    return grade_tensor(got, expected, attempt)


def diff_rows(result: Grade) -> list[dict]:
    """The cell-by-cell table when the shapes agree; empty otherwise."""
    if result.got is None or tuple(result.got.shape) != tuple(result.expected.shape):
        return []
    return cell_diff(result.got, result.expected)


def solution_source(puzzle_key: str) -> str:
    """The reference solution's code, read from the function itself."""
    source = inspect.getsource(PUZZLES[puzzle_key].solution).strip()
    return source[source.index("lambda"):].rstrip(",")
