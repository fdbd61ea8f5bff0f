"""Checkpoint X-ray: what is inside a .pt file, read without running any of it.

A ``torch.save`` file is a zip archive: ``data.pkl`` (a pickle that describes the dicts and
tensors) plus one raw entry per tensor storage. The pickle names every class or function it
needs as a "global"; ``torch.load(weights_only=True)`` refuses any global outside a short
allow-list. Here the globals are read opcode by opcode with ``pickletools`` (which only lists
instructions, it never executes them), so even a malicious file can be X-rayed.
"""

from __future__ import annotations

import io
import pickletools
import re
import zipfile
from dataclasses import dataclass

import torch
from torch import nn

from course.concepts import resume_race
from course.engine import models

# The globals torch.save writes for plain tensors and state_dicts.
STATE_DICT_GLOBALS = {
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
}
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8", "SHORT_BINSTRING",
               "BINSTRING", "STRING"}
CODE_RUNNERS = ("os.", "posix.", "nt.", "subprocess.", "builtins.eval", "builtins.exec",
                "builtins.compile", "builtins.__import__", "builtins.getattr", "builtins.open",
                "sys.", "shutil.", "socket.", "importlib.", "runpy.", "pty.", "webbrowser.")


@dataclass(frozen=True)
class Global:
    """One class or function the pickle asks for."""

    name: str
    allowed: bool  # would torch.load(weights_only=True) build it?
    why: str


def allowed_by_weights_only(name: str) -> bool:
    """Is this global on torch's weights_only allow-list (the installed torch's own list)?"""
    name = name.replace("__builtin__.", "builtins.", 1)  # protocol 2 spells builtins the Python 2 way
    if name in STATE_DICT_GLOBALS or re.fullmatch(r"torch\.\w+Storage", name):
        return True
    try:  # private, but it is the list torch.load itself consults
        from torch import _weights_only_unpickler
        return name in _weights_only_unpickler._get_allowed_globals()
    except (ImportError, AttributeError):
        return False


def explain_global(name: str) -> str:
    """Why a global is there and what it means for loading, in a learner's words."""
    if allowed_by_weights_only(name):
        return "torch's own tensor and container plumbing: allowed with weights_only=True."
    if name.startswith("numpy."):
        return ("a NumPy value (typically best_acc = np.float64(...) or an np.ndarray saved "
                "next to the weights). Save float(x), x.item() or a tensor instead.")
    if name.startswith(CODE_RUNNERS):
        return ("a function that runs commands or code: loading this file with "
                "weights_only=False would call it. Never load it.")
    if name.startswith("torch.nn.modules."):
        return ("a whole nn.Module was pickled (torch.save(model)): the file needs this exact "
                "class importable at load time. Save model.state_dict() instead.")
    if name.startswith("torch."):
        return "a torch object outside the weights-only allow-list (an optimizer, a scheduler ...)."
    return ("your own class or function, stored by name: loading needs this module and name "
            "to exist unchanged, and runs its code.")


