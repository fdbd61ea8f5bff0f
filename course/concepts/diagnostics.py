"""Diagnosing training: gradient norms, their verdict, TensorBoard event files, torchinfo."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torchinfo import summary

from course.concepts.bugs import capstone_model
from course.engine import data
from course.engine.models import ModelConfig, build_model, simple_mlp
from course.engine.telemetry import gradient_norms  # what the worker records, read here too

DEMO_BATCH = 64  # the page's one fixed batch: every learner sees the same numbers


def first_batch(size: int = DEMO_BATCH, name: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """The first `size` training images, normalised, and their labels: a batch every learner shares."""
    split = data.split_tensors(name, True)
    return data.normalize_batch(split.images[:size], name), split.labels[:size]


def read_scalars(logdir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a TensorBoard log folder, read back from its event files: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = Path(logdir)
    if not logdir.is_dir():
        return {}
    scalars: dict[str, list[tuple[int, float]]] = {}
    # A folder may hold several event files (a resumed run writes a second one): read each, merge.
    for events_file in sorted(logdir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events_file), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags().get("scalars", []):
            scalars.setdefault(tag, []).extend((e.step, e.value) for e in accumulator.Scalars(tag))
    return {tag: sorted(points) for tag, points in scalars.items()}


def log_gradient_norms(model: nn.Module, writer, step: int) -> dict[str, float]:
    """Log each gradient norm as `grad_norm/<name>`; call after backward()."""
    norms = gradient_norms(model)
    for name, norm in norms.items():
        writer.add_scalar(f"grad_norm/{name}", norm, step)
    return norms


def step_one_norms(scalars: dict[str, list[tuple[int, float]]]) -> dict[str, float]:
    """The `grad_norm/<name>` readings a run logged at step 1: its first iteration's pulse."""
    return {tag.split("/", 1)[1]: points[0][1] for tag, points in scalars.items()
            if tag.startswith("grad_norm/") and points and points[0][0] == 1}


# ----------------------------------------------------------------------------- the verdict

# The course's thresholds for one backward pass at the start of training.
HEALTHY_SPREAD = 100.0  # healthy: every layer's weight gradient within 10-100x of the others
VANISHING_RATIO = 1e5  # vanishing: the early layers ~100,000x smaller than the late ones
EXPLODING_NORM = 100.0  # exploding: any gradient norm above 100, or NaN / infinite


@dataclass(frozen=True)
class Verdict:
    kind: str  # "healthy" | "uneven" | "vanishing" | "exploding"
    spread: float  # largest weight-gradient norm / smallest
    message: str


def weight_norms(norms: dict[str, float]) -> dict[str, float]:
    """The weight matrices' norms only: biases and BatchNorm shifts start elsewhere and say less."""
    weights = {name: value for name, value in norms.items() if name.endswith("weight")}
    return weights or norms


def gradient_verdict(norms: dict[str, float]) -> Verdict:
    """Healthy, uneven, vanishing or exploding, by the course's thresholds."""
    if not norms:
        raise ValueError("no gradients to judge: call loss.backward() first")
    broken = [name for name, value in norms.items() if not math.isfinite(value)]
    if broken:
        return Verdict("exploding", math.inf, f"{broken[0]} has a NaN or infinite gradient: "
                       "the gradients exploded.")
    weights = list(weight_norms(norms).values())
    spread = max(weights) / max(min(weights), 1e-30)
    largest_name, largest = max(norms.items(), key=lambda item: item[1])
    if largest > EXPLODING_NORM:
        return Verdict("exploding", spread,
                       f"{largest_name} has a gradient norm of {largest:,.0f}, above "
                       f"{EXPLODING_NORM:g}: exploding.")
    early, late = weights[0], weights[-1]
    if late / max(early, 1e-30) >= VANISHING_RATIO:
        return Verdict("vanishing", spread, f"The first layer's gradient is "
                       f"{times(late / max(early, 1e-30))} smaller than the last layer's "
                       "(vanishing starts around 100,000×). The early layers barely learn.")
    if spread <= HEALTHY_SPREAD:
        return Verdict("healthy", spread, f"All layers within {times(spread)} of each other: "
                       "well under the 10-100× limit.")
    return Verdict("uneven", spread, f"The layers are {times(spread)} apart: more than the healthy "
                   f"100×, less than the vanishing 100,000×. Watch it.")


