"""Why a state_dict travels and a pickled model does not.

``torch.save(model)`` pickles the model object: the file stores the class by its module path
and name, and loading looks that name up again and runs the class's code. Rename the class or
move its file, and the old checkpoints stop loading. ``torch.save(model.state_dict())`` stores
only names and tensors: any class that builds the same layers can take them.

The learner's model lives in a throwaway module made fresh for each experiment (a unique
name, removed afterwards), so renaming or moving it disturbs nothing else in the app.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import types
import uuid

import torch

MODEL_SOURCE = '''
from torch import nn

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 3)
        self.out = nn.Linear(3, 2)

    def forward(self, x):
        return self.out(self.hidden(x).relu())
'''


def learner_module() -> types.ModuleType:
    """A fresh module holding TinyNet, importable by its (unique) name like a learner's model.py."""
    name = f"model_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    exec(compile(MODEL_SOURCE, f"{name}.py", "exec"), module.__dict__)  # our own fixed source
    sys.modules[name] = module
    return module


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def first_line(error: Exception) -> str:
    """The exception as a learner would read it: type and the line that matters."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = next((line for line in lines if "Unsupported global" in line), lines[0] if lines else "")
    return f"{type(error).__name__}: {useful.split(' Please use')[0]}"


def try_load(blob: bytes, weights_only: bool, into: type | None = None) -> str:
    """'loads' or the error; with `into`, load the state_dict into a new instance of that class.

    weights_only=False is only ever used on bytes this module has just written itself.
    """
    try:
        loaded = torch.load(io.BytesIO(blob), weights_only=weights_only)
        if into is not None:
            into().load_state_dict(loaded)
        return "loads"
    except Exception as error:  # the lesson is the error itself
        return first_line(error)


def safetensors_available() -> bool:
    return importlib.util.find_spec("safetensors") is not None


def portability_table() -> list[dict]:
    """Each way of saving, reloaded as is, after renaming the class and after moving its module."""
    module = learner_module()
    try:
        model = module.TinyNet()
        whole, weights = saved(model), saved(model.state_dict())
        rows = [{"saved with": "torch.save(model)",
                 "reload unchanged": try_load(whole, weights_only=False),
                 "weights_only=True": try_load(whole, weights_only=True)},
                {"saved with": "torch.save(model.state_dict())",
                 "reload unchanged": try_load(weights, True, into=module.TinyNet),
                 "weights_only=True": try_load(weights, True, into=module.TinyNet)}]
        module.RenamedNet = module.TinyNet  # class TinyNet → class RenamedNet
        del module.TinyNet
        rows[0]["after renaming the class"] = try_load(whole, weights_only=False)
        rows[1]["after renaming the class"] = try_load(weights, True, into=module.RenamedNet)
        del sys.modules[module.__name__]  # model.py moved to models/tiny.py
        rows[0]["after moving its file"] = try_load(whole, weights_only=False)
        rows[1]["after moving its file"] = try_load(weights, True, into=module.RenamedNet)
        if safetensors_available():
            rows.append(safetensors_row(model, module.RenamedNet))
        return rows
    finally:
        sys.modules.pop(module.__name__, None)


def safetensors_row(model: torch.nn.Module, renamed: type) -> dict:
    """safetensors: tensors only, no pickle at all, so nothing to rename or refuse."""
    from safetensors.torch import load, save

    blob = save(model.state_dict())

    def attempt() -> str:
        try:
            renamed().load_state_dict(load(blob))
            return "loads"
        except Exception as error:
            return first_line(error)

    outcome = attempt()
    return {"saved with": "safetensors.torch.save(model.state_dict())",
            "reload unchanged": outcome, "weights_only=True": "no pickle: nothing to allow",
            "after renaming the class": outcome, "after moving its file": outcome}
