"""The training loop before and after the DataLoader: same heartbeat, new instruments."""

from __future__ import annotations

import inspect

import torch
from torch import nn


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


def train_and_test(model, train_loader, test_loader, optimizer, epochs):
    """The MNIST project's whole loop: train an epoch, tally accuracy, test, repeat."""
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, epochs + 1):
        model.train()  # dropout on, BatchNorm uses each batch's statistics
        loss_sum, correct, seen = 0.0, 0, 0
        for images, labels in train_loader:
            outputs = model(images)
            loss = loss_fn(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += len(labels)

        model.eval()  # dropout off, BatchNorm uses its running averages
        test_correct, test_seen = 0, 0
        with torch.no_grad():
            for images, labels in test_loader:
                outputs = model(images)
                test_correct += (outputs.argmax(dim=1) == labels).sum().item()
                test_seen += len(labels)
        history.append({"epoch": epoch, "train_loss": loss_sum / seen,
                        "train_accuracy": correct / seen,
                        "test_accuracy": test_correct / test_seen})
    return history


def marked_source(function, other, marker: str = "+") -> str:
    """The function's source as a diff: `marker` on lines the other function does not have."""
    theirs = {line.strip() for line in inspect.getsource(other).splitlines()}
    marked = []
    for line in inspect.getsource(function).splitlines():
        marked.append(f"{' ' if line.strip() in theirs else marker} {line}")
    return "\n".join(marked)