def worked_example_rows(healthy: dict[str, float], unhealthy_kind: str,
                        unhealthy: dict[str, float]) -> dict[str, list[str]]:
    """The course's worked numbers beside one batch's live ones, healthy and unhealthy."""
    good = list(weight_norms(healthy).values())
    bad = list(weight_norms(unhealthy).values())
    live_healthy = f"{', '.join(f'{v:.2f}' for v in good)}: within {times(max(good) / min(good))}"
    if unhealthy_kind == "vanishing":
        example = "early layers ~100,000× smaller than the late ones"
        live = (f"first layer {times(bad[-1] / max(bad[0], 1e-30))} smaller than the last "
                f"({bad[0]:.0e} vs {bad[-1]:.2f})")
    elif unhealthy_kind == "exploding":
        example = "any norm above 100, or NaN"
        live = f"every layer between {min(bad):,.0f} and {max(bad):,.0f}"
    else:
        raise ValueError(f"unhealthy_kind must be 'vanishing' or 'exploding', not {unhealthy_kind!r}")
    return {"": ["healthy", unhealthy_kind],
            "the course's worked example": ["~0.03 in every layer", example],
            "this page, live (one batch of 64)": [live_healthy, live]}


def times(ratio: float) -> str:
    """A ratio for humans: 3.2 -> "3×", 12,345 -> "12,345×", 7,327,879 -> "7.3 million×"."""
    if ratio >= 1e9:
        return f"{ratio / 1e9:,.1f} billion×"
    if ratio >= 1e6:
        return f"{ratio / 1e6:.1f} million×"
    return f"{ratio:,.0f}×"


# ----------------------------------------------------------------------------- taking the pulse

PULSE_NETWORKS = {
    "healthy": "ReLU MLP 784-256-128-10, PyTorch's default initialisation",
    "vanishing": "10 layers of width 128 with sigmoid activations",
    "exploding": "10 layers of width 128 with ReLU, weights drawn 4x too large, no normalisation",
}


def pulse_network(kind: str) -> nn.Sequential:
    """The same architecture every time for a kind (seeded), so every learner sees the same pulse."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        if kind == "healthy":
            return simple_mlp()
        if kind not in PULSE_NETWORKS:
            raise ValueError(f"network must be one of {sorted(PULSE_NETWORKS)}, not {kind!r}")
        activation = nn.Sigmoid if kind == "vanishing" else nn.ReLU
        layers: list[nn.Module] = [nn.Flatten(), nn.Linear(784, 128)]
        for _ in range(8):
            layers += [activation(), nn.Linear(128, 128)]
        layers += [activation(), nn.Linear(128, 10)]
        model = nn.Sequential(*layers)
        if kind == "exploding":
            for module in model:
                if isinstance(module, nn.Linear):
                    # Kaiming for ReLU is sqrt(2 / fan_in): it keeps the signal's size.
                    # Four times that std scales the signal by about 4x every layer,
                    # forward and backward: 4**10 ≈ a million after ten layers.
                    nn.init.normal_(module.weight, std=4 * math.sqrt(2 / module.in_features))
        return model


def pulse(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """One forward and backward pass, then every parameter's gradient norm: the pulse."""
    model.zero_grad()
    nn.functional.cross_entropy(model(images), labels).backward()
    return gradient_norms(model)


