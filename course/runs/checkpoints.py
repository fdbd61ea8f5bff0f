"""Save and load training checkpoints without trusting the file.

Saving is atomic (a temp file, then a rename). Loading goes through ``course.runs.archive``,
which inspects the archive and its pickle before ``torch.load(weights_only=True)``; then every
value is validated again here. Every refusal is a ``CheckpointError`` with a message for
learners; we never retry with ``weights_only=False``.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import os
import random
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course.engine.models import build_model
from course.engine.train import History, Run, RunConfig, validated
from course.runs import run_files
from course.runs.archive import (
    FLOAT_DTYPES,
    MAX_DEPTH,
    MAX_ITEMS,
    TENSOR_DTYPES,
    CheckpointError,
    _check_size,
    check_view,
    read_checked,
)

FORMAT_NAME = "pytorch-course-lab-checkpoint"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 50 * 1024 * 1024

REQUIRED_KEYS = (
    "model_state", "optimizer_state", "epoch", "metrics", "history", "rng_state", "config",
)
OPTIONAL_KEYS = ("format", "format_version", "optimizer_class", "scheduler_state")


@dataclasses.dataclass
class Checkpoint:
    """A validated checkpoint; plain data plus CPU tensors only."""

    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any]
    epoch: int
    metrics: dict[str, float]
    history: list[Any] | dict[str, Any]
    rng_state: dict[str, Any]
    config: dict[str, Any]
    scheduler_state: dict[str, Any] | None = None
    optimizer_class: str | None = None


# ---------------------------------------------------------------- saving


def capture_rng_state() -> dict[str, Any]:
    """Record every RNG a training loop uses so a resumed run continues identically."""
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state().tolist(),
        "python": [version, list(internal), gauss],
    }
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        name, keys, pos, has_gauss, cached = numpy.random.get_state()
        keys = [int(k) for k in keys]
        state["numpy"] = [str(name), keys, int(pos), int(has_gauss), float(cached)]
    return state


def restore_rng_state(rng_state: dict[str, Any]) -> None:
    """Put every RNG back to the saved state for an exact resume."""
    try:
        torch_state = rng_state["torch"]
        if len(torch_state) != torch.get_rng_state().numel() or not all(
            type(b) is int and 0 <= b < 256 for b in torch_state
        ):
            raise ValueError("bad torch RNG state")
        version, internal, gauss = rng_state["python"]
        random.setstate((version, tuple(internal), gauss))
        torch.set_rng_state(torch.tensor(torch_state, dtype=torch.uint8))
        numpy = sys.modules.get("numpy")
        if numpy is not None and rng_state.get("numpy") is not None:
            name, keys, pos, has_gauss, cached = rng_state["numpy"]
            keys = numpy.asarray(keys, dtype=numpy.uint32)
            numpy.random.set_state((name, keys, pos, has_gauss, cached))
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError("The checkpoint's random-number-generator state is damaged, "
                              "so the run cannot be resumed exactly.") from exc


def _plain_metric(value: Any) -> Any:
    """Turn one-element tensors (e.g. a loss) into Python numbers so metrics stay plain data."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def make_checkpoint(model: torch.nn.Module, optimizer: torch.optim.Optimizer | None, epoch: int,
                    metrics: dict[str, Any], *, history: list[Any] | dict[str, Any] | None = None,
                    config: dict[str, Any] | None = None, scheduler: Any = None) -> dict[str, Any]:
    """Build the checkpoint dict and check it the same way a loaded one is checked.

    optimizer=None writes the weights alone (an epoch snapshot to look at, not to resume from).
    """
    ckpt: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_state": model.state_dict(),
        "optimizer_state": (optimizer.state_dict() if optimizer is not None
                            else {"state": {}, "param_groups": []}),
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else "",
        "epoch": int(epoch),
        "metrics": {str(k): _plain_metric(v) for k, v in dict(metrics).items()},
        "history": history if history is not None else [],
        "rng_state": capture_rng_state(),
        "config": dict(config or {}),
    }
    if scheduler is not None:
        ckpt["scheduler_state"] = scheduler.state_dict()
    validate_checkpoint(ckpt)
    return ckpt


