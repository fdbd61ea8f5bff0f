"""Inspect a checkpoint file before torch parses it: size, zip layout, every pickle opcode.

Threat model: learners upload checkpoint files from anywhere, so a file may be
hostile. ``torch.load(weights_only=True)`` blocks most code execution but still
accepts decompression bombs, huge declared storage sizes, expanded (zero-stride)
or meta tensors, absurdly deep or self-referential containers, ``bytearray`` and
globals that ``import torch`` allow-lists (``traceback.FrameSummary`` reads files).
So before torch parses anything we cap the size, check the zip layout, and
walk every pickle opcode against a small allow-list (only tensors, numbers,
strings, lists, tuples and dicts can be built). torch's process-wide safe-globals
list is emptied for the duration of our own torch.load (under a lock) and restored
afterwards, so nothing another module registered can widen what a checkpoint may
contain. ``course.runs.checkpoints`` validates every value of the result again.
"""

from __future__ import annotations

import io
import math
import os
import pickletools
import re
import struct
import threading
import zipfile
from pathlib import Path
from typing import Any

import torch

MAX_PICKLE_BYTES = 1024 * 1024
MAX_PICKLE_OPS = 500_000
MAX_MEMBERS = 10_000
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
MAX_TENSOR_DIMS = 16
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
TENSOR_DTYPES = FLOAT_DTYPES + (torch.int64,)
_STORAGE_GLOBALS = {
    "torch FloatStorage": torch.float32,
    "torch DoubleStorage": torch.float64,
    "torch HalfStorage": torch.float16,
    "torch BFloat16Storage": torch.bfloat16,
    "torch LongStorage": torch.int64,
}
_CALLABLE_GLOBALS = {
    "collections OrderedDict": "odict",
    "torch._utils _rebuild_tensor_v2": "tensor",
    "torch._utils _rebuild_parameter": "parameter",
}
_SIMPLE_OPS = {
    "NONE": None, "NEWTRUE": True, "NEWFALSE": False,
}
_ATOM_OPS = {"BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT", "BINUNICODE"}
_META_MEMBERS = {"version", "byteorder", ".format_version", ".storage_alignment",
                 ".data/serialization_id", ".data/version"}
_LOCATION_RE = re.compile(r"(cpu|cuda|mps)(:\d{1,3})?")
_LOAD_LOCK = threading.Lock()


class CheckpointError(Exception):
    """Raised for every checkpoint problem, with a message a learner can act on."""


def read_checked(source: Any, max_bytes: int) -> Any:
    """Read a path, bytes or upload, inspect it, then torch.load(weights_only=True) it."""
    data = _read_source(source, max_bytes)
    prefix = _check_archive(data)
    _safe_torch_load_precheck(data, prefix)
    return _torch_load(data)


def _check_size(size: int, max_bytes: int) -> None:
    """Refuse checkpoints over the cap: too big to load safely in a shared app."""
    if size > max_bytes:
        raise CheckpointError(
            f"The checkpoint is {size / 1e6:.1f} MB, which is over the "
            f"{max_bytes / 1e6:.1f} MB limit for checkpoints in this app.")



