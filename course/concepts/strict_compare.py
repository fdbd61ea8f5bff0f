"""A strict comparison of two tensors: shape, dtype and device are checked before any value.

The well-known puzzle checkers compare with broadcasting, so tensor(6), tensor([6]) and
tensor([[6]]) all pass for each other. Here they are three different shapes: the learner's
answer must be the tensor that was asked for, not one that happens to broadcast to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

VERDICTS = ("exact", "close", "different", "wrong shape", "wrong dtype", "wrong device",
            "not a tensor")
MAX_CELLS = 100


@dataclass(frozen=True)
class Comparison:
    verdict: str
    shape_ok: bool
    dtype_ok: bool
    device_ok: bool
    values_ok: bool
    max_difference: float | None
    message: str

    @property
    def ok(self) -> bool:
        """Exact or close: the answer is accepted."""
        return self.verdict in ("exact", "close")


def _max_difference(got: torch.Tensor, expected: torch.Tensor) -> float:
    if got.numel() == 0:
        return 0.0
    if got.dtype == torch.bool or expected.dtype == torch.bool:
        return float((got.cpu() != expected.cpu()).any())
    diff = (got.detach().cpu().double() - expected.detach().cpu().double()).abs()
    both_nan = torch.isnan(got.detach().cpu().double()) & torch.isnan(
        expected.detach().cpu().double())
    diff = torch.where(both_nan, torch.zeros_like(diff), diff)
    diff = torch.nan_to_num(diff, nan=float("inf"))
    return float(diff.max())


def compare(got, expected, *, atol: float = 1e-6, rtol: float = 1e-5) -> Comparison:
    """Shape, dtype, device, then values; never broadcasts. The first failing check names it."""
    if not isinstance(got, torch.Tensor):
        return Comparison("not a tensor", False, False, False, False, None,
                          f"Expected a tensor, got a {type(got).__name__}.")
    if not isinstance(expected, torch.Tensor):
        expected = torch.as_tensor(expected)
    shape_ok = tuple(got.shape) == tuple(expected.shape)
    dtype_ok = got.dtype == expected.dtype
    device_ok = got.device.type == expected.device.type
    if shape_ok and "meta" not in (got.device.type, expected.device.type):
        max_diff = _max_difference(got, expected)
        a, b = got.detach().cpu(), expected.detach().cpu()
        exact = bool(torch.equal(a.to(b.dtype), b)) if a.dtype != b.dtype else bool(
            torch.equal(a, b) or (a.is_floating_point() and torch.equal(
                torch.nan_to_num(a, nan=0.0), torch.nan_to_num(b, nan=0.0))
                and torch.equal(torch.isnan(a), torch.isnan(b))))
        if exact:
            values_ok = True
        elif a.is_floating_point() or b.is_floating_point() or a.is_complex():
            values_ok = bool(torch.allclose(a.double(), b.double(), atol=atol, rtol=rtol,
                                            equal_nan=True))
        else:
            values_ok = False
    else:
        max_diff, exact, values_ok = None, False, False  # no shared shape (or no data)
    if not shape_ok:
        verdict = "wrong shape"
        message = (f"Shape {tuple(got.shape)} but {tuple(expected.shape)} was expected; "
                   "no broadcasting is allowed here.")
    elif not dtype_ok:
        verdict = "wrong dtype"
        message = f"dtype {got.dtype} but {expected.dtype} was expected."
    elif not device_ok:
        verdict = "wrong device"
        message = f"On device {got.device} but {expected.device} was expected."
    elif exact:
        verdict, message = "exact", "Exactly right: same shape, dtype, device and values."
    elif values_ok:
        verdict = "close"
        message = f"Right within tolerance (largest difference {max_diff:.3g})."
    else:
        verdict = "different"
        message = f"Same shape, dtype and device, but values differ (largest difference {max_diff:.3g})."
    return Comparison(verdict, shape_ok, dtype_ok, device_ok, values_ok, max_diff, message)


def cell_diff(got: torch.Tensor, expected: torch.Tensor, *, atol: float = 1e-6,
              rtol: float = 1e-5, limit: int = MAX_CELLS) -> list[dict]:
    """Cell-by-cell rows (index, got, expected, equal) for same-shaped tensors, at most `limit`."""
    if tuple(got.shape) != tuple(expected.shape):
        raise ValueError(f"cell_diff needs equal shapes, got {tuple(got.shape)} "
                         f"and {tuple(expected.shape)}")
    a = got.detach().cpu().reshape(-1)
    b = expected.detach().cpu().reshape(-1)
    shape = tuple(got.shape)
    rows = []
    for flat in range(min(a.numel(), limit)):
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape)) if shape else ()
        x, y = a[flat].item(), b[flat].item()
        if isinstance(x, float) or isinstance(y, float):
            equal = bool(torch.isclose(torch.tensor(float(x), dtype=torch.float64),
                                       torch.tensor(float(y), dtype=torch.float64),
                                       atol=atol, rtol=rtol, equal_nan=True))
        else:
            equal = x == y
        rows.append({"index": index, "got": x, "expected": y, "equal": equal})
    return rows
