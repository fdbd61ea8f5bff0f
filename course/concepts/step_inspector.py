"""One training iteration in four clicks (forward, loss, backward, step) on a real nn.Module.

Each stage changes one thing: forward makes the output, loss makes one number, backward fills
every parameter's .grad, step moves every parameter. Nothing else moves, and `changes` proves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

STAGES = ("forward", "loss", "backward", "step")


def inspector_model(seed: int = 0) -> nn.Sequential:
    """A tiny real network, 1 -> 3 -> 1, small enough to show every number."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1))


def snapshot(model: nn.Module) -> dict[str, dict]:
    """Each parameter's value and .grad (None before backward), copied."""
    return {name: {"value": p.detach().clone(),
                   "grad": None if p.grad is None else p.grad.clone()}
            for name, p in model.named_parameters()}


@dataclass
class Inspector:
    """The heartbeat one stage at a time, on 4 points of y = 2x + 1."""

    lr: float = 0.1
    seed: int = 0
    stage: int = 0  # index into STAGES of the next stage to run
    iteration: int = 0
    output: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    before: dict = field(default_factory=dict)

    def __post_init__(self):
        self.model = inspector_model(self.seed)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.lr)
        self.x = torch.tensor([[-1.0], [0.0], [0.5], [1.0]])
        self.y = 2 * self.x + 1
        self.before = snapshot(self.model)

    @property
    def next_stage(self) -> str:
        return STAGES[self.stage]

    def advance(self) -> str:
        """Run the next stage and return its name; after step, the next iteration starts."""
        name = STAGES[self.stage]
        self.before = snapshot(self.model)
        if name == "forward":
            self.optimizer.zero_grad()       # clear the last iteration's .grad first
            self.output = self.model(self.x)
            self.loss = None
        elif name == "loss":
            self.loss = nn.functional.mse_loss(self.output, self.y)
        elif name == "backward":
            self.loss.backward()
        else:
            self.optimizer.step()
            self.iteration += 1
        self.stage = (self.stage + 1) % len(STAGES)
        return name

    def changes(self) -> dict[str, dict[str, bool]]:
        """Per parameter: did the last stage change its value, did it change its .grad?"""
        after = snapshot(self.model)
        result = {}
        for name, old in self.before.items():
            new = after[name]
            grad_changed = (old["grad"] is None) != (new["grad"] is None) or (
                old["grad"] is not None and not torch.equal(old["grad"], new["grad"]))
            result[name] = {"value": not torch.equal(old["value"], new["value"]),
                            "grad": grad_changed}
        return result

    def table(self) -> list[dict]:
        """Every parameter: shape, value, .grad and how much the last stage moved it."""
        rows = []
        for name, p in self.model.named_parameters():
            moved = (p.detach() - self.before[name]["value"]).abs().max().item()
            rows.append({"parameter": name, "shape": str(tuple(p.shape)),
                         "value": _short(p.detach()),
                         ".grad": "None" if p.grad is None else _short(p.grad),
                         "moved by the last stage": f"{moved:.4f}"})
        return rows


def _short(t: torch.Tensor) -> str:
    values = [f"{v:+.3f}" for v in t.flatten().tolist()]
    return "[" + ", ".join(values) + "]"
