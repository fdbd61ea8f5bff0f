"""The bad-file lab: five kinds of checkpoint that must be refused, built for real.

The code-running pickle is assembled opcode by opcode and never loaded by anything here:
it exists only to be X-rayed and refused.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import torch
from torch import nn

from course.concepts import resume_race


def saved(obj) -> bytes:
    """torch.save into memory."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def good_state_dict() -> bytes:
    """A plain state_dict of the page's model: what a learner should share."""
    return saved(resume_race.race_model(torch.Generator().manual_seed(0)).state_dict())


def whole_model() -> bytes:
    """torch.save(model): the pickle names the model's classes."""
    return saved(resume_race.race_model(torch.Generator().manual_seed(0)))


# GLOBAL os.system, the argument tuple, REDUCE: what unpickling would turn into os.system(...).
COMMAND = b"echo this file ran a command"
CODE_RUNNING_PICKLE = (b"\x80\x02" + b"cos\nsystem\n"
                       + b"X" + len(COMMAND).to_bytes(4, "little") + COMMAND
                       + b"\x85" + b"R" + b".")


def with_pickle(archive_bytes: bytes, pickle: bytes) -> bytes:
    """The same torch.save archive with its data.pkl replaced: a file that looks like a checkpoint."""
    source = zipfile.ZipFile(io.BytesIO(archive_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            content = pickle if info.filename.endswith("/data.pkl") else source.read(info)
            target.writestr(info.filename, content)
    return out.getvalue()


def code_running() -> bytes:
    """A .pt whose pickle would call os.system when loaded with weights_only=False."""
    return with_pickle(saved({}), CODE_RUNNING_PICKLE)


def truncated() -> bytes:
    """A good file cut in half, as an interrupted download leaves it."""
    data = good_state_dict()
    return data[: len(data) // 2]


def wrong_architecture() -> bytes:
    """A 784-64-10 MLP's state_dict: right format, wrong shapes for the page's 784-32-10."""
    return saved(nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)).state_dict())


def nan_weights() -> bytes:
    """The page's model after a diverged run: one NaN is enough."""
    state = resume_race.race_model(torch.Generator().manual_seed(0)).state_dict()
    state["0.weight"][0, 0] = float("nan")
    return saved(state)


def numpy_best_acc() -> bytes:
    """The common real-world one: best_acc kept as np.float64 next to the weights."""
    state = resume_race.race_model(torch.Generator().manual_seed(0)).state_dict()
    return saved({"epoch": 10, "model_state_dict": state, "best_acc": np.float64(0.9731)})


BAD_FILES = {
    "a pickled whole model (torch.save(model))": whole_model,
    "a pickle that would run a command": code_running,
    "a truncated file (half a download)": truncated,
    "the wrong architecture (784-64-10)": wrong_architecture,
    "NaN weights (a diverged run)": nan_weights,
    "best_acc saved as np.float64": numpy_best_acc,
}