def checkpoint_bytes(model: torch.nn.Module, optimizer: torch.optim.Optimizer, epoch: int,
                     metrics: dict[str, Any], *, max_bytes: int = MAX_CHECKPOINT_BYTES,
                     **extra: Any) -> bytes:
    """Serialise a checkpoint for download buttons, refusing what we could not load back."""
    buffer = io.BytesIO()
    torch.save(make_checkpoint(model, optimizer, epoch, metrics, **extra), buffer)
    _check_size(buffer.tell(), max_bytes)
    return buffer.getvalue()


def save_checkpoint(path: str | os.PathLike[str], model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None, epoch: int, metrics: dict[str, Any], *,
                    history: list[Any] | dict[str, Any] | None = None,
                    config: dict[str, Any] | None = None,
                    scheduler: Any = None, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Path:
    """Write a checkpoint atomically so a crash never leaves a half-written file."""
    ckpt = make_checkpoint(model, optimizer, epoch, metrics, history=history,
                           config=config, scheduler=scheduler)
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(ckpt, handle)
            handle.flush()
            _check_size(handle.tell(), max_bytes)
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        _remove_quietly(tmp_name)
        if isinstance(exc, CheckpointError) or not isinstance(exc, Exception):
            raise
        raise CheckpointError(f"Could not save the checkpoint to {target}: {exc}") from exc
    _fsync_directory(target.parent)
    return target


def _remove_quietly(name: str) -> None:
    """Delete a leftover temp file; a failure here must not hide the real error."""
    try:
        os.unlink(name)
    except OSError:
        pass


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable where the OS supports syncing directories."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- loading


def load_checkpoint(source: Any, *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Checkpoint:
    """Load and fully validate a checkpoint from a path, bytes or an uploaded file."""
    try:
        return validate_checkpoint(read_checked(source, max_bytes))
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError("The checkpoint file is damaged or incomplete and could not be "
                              f"read ({type(exc).__name__}).") from exc


# The weights' key in the PyTorch tutorial's checkpoint dict (epoch, model, optimizer, loss).
TUTORIAL_MODEL_KEY = "model_state_dict"


def load_model_state(source: Any, *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> dict[str, torch.Tensor]:
    """The weights of any checkpoint a learner may bring, through the same safe loader.

    Accepts this app's checkpoints, a bare ``model.state_dict()`` file and the tutorial's
    ``{"epoch", "model_state_dict", "optimizer_state_dict", "loss"}`` dict; every value is
    checked (types, finite tensors) before the weights come back.
    """
    try:
        obj = read_checked(source, max_bytes)
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError("The checkpoint file is damaged or incomplete and could not be "
                              f"read ({type(exc).__name__}).") from exc
    if isinstance(obj, dict) and "model_state" in obj:
        return validate_checkpoint(obj).model_state
    _walk_values(obj)
    if isinstance(obj, dict) and TUTORIAL_MODEL_KEY in obj:
        obj = obj[TUTORIAL_MODEL_KEY]
    _check_model_state(obj)
    if not obj:
        raise CheckpointError("The checkpoint holds no weights at all.")
    return obj


# ---------------------------------------------------------------- validation


def validate_checkpoint(obj: Any) -> Checkpoint:
    """Check structure, types and tensor values before anything uses a checkpoint."""
    _walk_values(obj)
    if not isinstance(obj, dict):
        raise CheckpointError("The file holds a single value, not a checkpoint dictionary.")
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        hint = (" It looks like a bare model state_dict; save it with save_checkpoint instead."
                if obj and all(isinstance(v, torch.Tensor) for v in obj.values()) else "")
        names = ", ".join(map(repr, missing))
        raise CheckpointError(f"The checkpoint is missing required keys: {names}.{hint}")
    unknown = [k for k in obj if k not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if unknown:
        raise CheckpointError(f"The checkpoint has unknown keys: {', '.join(map(repr, unknown))}.")
    same_format = obj.get("format", FORMAT_NAME) == FORMAT_NAME
    if not same_format or obj.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise CheckpointError("The checkpoint was written by a different program or format "
                              "version.")
    _check_model_state(obj["model_state"])
    _check_optimizer_state(obj["optimizer_state"])
    _check_plain_fields(obj)
    return Checkpoint(model_state=obj["model_state"], optimizer_state=obj["optimizer_state"],
                      epoch=obj["epoch"], metrics=obj["metrics"], history=obj["history"],
                      rng_state=obj["rng_state"], config=obj["config"],
                      scheduler_state=obj.get("scheduler_state"),
                      optimizer_class=obj.get("optimizer_class"))


def _walk_values(root: Any) -> None:
    """Check every value iteratively: allowed types, bounded depth and count (so cycles stop)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_ITEMS:
            raise CheckpointError("The checkpoint's data is nested too deeply or has too many "
                                  "items.")
        if isinstance(value, torch.Tensor):
            _check_tensor(value)
        elif type(value) in (dict, OrderedDict):
            for key, item in value.items():
                if type(key) not in (str, int):
                    raise CheckpointError("The checkpoint has a dict key that is not a string "
                                          "or integer.")
                stack.append((item, depth + 1))
        elif type(value) in (list, tuple):
            stack.extend((item, depth + 1) for item in value)
        elif type(value) not in (str, int, float, bool, type(None)):
            raise CheckpointError(f"The checkpoint contains a {type(value).__name__}, which is not "
                                  "allowed (only tensors, numbers, strings, lists and dicts are).")


def _check_tensor(tensor: torch.Tensor) -> None:
    """Accept only plain dense CPU tensors of allowed dtypes with finite values and no tricks."""
    if type(tensor) not in (torch.Tensor, torch.nn.Parameter) or tensor.layout != torch.strided:
        raise CheckpointError("The checkpoint contains a special kind of tensor (sparse, quantized "
                              "or a subclass); only ordinary tensors are allowed.")
    if tensor.is_meta or tensor.device.type != "cpu":
        raise CheckpointError("The checkpoint contains a tensor on the 'meta' or a non-CPU device.")
    if tensor.dtype not in TENSOR_DTYPES:
        raise CheckpointError(f"The checkpoint contains a {tensor.dtype} tensor; only "
                              "floating-point and int64 tensors are allowed.")
    storage_numel = tensor.untyped_storage().nbytes() // tensor.element_size()
    check_view(list(tensor.shape), list(tensor.stride()), tensor.storage_offset(), storage_numel)
    if tensor.dtype in FLOAT_DTYPES and not bool(torch.isfinite(tensor).all()):
        raise CheckpointError("The checkpoint contains NaN or infinite values in its weights; "
                              "training probably diverged before it was saved.")


def _check_model_state(state: Any) -> None:
    """The model state must map layer names to tensors."""
    if not isinstance(state, dict) or not all(
        type(k) is str and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError("The checkpoint's 'model_state' is not a mapping of layer names "
                              "to tensors.")


def _check_optimizer_state(state: Any) -> None:
    """The optimizer state must look like Optimizer.state_dict() output."""
    groups = state.get("param_groups") if isinstance(state, dict) else None
    ok = (isinstance(state, dict) and set(state) == {"state", "param_groups"}
          and isinstance(state["state"], dict) and isinstance(groups, list)
          and all(isinstance(g, dict) and isinstance(g.get("params"), list)
                  and all(type(p) is int for p in g["params"]) for g in groups)
          and all(type(k) is int and isinstance(v, dict) for k, v in state["state"].items()))
    if not ok:
        raise CheckpointError("The checkpoint's 'optimizer_state' is not an optimizer state_dict.")


def _check_plain_fields(obj: dict[str, Any]) -> None:
    """Epoch, metrics, history, config and RNG state are plain data of the expected shape."""
    if type(obj["epoch"]) is not int or obj["epoch"] < 0:
        raise CheckpointError("The checkpoint's 'epoch' must be a non-negative whole number.")
    metrics = obj["metrics"]
    if not isinstance(metrics, dict) or not all(
        type(k) is str and type(v) in (int, float, type(None)) for k, v in metrics.items()
    ):
        raise CheckpointError("The checkpoint's 'metrics' must map names to numbers.")
    if type(obj["history"]) not in (list, dict) or type(obj["config"]) is not dict:
        raise CheckpointError("The checkpoint's 'history' must be a list or dict and 'config' "
                              "a dict.")
    if type(obj.get("optimizer_class", "")) is not str:
        raise CheckpointError("The checkpoint's 'optimizer_class' must be a name.")
    for field in ("history", "config"):
        if _contains_tensor(obj[field]):
            raise CheckpointError(f"The checkpoint's '{field}' must be plain data, not tensors.")
    scheduler = obj.get("scheduler_state")
    if scheduler is not None and type(scheduler) is not dict:
        raise CheckpointError("The checkpoint's 'scheduler_state' must be a dict.")
    rng = obj["rng_state"]
    if type(rng) is not dict or "torch" not in rng or "python" not in rng or _contains_tensor(rng):
        raise CheckpointError("The checkpoint's 'rng_state' is malformed.")


def _contains_tensor(value: Any) -> bool:
    """True if a tensor hides anywhere inside (values were already depth-checked)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


# ---------------------------------------------------------------- applying


def architecture_differences(model_state: dict[str, torch.Tensor],
                             checkpoint_state: dict[str, torch.Tensor]) -> list[str]:
    """List every layer whose name or shape differs, so learners see exactly what changed."""
    problems = [
        f"layer '{name}': checkpoint has {list(checkpoint_state[name].shape)}, "
        f"your model has {list(tensor.shape)}"
        for name, tensor in model_state.items()
        if name in checkpoint_state and checkpoint_state[name].shape != tensor.shape
    ]
    missing = [name for name in model_state if name not in checkpoint_state]
    unexpected = [name for name in checkpoint_state if name not in model_state]
    if missing:
        problems.append("missing from checkpoint: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected in checkpoint: " + ", ".join(unexpected))
    return problems


def _optimizer_differences(optimizer: torch.optim.Optimizer, checkpoint: Checkpoint) -> list[str]:
    """Compare optimizer kind, parameter groups and state tensor shapes with a live optimizer."""
    live_class, saved = type(optimizer).__name__, checkpoint.optimizer_state
    if checkpoint.optimizer_class not in (None, live_class):
        return [f"checkpoint was saved with {checkpoint.optimizer_class}, your optimizer is "
                f"{live_class}"]
    live_groups, saved_groups = optimizer.param_groups, saved["param_groups"]
    if len(live_groups) != len(saved_groups):
        return [f"checkpoint has {len(saved_groups)} parameter groups, your optimizer has "
                f"{len(live_groups)}"]
    problems = []
    params_by_id: dict[int, torch.Tensor] = {}
    for index, (live, old) in enumerate(zip(live_groups, saved_groups, strict=True)):
        if len(live["params"]) != len(old["params"]):
            problems.append(f"group {index}: checkpoint has {len(old['params'])} parameters, "
                            f"your optimizer has {len(live['params'])}")
        params_by_id.update(zip(old["params"], live["params"], strict=False))
    for param_id, entries in saved["state"].items():
        param = params_by_id.get(param_id)
        if param is None:
            problems.append(f"state for unknown parameter {param_id}")
            continue
        for key, value in entries.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != param.shape:
                problems.append(f"optimizer state '{key}' of parameter {param_id}: checkpoint has "
                                f"{list(value.shape)}, your model has {list(param.shape)}")
    return problems


def apply_checkpoint(model: torch.nn.Module, checkpoint: Checkpoint,
                     optimizer: torch.optim.Optimizer | None = None, scheduler: Any = None) -> None:
    """Check everything first, then load weights, optimizer and scheduler: no half-applied state."""
    problems = architecture_differences(model.state_dict(), checkpoint.model_state)
    if problems:
        raise CheckpointError("The checkpoint does not fit your model: " + "; ".join(problems))
    if optimizer is not None:
        problems = _optimizer_differences(optimizer, checkpoint)
        if problems:
            raise CheckpointError("The checkpoint's optimizer state does not fit your optimizer: "
                                  + "; ".join(problems))
    if scheduler is not None and checkpoint.scheduler_state is None:
        raise CheckpointError("The checkpoint has no learning-rate scheduler state to restore.")
    try:
        model.load_state_dict(checkpoint.model_state, strict=True)
        if optimizer is not None:
            optimizer.load_state_dict(copy.deepcopy(checkpoint.optimizer_state))
        if scheduler is not None:
            scheduler.load_state_dict(copy.deepcopy(checkpoint.scheduler_state))
    except Exception as exc:
        raise CheckpointError(f"The checkpoint could not be applied: {exc}") from exc


# ----------------------------------------------------------------------------- a run's models


def load_run_model(run_dir: Path) -> tuple[nn.Module, RunConfig]:
    """The run's latest weights (final, or the last finished epoch), in eval() mode."""
    path = run_files.latest_checkpoint(run_dir)
    if path is None:
        raise CheckpointError(f"{Path(run_dir).name} has no checkpoint yet: it has not finished "
                              "an epoch.")
    checkpoint = load_checkpoint(path)
    config = RunConfig.from_dict(checkpoint.config)
    model = build_model(config.model_config)
    apply_checkpoint(model, checkpoint)
    return model.eval(), config


def epoch_models(snapshots: dict[int, Path], config: RunConfig) -> dict[int, nn.Module]:
    """One model per saved epoch ({epoch: checkpoint file}), in eval() mode, epochs in order."""
    models = {}
    for epoch in sorted(snapshots):
        model = build_model(config.model_config)
        apply_checkpoint(model, load_checkpoint(snapshots[epoch]))
        models[epoch] = model.eval()
    return models


def save_run(run: Run, path: Path, metrics: dict | None = None) -> Path:
    """An epoch-boundary checkpoint of a run: everything needed to continue exactly from here."""
    return save_checkpoint(path, run.model, run.optimizer, run.completed_epochs,
                           metrics or (run.history.epochs[-1] if run.history.epochs else {}),
                           history=run.history.epochs, config=run.config.to_dict(),
                           scheduler=run.scheduler)


def restore_run(run: Run, checkpoint: Checkpoint) -> None:
    """Continue a run from a checkpoint of this same run (model, optimizer, history, RNG)."""
    apply_checkpoint(run.model, checkpoint, run.optimizer, run.scheduler)
    run.history = History(list(checkpoint.history))
    run.completed_epochs = checkpoint.epoch
    restore_rng_state(checkpoint.rng_state)


def continued_config(source: Any, extra_epochs: int) -> RunConfig:
    """The settings that train an uploaded run checkpoint `extra_epochs` further, once the file,
    its settings and its weights have all been checked; nothing is written."""
    checkpoint = load_checkpoint(source)
    if not checkpoint.config or not checkpoint.optimizer_state.get("state"):
        raise CheckpointError("This checkpoint holds weights only (no optimizer state or run "
                              "settings), so it can be evaluated but not continued exactly.")
    try:
        config = RunConfig.from_dict(checkpoint.config)
        if config.bug:
            raise ValueError("a bug lab's run is not continued from an upload")
        config = validated(dataclasses.replace(config, epochs=checkpoint.epoch + extra_epochs))
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"The checkpoint's run settings cannot be continued: {exc}.") from exc
    apply_checkpoint(build_model(config.model_config), checkpoint)  # the weights fit the model
    return config


def write_continued_run(run_dir: Path, source_bytes: bytes, config: RunConfig, label: str,
                        lesson: str = "") -> Path:
    """A new run folder whose worker resumes from the uploaded checkpoint (its last_epoch.pt)."""
    run_files.create_run(run_dir, config, label, lesson)
    (Path(run_dir) / run_files.EPOCH_CHECKPOINT).write_bytes(source_bytes)
    return Path(run_dir)