def norms_over_steps(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                     steps: int = 30, lr: float = 0.05) -> tuple[list[str], torch.Tensor]:
    """Weight-gradient norms over the first `steps` SGD steps on one batch: names, [steps, layers]."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    names = [name for name, param in model.named_parameters() if name.endswith("weight")]
    rows = []
    for _ in range(steps):
        norms = pulse(model, images, labels)
        rows.append([norms[name] for name in names])
        optimizer.step()
    return names, torch.tensor(rows)


def log_norm_range(*norms: torch.Tensor) -> tuple[float, float]:
    """One log10 colour range covering every finite, positive norm of several heatmaps."""
    logs = torch.cat([torch.log10(n.double().flatten()) for n in norms])
    finite = logs[torch.isfinite(logs)]
    if not len(finite):
        return 0.0, 1.0
    return math.floor(finite.min().item()), math.ceil(finite.max().item())


# ----------------------------------------------------------------------------- torchinfo


class ShapeMismatch(ValueError):
    """A model whose layers do not fit together for this input: the learner-facing message."""


@dataclass(frozen=True)
class XRay:
    rows: list[dict]  # layer, output shape, parameters
    total_params: int
    trainable_params: int


def xray(model: nn.Module, input_size: tuple[int, ...]) -> XRay:
    """torchinfo's summary as rows (layer, output shape, parameters), without training anything."""
    try:
        stats = summary(model, input_size=input_size, verbose=0, device="cpu")
    except RuntimeError as error:
        cause = error.__cause__ or error
        executed = str(error).split("Executed layers up to:")[-1].strip()
        where = "at the first layer" if executed == "[]" else f"after the layers {executed}"
        raise ShapeMismatch(f"{cause} ({where})") from error
    rows = [{"layer": f"{info.var_name}: {info.class_name}", "output shape": str(info.output_size),
             "parameters": info.num_params}
            for info in stats.summary_list if info.depth > 0]
    return XRay(rows, stats.total_params, stats.trainable_params)


def missing_flatten_model() -> nn.Sequential:
    """Shape bug 1: an image [B, 1, 28, 28] goes straight into Linear(784, ...)."""
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def wrong_in_features_model() -> nn.Sequential:
    """Shape bug 2: the third Linear expects 256 inputs; it is handed 128."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(256, 10),
    )


def fixed_model() -> nn.Sequential:
    """Both fixed: Flatten first; each Linear takes what the last one gives."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def three_layer_model() -> nn.Sequential:
    """The check's model: 784 -> 128 -> 64 -> 10."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


LESSON_MODELS = {"three-layer": three_layer_model, "missing-flatten": missing_flatten_model,
                 "wrong-in-features": wrong_in_features_model, "fixed": fixed_model,
                 "capstone": capstone_model}


def lesson_model(name: str) -> nn.Module:
    """A fresh model by name (a cache key): the course's kinds ("mlp", ...) or this lesson's."""
    if name in LESSON_MODELS:
        return LESSON_MODELS[name]()
    return build_model(ModelConfig(kind=name))


# ----------------------------------------------------------------------------- the flight recorder


def events_stamp(logdir: str | Path) -> tuple:
    """Changes whenever the writer adds to an event file: a cache key for read_scalars."""
    files = sorted(Path(logdir).glob("events.out.tfevents.*")) if Path(logdir).is_dir() else []
    return tuple((f.name, f.stat().st_size) for f in files)


def curves_by_tag(scalars: dict[str, dict[str, list[tuple[int, float]]]],
                  tags: list[str]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Runs' scalars regrouped for overlays: tag -> run -> points, for the tags some run has logged."""
    return {tag: {run: logged[tag] for run, logged in scalars.items() if tag in logged}
            for tag in tags if any(tag in logged for logged in scalars.values())}


def folder_zip(folder: str | Path) -> bytes:
    """A run folder as a zip (event files, config, status, checkpoints), for the learner's machine."""
    import io
    import zipfile

    folder = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()
