"""The MNIST project's setup written the textbook way: the pieces the training loop needs."""

from __future__ import annotations

from torch import nn, optim
from torch.utils.data import DataLoader, Dataset

from course.engine.models import improved_mlp, simple_mlp


def textbook_setup(train_data: Dataset, test_data: Dataset, improved: bool = False):
    """What train.Run builds for the course's recipe, minus its two speed-ups (fused Adam and
    fast_loader): model, loss, optimizer and both loaders."""
    if improved:
        model = improved_mlp(dropout=0.3)
        optimizer = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)  # L2 penalty
    else:
        model = simple_mlp()
        optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # raw logits + integer labels
    train_loader = DataLoader(train_data, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_data, batch_size=1000, shuffle=False)
    return model, loss_fn, optimizer, train_loader, test_loader
