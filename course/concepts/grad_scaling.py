"""Why fp16 needs a GradScaler, measured: small gradients vanish when cast to float16 unless the
loss is scaled up first; the scaler finds a scale by skipping the steps that overflow; and its
state belongs in the checkpoint.

The current spelling is `torch.amp.GradScaler("cuda")` (or "cpu"); old code writes
`torch.cuda.amp.GradScaler()`, a deprecated alias of the same class.
"""

from __future__ import annotations

import io
import math

import torch
from torch import nn

FP16_SMALLEST = 2.0 ** -24  # the smallest subnormal float16: anything under about half of it is 0
FP16_SMALLEST_NORMAL = 2.0 ** -14  # below this float16 keeps fewer significant bits
FP16_LARGEST = 65504.0  # above this a float16 is inf: the scaler's "overflow"


def deep_sigmoid_net(width: int = 128, depth: int = 4, inputs: int = 784) -> nn.Module:
    """A deep sigmoid MLP: the classic source of tiny gradients in its first layers."""
    layers = []
    for _ in range(depth - 1):
        layers += [nn.Linear(inputs, width), nn.Sigmoid()]
        inputs = width
    return nn.Sequential(*layers, nn.Linear(inputs, 10))


def real_gradients(steps: int = 20, seed: int = 0) -> torch.Tensor:
    """Every parameter's gradient (fp32, flattened) after a short real training run."""
    torch.manual_seed(seed)
    model = deep_sigmoid_net(width=96, inputs=256)
    x, y = torch.randn(128, 256), torch.randint(0, 10, (128,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def through_fp16(gradients: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """What the gradients become when the backward pass holds them in float16: multiplied by
    the scale, rounded to float16, divided back (GradScaler's unscale) in float32."""
    return (gradients * scale).half().float() / scale


def fp16_damage(gradients: torch.Tensor, scale: float = 1.0) -> dict:
    """How many gradients float16 turns to zero, to inf, or rounds coarsely, at this scale."""
    after = through_fp16(gradients, scale)
    nonzero = gradients != 0
    finite = torch.isfinite(after)
    flushed = (after == 0) & nonzero
    relative = ((after - gradients).abs() / gradients.abs())[nonzero & finite]
    return {"scale": scale, "gradients": gradients.numel(),
            "became zero": int(flushed.sum()), "became inf": int((~finite).sum()),
            "below float16's normal range": int((gradients.abs() * scale
                                                 < FP16_SMALLEST_NORMAL)[nonzero].sum()),
            "median relative error": float(relative.median()) if relative.numel() else math.nan}


def log2_histogram(values: torch.Tensor, low: int = -40, high: int = 4) -> dict:
    """Counts of log2|value| in unit bins from low to high, with zeros and infs counted apart."""
    finite = values[torch.isfinite(values) & (values != 0)]
    exponents = finite.abs().log2().clamp(low, high - 1e-6)
    counts = torch.histc(exponents, bins=high - low, min=low, max=high)
    return {"edges": list(range(low, high + 1)), "counts": counts.long().tolist(),
            "zeros": int((values == 0).sum()), "infs": int((~torch.isfinite(values)).sum())}


def scale_history(steps: int = 60, init_scale: float = 2.0 ** 24, growth_interval: int = 8,
                  device: str = "cpu", seed: int = 0) -> list[dict]:
    """Train with fp16 autocast and a GradScaler; per step the scale it used and whether it
    skipped the step (an inf or NaN gradient: the scale then halves)."""
    torch.manual_seed(seed)
    model = deep_sigmoid_net(width=32, depth=3, inputs=32).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler(device, init_scale=init_scale, growth_interval=growth_interval)
    x, y = torch.randn(64, 32, device=device), torch.randint(0, 10, (64,), device=device)
    history = []
    for step in range(steps):
        optimizer.zero_grad()
        with torch.autocast(device_type=device, dtype=torch.float16):
            loss = nn.functional.cross_entropy(model(x), y)
        scale = scaler.get_scale()
        before = model[0].weight.detach().clone()
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # skipped when the unscaled gradients hold an inf or a NaN
        scaler.update()
        skipped = scaler.get_scale() < scale  # update() halves the scale only after an overflow
        assert skipped == torch.equal(before, model[0].weight), "a skipped step leaves weights"
        history.append({"step": step, "scale": scale, "skipped": skipped, "loss": loss.item()})
    return history


def checkpoint(model: nn.Module, optimizer, scaler, epoch: int) -> dict:
    """Everything needed to resume mixed-precision training: the scaler's state included."""
    return {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict()}


def resume_scaler(saved: bytes, device: str = "cpu"):
    """A fresh GradScaler with the saved scale and growth tracker loaded from a checkpoint."""
    state = torch.load(io.BytesIO(saved), weights_only=True)
    scaler = torch.amp.GradScaler(device)
    scaler.load_state_dict(state["scaler"])
    return scaler, state


def saved_bytes(state: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()
