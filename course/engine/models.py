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

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        return cls(kind=str(values["kind"]), hidden=tuple(int(h) for h in values["hidden"]),
                   dropout=float(values["dropout"]))


def simple_mlp(hidden=(256, 128)) -> nn.Sequential:
    """Flatten, then Linear + ReLU per hidden layer; the output layer has no activation."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def improved_mlp(hidden=(256, 128), dropout=0.3) -> nn.Sequential:
    """Each hidden layer is Linear → BatchNorm → ReLU → Dropout; the output layer stays bare."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def small_cnn(dropout=0.3) -> nn.Sequential:
    """Two conv blocks and the improved MLP's classifier: a preview of the next series.

    Each conv block halves the image with stride 2 (a learned downsampling, where pooling would
    be a fixed one), so the costly work happens on 14x14 and 7x7 maps instead of 28x28: about
    ten times less CPU per epoch than 3x3 convs at full size followed by max-pooling.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, stride=2, padding=2), nn.BatchNorm2d(32), nn.ReLU(),   # 32 x 14 x 14
        nn.Conv2d(32, 48, 3, stride=2, padding=1), nn.BatchNorm2d(48), nn.ReLU(),  # 48 x 7 x 7
        nn.Flatten(),
        nn.Linear(48 * 7 * 7, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(128, 10),
    )


def build_model(config: ModelConfig) -> nn.Sequential:
    if config.kind == "mlp":
        return simple_mlp(config.hidden)
    if config.kind == "mlp-bn":
        return improved_mlp(config.hidden, config.dropout)
    if config.kind == "cnn":
        return small_cnn(config.dropout)
    raise ValueError(f"unknown model kind {config.kind!r}; choose one of {MODEL_KINDS}")


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters: what the optimizer receives."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
