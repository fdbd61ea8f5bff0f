"""The training loop before and after the DataLoader: same heartbeat, new instruments."""

from __future__ import annotations

import inspect


def train_on_tensors(model, x, y, loss_fn, optimizer, epochs):
    for epoch in range(epochs):
        predictions = model(x)
        loss = loss_fn(predictions, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def train_on_dataloader(model, train_loader, loss_fn, optimizer, epochs):
    for epoch in range(epochs):
        for x, y in train_loader:
            predictions = model(x)
            loss = loss_fn(predictions, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return loss.item()


def marked_source(function, other, marker: str = "+") -> str:
    """The function's source as a diff: `marker` on lines the other function does not have."""
    theirs = {line.strip() for line in inspect.getsource(other).splitlines()}
    marked = []
    for line in inspect.getsource(function).splitlines():
        marked.append(f"{' ' if line.strip() in theirs else marker} {line}")
    return "\n".join(marked)
