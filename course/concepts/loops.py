"""The training loop before and after the DataLoader: same heartbeat, new instruments."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader


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


def run_both_loops(dataset, lr=0.05, full_batch_steps=200, loader_epochs=20,
                   batch_size=8):
    """A fresh nn.Linear trained each way, both judged alike: loss on all data."""
    results = {}
    for name in ("raw tensors", "DataLoader"):
        torch.manual_seed(0)  # the same starting weights for both
        model = nn.Linear(1, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        if name == "raw tensors":
            train_on_tensors(model, dataset.x, dataset.y, nn.MSELoss(), optimizer,
                             full_batch_steps)
            updates = full_batch_steps
        else:
            loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                generator=torch.Generator().manual_seed(0))
            train_on_dataloader(model, loader, nn.MSELoss(), optimizer,
                                loader_epochs)
            updates = loader_epochs * len(loader)
        with torch.no_grad():
            full_loss = nn.MSELoss()(model(dataset.x), dataset.y).item()
        results[name] = {"updates": updates,
                         f"loss on all {len(dataset)} points": round(full_loss, 4),
                         "w": round(model.weight.item(), 3),
                         "b": round(model.bias.item(), 3)}
    return results


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
