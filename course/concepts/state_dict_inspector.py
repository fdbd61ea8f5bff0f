"""The plain calls of saving and loading, and what a model's and Adam's state_dict hold.

These functions are the lesson's code as it runs on the page: a state_dict file, then the
checkpoint dict (epoch, model, optimizer, loss) that is enough to resume.
"""

from __future__ import annotations

import torch
from torch import nn


def small_model_and_adam(steps: int, seed: int = 0) -> tuple[nn.Module, torch.optim.Adam]:
    """A 4-3-2 network after `steps` Adam steps on fixed random data."""
    generator = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.uniform_(-0.5, 0.5, generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    inputs = torch.randn(16, 4, generator=generator)
    targets = torch.randint(0, 2, (16,), generator=generator)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def save_weights(model: nn.Module, path) -> None:
    torch.save(model.state_dict(), path)


def load_weights(model: nn.Module, path) -> nn.Module:
    model.load_state_dict(torch.load(path, weights_only=True))
    return model


def save_checkpoint(path, model, optimizer, epoch: int, loss: float) -> None:
    torch.save({
        "epoch": epoch,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": loss,
    }, path)


def load_checkpoint(path, model, optimizer) -> tuple[int, float]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # a GPU file on a CPU
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"], checkpoint["loss"]


def model_rows(model: nn.Module) -> list[dict]:
    """model.state_dict(): one row per key, with the tensor's shape, dtype and size."""
    return [{"key": key, "shape": str(list(tensor.shape)), "dtype": str(tensor.dtype),
             "values": tensor.numel(), "bytes": tensor.numel() * tensor.element_size()}
            for key, tensor in model.state_dict().items()]


def optimizer_rows(model: nn.Module, optimizer: torch.optim.Optimizer) -> list[dict]:
    """optimizer.state_dict()['state']: per parameter, Adam's step count and its two averages."""
    names = [name for name, _ in model.named_parameters()]
    state = optimizer.state_dict()["state"]
    rows = []
    for index, name in enumerate(names):
        entry = state.get(index, {})
        rows.append({
            "index": index, "parameter": name,
            "step": int(entry["step"]) if "step" in entry else 0,
            "exp_avg shape": str(list(entry["exp_avg"].shape)) if "exp_avg" in entry else "(none yet)",
            "mean |exp_avg|": float(entry["exp_avg"].abs().mean()) if "exp_avg" in entry else 0.0,
            "mean exp_avg_sq": float(entry["exp_avg_sq"].mean()) if "exp_avg_sq" in entry else 0.0,
        })
    return rows


def param_group_settings(optimizer: torch.optim.Optimizer) -> dict:
    """optimizer.state_dict()['param_groups'][0] without the parameter list: lr, betas, ..."""
    group = dict(optimizer.state_dict()["param_groups"][0])
    group["params"] = f"{len(group['params'])} parameter indices"
    return {key: str(value) for key, value in group.items()}


def optimizer_state_size(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of Adam's saved tensors: two averages per weight, about twice the model."""
    return sum(value.numel() * value.element_size()
               for entry in optimizer.state_dict()["state"].values()
               for value in entry.values() if isinstance(value, torch.Tensor))