def _read_source(source: Any, max_bytes: int) -> bytes:
    """Read at most max_bytes + 1 bytes so an oversized input is never fully read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source[: max_bytes + 1])
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"There is no checkpoint file at '{path}'.")
        try:
            _check_size(path.stat().st_size, max_bytes)
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise CheckpointError(f"Could not read '{path}': {exc.strerror or exc}.") from exc
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(max_bytes + 1)
        if not isinstance(data, bytes):
            raise CheckpointError("The upload did not give binary data; open it in 'rb' mode.")
    else:
        raise CheckpointError(f"Cannot read a checkpoint from a {type(source).__name__}; "
                              "give a file path, bytes or an uploaded file.")
    _check_size(len(data), max_bytes)
    if not data:
        raise CheckpointError("The file is empty, so it is not a checkpoint.")
    return data


def _check_archive(data: bytes) -> str:
    """Check the zip layout torch.save writes and return its single folder prefix."""
    if not data.startswith(b"PK\x03\x04"):
        raise CheckpointError(_not_zip_message(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise CheckpointError("The checkpoint file is damaged or truncated (its zip structure "
                              "is broken). Was the save or download interrupted?") from exc
    if archive.comment or data[-22:-18] != b"PK\x05\x06" or not infos or len(infos) > MAX_MEMBERS:
        raise CheckpointError("The checkpoint file is damaged or has extra data appended; "
                              "it is not exactly what torch.save writes.")
    prefix = _check_member_names(infos)
    _check_member_layout(infos, archive.start_dir, data)
    try:
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError("The checkpoint file is damaged or truncated.") from exc
    if bad is not None:
        raise CheckpointError(f"The checkpoint file is corrupt (entry '{bad}' fails its checksum).")
    _check_meta_records(archive, prefix)
    return prefix


def _not_zip_message(data: bytes) -> str:
    """Explain what a non-zip input most likely is."""
    if data[:1] == b"\x80" or data[:1] in (b"(", b"c", b"]", b"}"):
        return ("This is an old-style pickle file, not torch.save's zip format. It is refused "
                "because loading such files can run arbitrary code.")
    return ("This is not a PyTorch checkpoint: it should be a .pt file saved by this app "
            "(torch.save writes a zip archive).")


def _check_member_names(infos: list[zipfile.ZipInfo]) -> str:
    """Allow only the entries torch.save writes, under one folder, without duplicates."""
    names = [info.orig_filename for info in infos]
    if len(set(names)) != len(names):
        raise CheckpointError("The checkpoint archive contains duplicate entries, which torch.save "
                              "never writes; the file was tampered with.")
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
        raise CheckpointError("This is a TorchScript archive (torch.jit.save), not a training "
                              "checkpoint; TorchScript files are not accepted.")
    prefix = names[0].split("/", 1)[0]
    for info in infos:
        name = info.orig_filename
        rest = name[len(prefix) + 1:] if name.startswith(prefix + "/") else None
        ok = (prefix not in ("", ".", "..") and rest is not None
              and "\\" not in name and "\x00" not in name
              and (rest in _META_MEMBERS or rest == "data.pkl"
                   or re.fullmatch(r"data/\d{1,9}", rest)))
        if not ok:
            raise CheckpointError(f"The checkpoint archive contains an unexpected entry '{name}'; "
                                  "only what torch.save writes is allowed.")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise CheckpointError(f"The checkpoint entry '{name}' is compressed. torch.save never "
                                  "compresses, and compressed entries can be zip bombs, so the "
                                  "file is refused.")
        if info.flag_bits & 0x1:
            raise CheckpointError("The checkpoint archive is encrypted; torch.save never is.")
    if f"{prefix}/data.pkl" not in names:
        raise CheckpointError("The archive has no data.pkl, so it is not a torch.save file.")
    return prefix


def _check_member_layout(infos: list[zipfile.ZipInfo], start_dir: int, data: bytes) -> None:
    """Entries must not overlap or run past the directory (overlap is a zip bomb trick)."""
    end_of_previous = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        start = info.header_offset
        if start < end_of_previous or data[start:start + 4] != b"PK\x03\x04":
            raise CheckpointError("The checkpoint archive has overlapping or misplaced entries "
                                  "(damaged file or zip bomb trick).")
        name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])
        end_of_previous = start + 30 + name_len + extra_len + info.compress_size
        if end_of_previous > start_dir:
            raise CheckpointError("The checkpoint archive declares entries larger than the file "
                                  "(truncated file or zip bomb).")


def _check_meta_records(archive: zipfile.ZipFile, prefix: str) -> None:
    """Small bookkeeping records must hold the simple values torch.save writes."""
    expected = {"version": rb"\d{1,3}\n?", "byteorder": rb"little", ".format_version": rb"\d{1,3}",
                ".storage_alignment": rb"\d{1,4}", ".data/version": rb"\d{1,3}\n?",
                ".data/serialization_id": rb"[0-9A-Za-z]{0,64}"}
    for rest, pattern in expected.items():
        name = f"{prefix}/{rest}"
        if name in archive.NameToInfo:
            too_big = archive.getinfo(name).file_size > 64
            if too_big or not re.fullmatch(pattern, archive.read(name)):
                raise CheckpointError(f"The checkpoint record '{rest}' has an unexpected value "
                                      "(only little-endian torch.save files are supported).")
    if f"{prefix}/version" not in archive.NameToInfo:
        raise CheckpointError("The checkpoint archive has no version record; it is not a "
                              "torch.save file.")


def _safe_torch_load_precheck(data: bytes, prefix: str) -> None:
    """Check data.pkl opcode by opcode and match declared storages to the archive entries."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    pickle_info = archive.getinfo(f"{prefix}/data.pkl")
    if pickle_info.file_size > MAX_PICKLE_BYTES:
        raise CheckpointError("The checkpoint's description part (data.pkl) is unreasonably large.")
    storages = _PickleChecker(archive.read(pickle_info)).run()
    data_members = {
        info.orig_filename.rsplit("/", 1)[1]: info.file_size
        for info in archive.infolist()
        if info.orig_filename.startswith(f"{prefix}/data/")
    }
    if set(data_members) != set(storages):
        raise CheckpointError("The checkpoint's tensor data entries do not match its description "
                              "(damaged or tampered file).")
    for key, (dtype, numel) in storages.items():
        if numel * _itemsize(dtype) != data_members[key]:
            raise CheckpointError(f"A tensor in the checkpoint declares {numel} values but its "
                                  f"data entry holds {data_members[key]} bytes (damaged or "
                                  "tampered file).")