def pickle_bytes(data: bytes) -> bytes:
    """The pickle inside a torch.save zip (data.pkl), or the whole file for an old-style pickle."""
    if not data.startswith(b"PK"):
        return data
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        name = next(n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
        return archive.read(name)
    except (zipfile.BadZipFile, StopIteration, KeyError, OSError, EOFError) as exc:
        raise ValueError("the zip archive is damaged or truncated, so its data.pkl cannot be "
                         "read") from exc


def pickle_globals(data: bytes) -> list[Global]:
    """Every global the pickle names, in order, each once; ValueError if the pickle is damaged."""
    names: list[str] = []
    strings: list[str] = []  # recent string pushes, for STACK_GLOBAL (protocol 4+)
    memo: dict[int, str] = {}
    try:
        for opcode, arg, _ in pickletools.genops(pickle_bytes(data)):
            if opcode.name == "GLOBAL":
                names.append(arg.replace(" ", "."))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
            elif opcode.name in _STRING_OPS:
                strings.append(arg if isinstance(arg, str) else repr(arg))
            elif opcode.name == "MEMOIZE" and strings:
                memo[len(memo)] = strings[-1]
            elif opcode.name in ("BINGET", "LONG_BINGET", "GET") and arg in memo:
                strings.append(memo[arg])
            elif opcode.name in ("BINPUT", "LONG_BINPUT", "PUT") and strings:
                memo[arg] = strings[-1]
    except ValueError:
        raise
    except Exception as exc:  # pickletools raises assorted errors on damaged input
        raise ValueError(f"the pickle is damaged or truncated ({type(exc).__name__})") from exc
    unique = list(dict.fromkeys(names))
    return [Global(n, allowed_by_weights_only(n), explain_global(n)) for n in unique]


def blocking_globals(data: bytes) -> list[Global]:
    """The globals that would force weights_only=False."""
    return [g for g in pickle_globals(data) if not g.allowed]


def archive_entries(data: bytes) -> list[dict]:
    """The zip's entries and their sizes: data.pkl, version records, one entry per storage."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [{"entry": info.filename, "bytes": info.file_size} for info in archive.infolist()]


def key_tree(obj, prefix: str = "") -> list[dict]:
    """One row per leaf of a loaded checkpoint: its path, type, and for tensors shape, dtype, bytes."""
    rows: list[dict] = []
    stack = [(prefix, obj)]
    while stack:
        path, value = stack.pop(0)
        if isinstance(value, dict):
            stack[:0] = [(f"{path}.{key}" if path else str(key), item)
                         for key, item in value.items()]
        elif isinstance(value, (list, tuple)) and len(value) <= 8 and any(
                isinstance(item, (dict, torch.Tensor)) for item in value):
            stack[:0] = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        elif isinstance(value, torch.Tensor):
            rows.append({"key": path, "type": "tensor", "shape": str(list(value.shape)),
                         "dtype": str(value.dtype).removeprefix("torch."),
                         "bytes": value.numel() * value.element_size()})
        else:
            shown = repr(value)
            rows.append({"key": path, "type": type(value).__name__,
                         "shape": shown if len(shown) <= 40 else shown[:37] + "...",
                         "dtype": "", "bytes": 0})
    return rows


def weights_only_default(version: str = torch.__version__) -> dict:
    """What torch.load does when weights_only is not given, on this version of torch."""
    major, minor = (int(part) for part in re.match(r"(\d+)\.(\d+)", version).groups())
    if (major, minor) >= (2, 6):
        return {"version": version, "default": "weights_only=True",
                "meaning": "torch.load refuses any global outside the allow-list unless you "
                           "pass weights_only=False (since torch 2.6)."}
    if (major, minor) >= (2, 4):
        return {"version": version, "default": "weights_only=False, with a FutureWarning",
                "meaning": "torch.load unpickles anything, and warns that the default will "
                           "become True (torch 2.4 and 2.5)."}
    return {"version": version, "default": "weights_only=False",
            "meaning": "torch.load unpickles anything, silently: a file can run code on load."}


# ------------------------------------------------------------------ matching a model


def candidate_models() -> dict[str, nn.Module]:
    """The architectures an uploaded state_dict may belong to: this page's and the course's."""

    found = {"this page's 784-32-10 MLP": resume_race.race_model(torch.Generator().manual_seed(0))}
    for kind in models.MODEL_KINDS:
        found[models.MODEL_LABELS[kind]] = models.build_model(models.ModelConfig(kind=kind))
    return found


def shape_differences(model: nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """Which keys are missing, unexpected or of another shape, named."""
    own = model.state_dict()
    problems = [f"'{k}': file {list(state[k].shape)}, model {list(v.shape)}"
                for k, v in own.items() if k in state and state[k].shape != v.shape]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing:
        problems.append("missing: " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else ""))
    if unexpected:
        problems.append("unexpected: " + ", ".join(unexpected[:6])
                        + (" ..." if len(unexpected) > 6 else ""))
    return problems


def matching_model(state: dict[str, torch.Tensor]) -> tuple[str, nn.Module] | tuple[None, list[str]]:
    """The first candidate whose keys and shapes fit, loaded; else (None, the closest misfit's list)."""
    closest: list[str] | None = None
    for name, model in candidate_models().items():
        problems = shape_differences(model, state)
        if not problems:
            model.load_state_dict(state)
            return name, model.eval()
        if closest is None or len(problems) < len(closest):
            closest = [f"{name}: " + "; ".join(problems)]
    return None, closest or []


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Test accuracy of a loaded model on flattened images (reshaped for a CNN)."""
    model.eval()
    with torch.no_grad():
        inputs = images.view(-1, 1, 28, 28) if isinstance(model[0], nn.Conv2d) else images
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()
