"""The course's models, built from a small config so a run can be described in plain values."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

MODEL_KINDS = ("mlp", "mlp-bn", "cnn")
MODEL_LABELS = {
    "mlp": "Simple MLP (784-256-128-10)",
    "mlp-bn": "Improved MLP (BatchNorm + Dropout)",
    "cnn": "Small CNN (preview of convolutions)",
}
# The same models in a run's label ("improved MLP · lr=0.01").
MODEL_NAMES = {"mlp": "simple MLP", "mlp-bn": "improved MLP", "cnn": "small CNN"}
# The lesson's recipe: the improved MLP trains with L2 regularization (Adam's weight_decay=1e-4).
RECIPE_WEIGHT_DECAY = {"mlp": 0.0, "mlp-bn": 1e-4, "cnn": 0.0}


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "mlp"
    hidden: tuple[int, ...] = (256, 128)
    dropout: float = 0.3
    batch_norm: bool = True  # the improved MLP's and the CNN's BatchNorm layers (off: none)
    channels: tuple[int, ...] = (32, 48)  # the small CNN's two conv blocks

    def to_dict(self) -> dict:
        """Plain values; batch_norm and channels only when changed, so older dicts stay as they were."""
        values = {**asdict(self), "hidden": list(self.hidden), "channels": list(self.channels)}
        for name, default in (("batch_norm", True), ("channels", [32, 48])):
            if values[name] == default:
                del values[name]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        return cls(kind=str(values["kind"]), hidden=tuple(int(h) for h in values["hidden"]),
                   dropout=float(values["dropout"]),
                   batch_norm=bool(values.get("batch_norm", True)),
                   channels=tuple(int(c) for c in values.get("channels", (32, 48))))


def simple_mlp(hidden=(256, 128)) -> nn.Sequential:
    """Flatten, then Linear + ReLU per hidden layer; the output layer has no activation."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def improved_mlp(hidden=(256, 128), dropout=0.3, batch_norm=True) -> nn.Sequential:
    """Each hidden layer is Linear → BatchNorm → ReLU → Dropout; the output layer stays bare.

    `batch_norm=False` leaves out the BatchNorm layers (Linear → ReLU → Dropout), so an
    experiment can switch each regularizer on and off by itself.
    """
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        norm = [nn.BatchNorm1d(size)] if batch_norm else []
        layers += [nn.Linear(width, size), *norm, nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def small_cnn(dropout=0.3, channels=(32, 48), batch_norm=True) -> nn.Sequential:
    """Two conv blocks and the improved MLP's classifier: a preview of the next series.

    Each conv block halves the image with stride 2 (a learned downsampling, where pooling would
    be a fixed one), so the costly work happens on 14x14 and 7x7 maps instead of 28x28: about
    ten times less CPU per epoch than 3x3 convs at full size followed by max-pooling.
    """
    first, second = channels

    def norm(layer, size):
        return [layer(size)] if batch_norm else []

    return nn.Sequential(
        nn.Conv2d(1, first, 5, stride=2, padding=2), *norm(nn.BatchNorm2d, first), nn.ReLU(),
        nn.Conv2d(first, second, 3, stride=2, padding=1), *norm(nn.BatchNorm2d, second),
        nn.ReLU(),                                               # second x 7 x 7
        nn.Flatten(),
        nn.Linear(second * 7 * 7, 128), *norm(nn.BatchNorm1d, 128), nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(128, 10),
    )


def build_model(config: ModelConfig) -> nn.Sequential:
    if config.kind == "mlp":
        return simple_mlp(config.hidden)
    if config.kind == "mlp-bn":
        return improved_mlp(config.hidden, config.dropout, config.batch_norm)
    if config.kind == "cnn":
        return small_cnn(config.dropout, config.channels, config.batch_norm)
    raise ValueError(f"unknown model kind {config.kind!r}; choose one of {MODEL_KINDS}")


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters: what the optimizer receives."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