def _itemsize(dtype: torch.dtype) -> int:
    """Bytes per element of a dtype."""
    return torch.empty((), dtype=dtype).element_size()


class _Node:
    """Abstract stand-in for an object the unpickler would build; tracks shape, not content."""

    __slots__ = ("kind", "value", "items", "depth", "size", "frozen")

    def __init__(self, kind: str, value: Any = None, items: list[_Node] | None = None) -> None:
        self.kind, self.value, self.items = kind, value, items or []
        self.depth, self.size, self.frozen = 1, 1, False


class _PickleChecker:
    """Simulates torch's weights-only unpickler on abstract values, refusing anything unusual."""

    def __init__(self, pickle_bytes: bytes) -> None:
        self.pickle_bytes = pickle_bytes
        self.stack: list[_Node] = []
        self.marks: list[list[_Node]] = []
        self.memo: dict[int, _Node] = {}
        self.storages: dict[str, tuple[torch.dtype, int]] = {}

    def run(self) -> dict[str, tuple[torch.dtype, int]]:
        """Check every opcode; return the storages the pickle declares."""
        stopped_at = None
        try:
            ops = pickletools.genops(self.pickle_bytes)
            for count, (opcode, arg, pos) in enumerate(ops):
                if count >= MAX_PICKLE_OPS:
                    raise CheckpointError("The checkpoint's data.pkl has too many instructions.")
                self.step(opcode.name, arg)
                stopped_at = pos if opcode.name == "STOP" else None
        except CheckpointError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise CheckpointError("The checkpoint's data.pkl is damaged or was not written by "
                                  "torch.save.") from exc
        if stopped_at != len(self.pickle_bytes) - 1:
            raise CheckpointError("The checkpoint's data.pkl is truncated or has trailing data.")
        return self.storages

    def step(self, name: str, arg: Any) -> None:
        """Apply one opcode to the abstract stack."""
        if name == "PROTO":
            if arg != 2:
                raise CheckpointError(f"The checkpoint uses pickle protocol {arg}; torch.save "
                                      "writes protocol 2.")
        elif name in _SIMPLE_OPS:
            self.stack.append(_Node("atom", _SIMPLE_OPS[name]))
        elif name in _ATOM_OPS:
            self.stack.append(_Node("atom", arg))
        elif name == "MARK":
            self.marks.append(self.stack)
            self.stack = []
        elif name == "EMPTY_TUPLE":
            self.stack.append(self.tuple_of([]))
        elif name == "TUPLE":
            items = self.pop_mark()
            self.stack.append(self.tuple_of(items))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            count = int(name[-1])
            items = self.pop_n(count)
            self.stack.append(self.tuple_of(items))
        elif name == "EMPTY_LIST":
            self.stack.append(_Node("list"))
        elif name == "EMPTY_DICT":
            self.stack.append(_Node("dict"))
        elif name == "APPEND":
            item = self.pop_n(1)
            self.add_items("list", item)
        elif name == "APPENDS":
            self.add_items("list", self.pop_mark())
        elif name == "SETITEM":
            self.add_items("dict", self.pop_n(2))
        elif name == "SETITEMS":
            self.add_items("dict", self.pop_mark())
        elif name in ("BINPUT", "LONG_BINPUT"):
            if len(self.memo) >= MAX_ITEMS:
                raise CheckpointError("The checkpoint has too many items.")
            self.memo[arg] = self.top()
        elif name in ("BINGET", "LONG_BINGET"):
            self.stack.append(self.memo[arg])
        elif name == "GLOBAL":
            self.stack.append(self.global_node(arg))
        elif name == "REDUCE":
            args = self.pop_n(1)[0]
            self.stack.append(self.reduce(self.pop_n(1)[0], args))
        elif name == "BUILD":
            self.build(self.pop_n(1)[0])
        elif name == "BINPERSID":
            self.stack.append(self.persistent(self.pop_n(1)[0]))
        elif name == "STOP":
            self.pop_n(1)
        else:
            raise CheckpointError(f"The checkpoint's data.pkl uses the pickle instruction {name}, "
                                  "which torch.save never writes; the file is refused.")

    def top(self) -> _Node:
        """Peek at the top of the abstract stack."""
        if not self.stack:
            raise CheckpointError("The checkpoint's data.pkl is malformed (empty stack).")
        return self.stack[-1]

    def pop_n(self, count: int) -> list[_Node]:
        """Pop count nodes, oldest first."""
        if len(self.stack) < count:
            raise CheckpointError("The checkpoint's data.pkl is malformed (stack underflow).")
        items = self.stack[len(self.stack) - count:]
        del self.stack[len(self.stack) - count:]
        return items

    def pop_mark(self) -> list[_Node]:
        """Pop everything pushed since the last MARK."""
        if not self.marks:
            raise CheckpointError("The checkpoint's data.pkl is malformed (missing mark).")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def embed(self, parent: _Node, child: _Node) -> None:
        """Put child inside parent; child may never change again, which rules out cycles."""
        if child is parent:
            raise CheckpointError("The checkpoint's data refers to itself (a self-referential "
                                  "container); the file is refused.")
        child.frozen = True
        parent.depth = max(parent.depth, child.depth + 1)
        parent.size += child.size
        if parent.depth > MAX_DEPTH:
            raise CheckpointError("The checkpoint's data is nested too deeply (more than "
                                  f"{MAX_DEPTH} levels); real checkpoints are a few levels deep.")
        if parent.size > MAX_ITEMS:
            raise CheckpointError(f"The checkpoint has too many items (over {MAX_ITEMS}).")

    def tuple_of(self, items: list[_Node]) -> _Node:
        """Build an immutable tuple node."""
        node = _Node("tuple", items=items)
        for item in items:
            self.embed(node, item)
        return node

    def add_items(self, kind: str, items: list[_Node]) -> None:
        """APPEND/SETITEM(S) onto the container on top of the stack."""
        target = self.top()
        if target.kind not in ((kind,) if kind == "list" else ("dict", "odict")):
            raise CheckpointError("The checkpoint's data.pkl adds items to something that is not a "
                                  "list or dict; the file is refused.")
        if target.frozen:
            raise CheckpointError("The checkpoint's data refers to itself (a self-referential "
                                  "container); the file is refused.")
        if kind == "dict":
            if len(items) % 2:
                raise CheckpointError("The checkpoint's data.pkl is malformed (odd dict items).")
            for key in items[0::2]:
                if key.kind != "atom" or type(key.value) not in (str, int):
                    raise CheckpointError("The checkpoint has a dict key that is not a string or "
                                          "integer; the file is refused.")
        for item in items:
            self.embed(target, item)

    def global_node(self, arg: str) -> _Node:
        """Allow only the few classes and functions a state dict needs."""
        if arg in _CALLABLE_GLOBALS:
            return _Node("global", _CALLABLE_GLOBALS[arg])
        if arg in _STORAGE_GLOBALS:
            return _Node("storage_type", _STORAGE_GLOBALS[arg])
        raise CheckpointError(_global_message(arg))

    def reduce(self, func: _Node, args: _Node) -> _Node:
        """Allow calls only to OrderedDict() and the tensor rebuild helpers, arguments checked."""
        if func.kind != "global" or args.kind != "tuple":
            raise CheckpointError("The checkpoint's data.pkl calls something that is not allowed; "
                                  "the file is refused.")
        self.embed(_Node("call"), args)
        if func.value == "odict":
            if args.items:
                raise CheckpointError("The checkpoint builds an OrderedDict in an unusual way.")
            return _Node("odict")
        if func.value == "parameter":
            _check_parameter_args(args.items)
            return _Node("tensor")
        _check_tensor_args(args.items)
        return _Node("tensor")

    def build(self, state: _Node) -> None:
        """BUILD is only allowed to set a state dict's _metadata attribute."""
        target = self.top()
        keys = [k.value for k in state.items[0::2]]
        allowed = keys in ([], ["_metadata"]) and state.kind == "dict"
        if target.kind != "odict" or target.frozen or not allowed:
            raise CheckpointError("The checkpoint's data.pkl sets attributes on an object; only a "
                                  "state dict's '_metadata' is allowed.")
        self.embed(target, state)

    def persistent(self, pid: _Node) -> _Node:
        """A persistent id may only be ('storage', storage type, key, location, numel)."""
        values = [item.value for item in pid.items]
        kinds = [item.kind for item in pid.items]
        if (pid.kind != "tuple" or kinds != ["atom", "storage_type", "atom", "atom", "atom"]
                or values[0] != "storage" or type(values[2]) is not str
                or not re.fullmatch(r"\d{1,9}", values[2]) or type(values[3]) is not str
                or not _LOCATION_RE.fullmatch(values[3])
                or type(values[4]) is not int or values[4] < 0):
            raise CheckpointError("The checkpoint refers to external data in a way torch.save does "
                                  "not (only tensor storages on cpu/cuda are allowed).")
        dtype, key, numel = values[1], values[2], values[4]
        if self.storages.setdefault(key, (dtype, numel)) != (dtype, numel):
            raise CheckpointError("The checkpoint describes the same tensor data in two "
                                  "conflicting ways.")
        return _Node("storage", (dtype, numel))


