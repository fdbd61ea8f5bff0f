"""Build the optimizer before or after `model.to(device)`? An experiment, not folklore.

`module.to()` changes each parameter in place (the same Parameter objects, new data), so an
optimizer built before it still holds the model's parameters. What can go wrong is state an
optimizer builds at construction: Adagrad makes its `sum` there, on the parameters' old device.
SGD's momentum and Adam's moments are made at the first step, next to the parameters.

Without a GPU the same experiment runs with a dtype as the stand-in target: `.to(torch.float64)`
changes parameters in place just like `.to("cuda")`, and state made too early keeps the old dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

OPTIMIZERS = {
    "SGD (momentum)": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "Adam": lambda params: torch.optim.Adam(params, lr=0.01),
    "Adagrad": lambda params: torch.optim.Adagrad(params, lr=0.1),
}
# Adam's and Adagrad's step counters live on the CPU on purpose (unless capturable=True): they
# are not per-parameter numbers, so they are left out when state is compared with its parameter.
COUNTERS = ("step",)


@dataclass(frozen=True)
class Placement:
    optimizer: str
    built: str  # "before .to()" or "after .to()"
    target: str  # what the model was moved to: a device, or the dtype stand-in
    parameters: str  # where/what the model's parameters are after .to()
    holds_model_parameters: bool  # the optimizer's params are the model's Parameter objects
    state: dict  # state name -> "device dtype" after two steps
    state_matches: bool  # every per-parameter state tensor is where its parameter is
    error: str | None  # the step's error, if the step failed


def stand_in_target():
    """The GPU when there is one; else float64, which .to() applies in place the same way."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.float64


def describe(tensor: torch.Tensor) -> str:
    return f"{tensor.device} {str(tensor.dtype).removeprefix('torch.')}"


def try_order(name: str, before: bool, target=None, seed: int = 0) -> Placement:
    """Build the optimizer before or after model.to(target), take two steps, look at its state."""
    target = stand_in_target() if target is None else target
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    make = OPTIMIZERS[name]
    if before:
        optimizer = make(model.parameters())
        model.to(target)
    else:
        model.to(target)
        optimizer = make(model.parameters())
    like = next(model.parameters())
    x = torch.randn(16, 6).to(like)  # the batch goes where the parameters are (device and dtype)
    y = torch.randn(16, 2).to(like)
    error = None
    try:
        for _ in range(2):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    except RuntimeError as failure:
        error = str(failure).splitlines()[0]
    held = [p for group in optimizer.param_groups for p in group["params"]]
    first_state = optimizer.state.get(held[0], {})
    matches = all(describe(value) == describe(param)
                  for param in held for key, value in optimizer.state.get(param, {}).items()
                  if torch.is_tensor(value) and key not in COUNTERS)
    return Placement(
        optimizer=name, built="before .to()" if before else "after .to()", target=str(target),
        parameters=describe(like),
        holds_model_parameters=all(a is b for a, b in zip(held, model.parameters(), strict=True)),
        state={key: describe(value) for key, value in first_state.items() if torch.is_tensor(value)},
        state_matches=matches and error is None, error=error)


def experiment(target=None) -> list[Placement]:
    """Every optimizer, built before and after the move."""
    return [try_order(name, before, target) for name in OPTIMIZERS for before in (True, False)]


def as_rows(placements: list[Placement]) -> list[dict]:
    return [{"optimizer": p.optimizer, "built": p.built, "parameters": p.parameters,
             "same Parameter objects": p.holds_model_parameters,
             "state after 2 steps": ", ".join(f"{k}: {v}" for k, v in p.state.items()) or "none",
             "state beside its parameter": p.state_matches, "error": p.error or ""}
            for p in placements]
