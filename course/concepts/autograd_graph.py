"""The learner's expression as a real autograd graph: built from a few safe expressions (never
eval), walked along grad_fn.next_functions, drawn as DOT with each node's value and gradient."""

from __future__ import annotations

from dataclasses import dataclass

import torch

# name -> (formula shown, input names). Each builder returns named tensors in the order computed.
EXPRESSIONS = {
    "L = (a·b + c)·f": ("e = a*b; d = e + c; L = d*f", ("a", "b", "c", "f")),
    "y = tanh(w·x + b)": ("n = w*x; z = n + b; y = tanh(z)", ("w", "x", "b")),
    "L = (a + b)·(a - b)": ("s = a + b; t = a - b; L = s*t", ("a", "b")),
}
DEFAULTS = {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0, "w": 0.5, "x": 1.5}


def build(expression: str, inputs: dict[str, float]) -> dict[str, torch.Tensor]:
    """Leaves with requires_grad, intermediates kept with retain_grad (so their .grad is filled)."""
    _, names = EXPRESSIONS[expression]
    t = {n: torch.tensor(float(inputs[n]), requires_grad=True) for n in names}
    if expression == "L = (a·b + c)·f":
        t["e"] = t["a"] * t["b"]
        t["d"] = t["e"] + t["c"]
        t["L"] = t["d"] * t["f"]
    elif expression == "y = tanh(w·x + b)":
        t["n"] = t["w"] * t["x"]
        t["z"] = t["n"] + t["b"]
        t["y"] = torch.tanh(t["z"])
    else:
        t["s"] = t["a"] + t["b"]
        t["t"] = t["a"] - t["b"]
        t["L"] = t["s"] * t["t"]
    for n, v in t.items():
        if n not in names:
            v.retain_grad()
    return t


@dataclass
class Node:
    name: str          # the tensor's name in the expression
    op: str            # grad_fn class name, or "leaf"
    value: float
    grad: float | None
    shape: tuple
    parents: list[str]  # names of the tensors this one was computed from


def walk(tensors: dict[str, torch.Tensor]) -> list[Node]:
    """Nodes from the output back to the inputs (reverse topological order), following the real
    grad_fn.next_functions chain; AccumulateGrad nodes are the leaves (their .variable)."""
    by_fn = {v.grad_fn: n for n, v in tensors.items() if v.grad_fn is not None}
    by_leaf = {id(v): n for n, v in tensors.items() if v.grad_fn is None}
    out_name = list(tensors)[-1]

    def parents_of(fn) -> list[str]:
        names = []
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            if type(nxt).__name__ == "AccumulateGrad":
                names.append(by_leaf[id(nxt.variable)])
            else:
                names.append(by_fn[nxt])
        return names

    order, seen = [], set()

    def visit(name):  # post-order DFS, reversed below: every node before its parents
        if name in seen:
            return
        seen.add(name)
        fn = tensors[name].grad_fn
        for p in (parents_of(fn) if fn is not None else []):
            visit(p)
        order.append(name)

    visit(out_name)
    nodes = []
    for name in reversed(order):
        v = tensors[name]
        fn = v.grad_fn
        grad = v.grad.item() if v.grad is not None else None
        nodes.append(Node(name, type(fn).__name__ if fn else "leaf", v.item(), grad,
                          tuple(v.shape), parents_of(fn) if fn else []))
    return nodes


def run_backward(expression: str, inputs: dict[str, float]) -> list[Node]:
    tensors = build(expression, inputs)
    list(tensors.values())[-1].backward()
    return walk(tensors)


def to_dot(nodes: list[Node], steps_shown: int | None = None) -> str:
    """DOT text: a box per tensor with value and (once `steps_shown` reaches it) its gradient."""
    shown = len(nodes) if steps_shown is None else steps_shown
    lines = ["digraph G {", "rankdir=LR; pad=0.3; nodesep=0.2;", 'node [shape=record, fontname="Helvetica"];']
    for i, n in enumerate(nodes):
        grad = f"{n.grad:.4g}" if (i < shown and n.grad is not None) else "?"
        colour = "#fde68a" if i == shown - 1 else ("#bbf7d0" if i < shown else "#f3f4f6")
        shape = "×".join(map(str, n.shape)) or "scalar"
        # rankdir=LR stacks a record's fields top to bottom: compact boxes, readable text
        lines.append(f'"{n.name}" [label="{n.name} | {n.op} | data {n.value:.4g} | '
                     f'grad {grad} | shape {shape}", style=filled, fillcolor="{colour}"];')
        for p in n.parents:
            lines.append(f'"{p}" -> "{n.name}";')
    lines.append("}")
    return "\n".join(lines)


def hand_gradients(expression: str, inputs: dict[str, float]) -> dict[str, float]:
    """The chain rule by hand, as in micrograd, for the leaves of each expression."""
    v = {k: float(x) for k, x in inputs.items()}
    if expression == "L = (a·b + c)·f":
        d = v["a"] * v["b"] + v["c"]
        return {"a": v["f"] * v["b"], "b": v["f"] * v["a"], "c": v["f"], "f": d}
    if expression == "y = tanh(w·x + b)":
        y = torch.tanh(torch.tensor(v["w"] * v["x"] + v["b"])).item()
        local = 1 - y ** 2
        return {"w": local * v["x"], "x": local * v["w"], "b": local}
    return {"a": 2 * v["a"], "b": -2 * v["b"]}