def _global_message(arg: str) -> str:
    """Explain a refused global in learner terms."""
    dotted = arg.replace(" ", ".")
    if "meta_tensor" in arg:
        return ("The checkpoint contains a tensor on the 'meta' device, which has no values; "
                "it is not allowed in a checkpoint.")
    if arg.endswith("Storage"):
        return (f"The checkpoint contains tensors of an unsupported type ('{dotted}'); only "
                "floating-point and int64 tensors are allowed.")
    return (f"The checkpoint asks to create '{dotted}', which is not allowed in a checkpoint "
            "(only tensors, numbers, strings, lists and dicts are). It was refused before "
            "anything in the file was run or read.")


def _int_tuple(node: _Node) -> list[int] | None:
    """Return the ints of a tuple node, or None if it is anything else."""
    ints = [i.value for i in node.items if i.kind == "atom" and type(i.value) is int]
    return ints if node.kind == "tuple" and len(ints) == len(node.items) else None


def _check_tensor_args(items: list[_Node]) -> None:
    """Tensor views must stay inside their storage, with no zero strides and a sane size."""
    shape = _int_tuple(items[2]) if len(items) in (6, 7) else None
    stride = _int_tuple(items[3]) if shape is not None else None
    ok = (stride is not None and items[0].kind == "storage" and items[1].kind == "atom"
          and type(items[1].value) is int
          and items[4].kind == "atom" and type(items[4].value) is bool
          and items[5].kind == "odict" and items[5].size == 1
          and (len(items) == 6 or (items[6].kind in ("dict", "odict") and items[6].size == 1)))
    if not ok:
        raise CheckpointError("The checkpoint describes a tensor in a way torch.save does not.")
    storage_numel = items[0].value[1]
    check_view(shape, stride, items[1].value, storage_numel)


