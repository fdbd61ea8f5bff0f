"""A small two-layer net with fixed numbers (chosen here: the seeds give no numbers), its
gradients by hand, the same by autograd, and gradcheck on the analytic gradient."""

from __future__ import annotations

import ast

import torch

from course.concepts import strict_compare


def inputs(dtype=torch.float32) -> dict[str, torch.Tensor]:
    return {
        "x": torch.tensor([[1.0, -2.0]], dtype=dtype),          # [1, 2]
        "W1": torch.tensor([[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]], dtype=dtype),  # [2, 3]
        "W2": torch.tensor([[1.0], [-2.0], [0.5]], dtype=dtype),  # [3, 1]
        "y": torch.tensor([[1.0]], dtype=dtype),
    }


def forward(x, W1, W2, y):
    z1 = x @ W1              # [1, 3]
    h = torch.relu(z1)       # [1, 3]
    out = h @ W2             # [1, 1]
    loss = ((out - y) ** 2).sum()
    return z1, h, out, loss


def by_hand(t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The chain rule, one intermediate at a time, output to inputs."""
    z1, h, out, loss = forward(t["x"], t["W1"], t["W2"], t["y"])
    d_out = 2 * (out - t["y"])            # dloss/dout  [1, 1]
    d_W2 = h.T @ d_out                    # [3, 1]
    d_h = d_out @ t["W2"].T               # [1, 3]
    d_z1 = d_h * (z1 > 0).float()         # relu passes the gradient where z1 > 0
    d_W1 = t["x"].T @ d_z1                # [2, 3]
    return {"out": d_out, "W2": d_W2, "h": d_h, "z1": d_z1, "W1": d_W1}


def by_autograd(t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    W1 = t["W1"].clone().requires_grad_()
    W2 = t["W2"].clone().requires_grad_()
    z1, h, out, loss = forward(t["x"], W1, W2, t["y"])
    for v in (z1, h, out):
        v.retain_grad()
    loss.backward()
    return {"out": out.grad, "W2": W2.grad, "h": h.grad, "z1": z1.grad, "W1": W1.grad}


def gradcheck_passes() -> bool:
    t = inputs(torch.float64)
    W1 = t["W1"].requires_grad_()
    W2 = t["W2"].requires_grad_()
    return torch.autograd.gradcheck(lambda a, b: forward(t["x"], a, b, t["y"])[3], (W1, W2))


# --- The learner's own derivation, judged per intermediate by a strict cmp() ------------------
# The table asks for these in backward order: output first, inputs last.
INTERMEDIATES = ("out", "W2", "h", "z1", "W1")


class DerivationError(ValueError):
    """A typed gradient that is not a (nested) list of numbers."""


def parse_derivation(text: str) -> torch.Tensor:
    """The learner's typed gradient, e.g. "[[-0.75]]", as a float32 tensor of exactly the shape
    typed: "[-0.75]" and "[[-0.75]]" are different answers. Numbers only, never eval."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError) as error:
        raise DerivationError(f"“{text.strip()}” is not a list of numbers like [[0.5, -1.0]].") \
            from error
    if isinstance(value, tuple):
        value = list(value)
    try:
        return torch.tensor(value, dtype=torch.float32)
    except (TypeError, ValueError) as error:
        raise DerivationError(f"“{text.strip()}” is not a list of numbers with equal-length "
                              "rows.") from error


def without_negative_zero(t: torch.Tensor) -> torch.Tensor:
    """-0.0 + 0.0 is 0.0: relu's mask times a negative gradient gives -0.0, which equals 0.0
    but reads like a different number in a table."""
    return t + 0.0


def readable(t: torch.Tensor) -> str:
    """A gradient as the list a learner would type, with -0.0 shown as 0.0."""
    return str(without_negative_zero(t).tolist())


def cmp_table(typed: dict[str, torch.Tensor | None], expected: dict[str, torch.Tensor],
              atol: float = 1e-4, rtol: float = 1e-3) -> list[dict]:
    """Karpathy's cmp(), made strict: per intermediate exact / close / max difference, and a
    wrong shape as its own verdict (no broadcasting [3] against [1, 3])."""
    rows = []
    for name in INTERMEDIATES:
        want = expected[name]
        got = typed.get(name)
        if got is None:
            rows.append({"gradient of": name, "expected shape": str(list(want.shape)),
                         "your shape": "", "verdict": "not typed yet", "max difference": None,
                         "message": ""})
            continue
        result = strict_compare.compare(got, want, atol=atol, rtol=rtol)
        rows.append({"gradient of": name, "expected shape": str(list(want.shape)),
                     "your shape": str(list(got.shape)), "verdict": result.verdict,
                     "max difference": result.max_difference, "message": result.message})
    return rows