def check_view(shape: list[int], stride: list[int], offset: int, storage_numel: int) -> None:
    """Reject views that repeat memory (zero stride), overlap heavily or reach outside the data."""
    if len(shape) != len(stride) or len(shape) > MAX_TENSOR_DIMS or offset < 0:
        raise CheckpointError("The checkpoint contains a tensor with an impossible shape.")
    if any(s < 0 for s in shape) or any(s < 0 for s in stride):
        raise CheckpointError("The checkpoint contains a tensor with negative sizes or strides.")
    if any(size > 1 and st == 0 for size, st in zip(shape, stride, strict=True)):
        raise CheckpointError("The checkpoint contains an expanded tensor (stride 0), which can "
                              "pretend to be far larger than its data; the file is refused.")
    numel = math.prod(shape)
    if numel == 0:
        return
    extent = offset + sum((size - 1) * st for size, st in zip(shape, stride, strict=True)) + 1
    if numel > storage_numel or extent > storage_numel:
        raise CheckpointError(f"The checkpoint contains a tensor of shape {list(shape)} that "
                              f"claims more values than its data holds ({storage_numel}); "
                              "the file is refused.")


def _check_parameter_args(items: list[_Node]) -> None:
    """nn.Parameter wraps an already-checked tensor and carries no hooks."""
    if not (len(items) == 3 and items[0].kind == "tensor" and items[1].kind == "atom"
            and type(items[1].value) is bool and items[2].kind == "odict" and items[2].size == 1):
        raise CheckpointError("The checkpoint describes a parameter in a way torch.save does not.")


def _torch_load(data: bytes) -> Any:
    """torch.load(weights_only=True) with no extra safe globals, so the registry can't widen it."""
    # The registry is process-wide: we empty it only while our own load runs (serialised by a
    # lock) and then add back exactly what was there, so other code sees it unchanged afterwards.
    # A torch.load elsewhere in the process during that window would also see it empty.
    with _LOAD_LOCK:
        saved = torch.serialization.get_safe_globals()
        torch.serialization.clear_safe_globals()
        try:
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        finally:
            torch.serialization.add_safe_globals(saved)
