"""Checkpoints: exact round trips, atomic writes, and refusal of hostile or broken files."""

from __future__ import annotations

import copy
import io
import os
import pickle
import random
import traceback
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from course.runs import checkpoints as ck
from course.runs.checkpoints import CheckpointError


class Harmless:
    """A class a learner might register with add_safe_globals."""


class RunsCode:
    """Unpickling this would run a shell command."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f"touch {self.sentinel}",))


def make_model(hidden: int = 32) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def train_steps(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 1, 28, 28, generator=gen)
        y = torch.randint(0, 10, (16,), generator=gen)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


@pytest.fixture(scope="module")
def trained_states():
    """Train once per module (a few Adam steps on random data); tests get fresh copies."""
    torch.manual_seed(0)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_steps(model, optimizer, 3, seed=1)
    return copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())


@pytest.fixture
def trained(trained_states):
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.load_state_dict(trained_states[0])
    optimizer.load_state_dict(copy.deepcopy(trained_states[1]))
    return model, optimizer


@pytest.fixture(scope="module")
def good_bytes(trained_states) -> bytes:
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.load_state_dict(trained_states[0])
    optimizer.load_state_dict(copy.deepcopy(trained_states[1]))
    return ck.checkpoint_bytes(model, optimizer, 3, {"loss": 0.5}, config={"hidden": 32})


@pytest.fixture
def torch_load_calls(monkeypatch) -> list:
    """Record torch.load calls: refusals before parsing must leave this empty."""
    calls: list = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    return calls


@pytest.fixture
def restore_safe_globals():
    saved = torch.serialization.get_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


def raw_checkpoint(model: nn.Module, optimizer: torch.optim.Optimizer, **changes) -> dict:
    """A valid checkpoint dict with fields replaced, bypassing save-time checks."""
    ckpt = ck.make_checkpoint(model, optimizer, 1, {"loss": 1.0})
    ckpt.update(changes)
    return ckpt


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(entries: list[tuple[str, bytes]], compress: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as archive:
        for name, payload in entries:
            archive.writestr(name, payload)
    return out.getvalue()


def with_pickle(data: bytes, pickle_bytes: bytes) -> bytes:
    """The archive of `data` with data.pkl replaced and tensor data dropped."""
    kept = [(n, b) for n, b in members(data).items() if "/data/" not in n and
            not n.endswith("data.pkl")]
    return rezip(kept + [("archive/data.pkl", pickle_bytes)])


def refusal(source, **kwargs) -> str:
    with pytest.raises(CheckpointError) as info:
        ck.load_checkpoint(source, **kwargs)
    return str(info.value)


# ------------------------------------------------------------------ round trips


def test_round_trip_from_path_and_bytes_restores_outputs_and_optimizer_state(trained, tmp_path):
    model, optimizer = trained
    path = ck.save_checkpoint(tmp_path / "run.pt", model, optimizer, 3, {"loss": 0.25},
                              history=[{"epoch": 1, "loss": 0.5}], config={"hidden": 32})
    x = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(7))
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        loaded = ck.load_checkpoint(source)
        fresh = make_model()
        fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.1)
        ck.apply_checkpoint(fresh, loaded, fresh_opt)
        assert torch.equal(fresh(x), model(x))
        assert (loaded.epoch, loaded.metrics, loaded.config) == (3, {"loss": 0.25}, {"hidden": 32})
        assert loaded.history == [{"epoch": 1, "loss": 0.5}]
        assert loaded.scheduler_state is None
        for old, new in zip(optimizer.state.values(), fresh_opt.state.values(), strict=True):
            for key in ("exp_avg", "exp_avg_sq", "step"):
                assert torch.equal(old[key], new[key])
        assert fresh_opt.param_groups[0]["lr"] == 1e-3


def test_resuming_one_more_step_matches_the_uninterrupted_run(trained, good_bytes):
    model, optimizer = trained
    fresh = make_model()
    fresh_opt = torch.optim.Adam(fresh.parameters())
    ck.apply_checkpoint(fresh, ck.load_checkpoint(good_bytes), fresh_opt)
    train_steps(model, optimizer, 1, seed=9)
    train_steps(fresh, fresh_opt, 1, seed=9)
    for a, b in zip(model.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)


def test_restoring_rng_state_reproduces_random_draws(trained):
    model, optimizer = trained
    data = ck.checkpoint_bytes(model, optimizer, 1, {})
    expected = (torch.rand(5), random.random())
    torch.manual_seed(123)
    random.seed(123)
    ck.restore_rng_state(ck.load_checkpoint(data).rng_state)
    assert torch.equal(torch.rand(5), expected[0])
    assert random.random() == expected[1]


def test_scheduler_state_is_saved_only_when_given_and_restored(trained):
    model, optimizer = trained
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    train_steps(model, optimizer, 1, seed=2)
    scheduler.step()
    loaded = ck.load_checkpoint(ck.checkpoint_bytes(model, optimizer, 1, {}, scheduler=scheduler))
    fresh = make_model()
    fresh_opt = torch.optim.Adam(fresh.parameters())
    fresh_sched = torch.optim.lr_scheduler.StepLR(fresh_opt, step_size=5)
    ck.apply_checkpoint(fresh, loaded, fresh_opt, fresh_sched)
    assert fresh_sched.state_dict() == scheduler.state_dict()
    assert "scheduler_state" not in ck.make_checkpoint(model, optimizer, 1, {})


# ------------------------------------------------------------------ atomic writes


def test_failed_write_keeps_the_old_checkpoint_and_leaves_no_temp_file(trained, tmp_path,
                                                                      monkeypatch):
    model, optimizer = trained
    path = ck.save_checkpoint(tmp_path / "run.pt", model, optimizer, 1, {})
    before = path.read_bytes()

    def broken_save(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointError, match="Could not save"):
        ck.save_checkpoint(path, model, optimizer, 2, {})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.pt"]
    assert ck.load_checkpoint(path).epoch == 1


def test_saving_nan_weights_is_refused(trained, tmp_path):
    model, optimizer = trained
    with torch.no_grad():
        model[1].weight[0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        ck.save_checkpoint(tmp_path / "run.pt", model, optimizer, 1, {})
    assert not os.listdir(tmp_path)


def test_checkpoint_over_the_cap_is_refused_on_save_and_load(trained, tmp_path, good_bytes):
    model, optimizer = trained
    with pytest.raises(CheckpointError, match="limit"):
        ck.save_checkpoint(tmp_path / "run.pt", model, optimizer, 1, {}, max_bytes=1000)
    assert not os.listdir(tmp_path)
    assert "limit" in refusal(good_bytes, max_bytes=1000)
    (tmp_path / "big.pt").write_bytes(good_bytes)
    assert "limit" in refusal(tmp_path / "big.pt", max_bytes=1000)


# ------------------------------------------------------------------ hostile files


def test_pickle_that_runs_code_is_refused_and_never_executed(trained, tmp_path, torch_load_calls):
    sentinel = tmp_path / "SENTINEL"
    data = saved(raw_checkpoint(*trained, config={"x": RunsCode(sentinel)}))
    message = refusal(data)
    assert "system" in message and "not allowed" in message
    assert not sentinel.exists()
    assert torch_load_calls == []


def test_frame_summary_is_refused_before_any_file_is_read(trained, tmp_path, torch_load_calls,
                                                          monkeypatch):
    import linecache

    reads: list = []
    monkeypatch.setattr(linecache, "getlines", lambda *a, **k: reads.append(a) or [])
    frame = traceback.FrameSummary("/etc/passwd", 1, "x", lookup_line=False)
    data = saved(raw_checkpoint(*trained, history=[frame]))
    assert "FrameSummary" in refusal(data)
    assert reads == [] and torch_load_calls == []


def test_bytearray_is_refused(trained, torch_load_calls):
    data = saved(raw_checkpoint(*trained, config={"blob": bytearray(b"abc")}))
    assert "bytearray" in refusal(data)
    assert torch_load_calls == []


def test_expanded_zero_stride_tensor_is_refused(trained, torch_load_calls):
    model, optimizer = trained
    state = model.state_dict()
    state["1.bias"] = torch.zeros(1).expand(10**6)
    assert "stride 0" in refusal(saved(raw_checkpoint(model, optimizer, model_state=state)))
    assert torch_load_calls == []


def test_meta_tensor_is_refused(trained):
    model, optimizer = trained
    state = model.state_dict()
    state["1.bias"] = torch.empty(32, device="meta")
    assert "meta" in refusal(saved(raw_checkpoint(model, optimizer, model_state=state)))


def test_unsupported_dtype_is_refused(trained):
    model, optimizer = trained
    state = model.state_dict()
    state["mask"] = torch.ones(3, dtype=torch.uint8)
    assert "unsupported type" in refusal(saved(raw_checkpoint(model, optimizer, model_state=state)))


def test_nan_weights_are_refused(trained):
    model, optimizer = trained
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["3.weight"][0, 0] = float("inf")
    assert "NaN or infinite" in refusal(saved(raw_checkpoint(model, optimizer, model_state=state)))


def test_hundred_thousand_deep_list_is_refused_without_recursion(good_bytes, torch_load_calls):
    depth = 100_000
    deep = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    assert "nested too deeply" in refusal(with_pickle(good_bytes, deep))
    assert torch_load_calls == []


def test_self_referential_list_is_refused(good_bytes):
    loop = b"\x80\x02]q\x00h\x00a."  # l = []; l.append(l)
    assert "refers to itself" in refusal(with_pickle(good_bytes, loop))


def test_exponentially_shared_list_is_refused(good_bytes):
    # Each level is [previous, previous]: 25 memo references expand to 2**25 items.
    body = b"]q\x00"
    for level in range(25):
        body += b"](h" + bytes([level]) + b"h" + bytes([level]) + b"eq" + bytes([level + 1])
    assert "too many items" in refusal(with_pickle(good_bytes, b"\x80\x02" + body + b"."))


def test_declared_storage_larger_than_its_data_is_refused(trained, torch_load_calls):
    data = saved(raw_checkpoint(*trained))
    entries = [(n, b[:8] if n == "archive/data/0" else b) for n, b in members(data).items()]
    assert "declares" in refusal(rezip(entries))
    assert torch_load_calls == []


def test_compressed_member_is_refused_as_possible_zip_bomb(good_bytes):
    entries = list(members(good_bytes).items()) + [("archive/data/999", bytes(5_000_000))]
    assert "zip bomb" in refusal(rezip(entries, zipfile.ZIP_DEFLATED))


def test_huge_declared_member_size_is_refused(good_bytes):
    archive = zipfile.ZipFile(io.BytesIO(good_bytes))
    info = archive.getinfo("archive/data.pkl")
    directory = bytearray(good_bytes)
    # Patch both sizes of data.pkl in the central directory to claim 3 GB.
    at = directory.index(b"PK\x01\x02" + good_bytes[archive.start_dir + 4:archive.start_dir + 20])
    directory[at + 20:at + 28] = (3 * 10**9).to_bytes(4, "little") * 2
    assert info.filename.endswith("data.pkl")
    message = refusal(bytes(directory))
    assert "zip bomb" in message or "damaged" in message


@pytest.mark.parametrize("name", ["../evil", "/abs/evil", "archive/extra.py", "other/data.pkl"])
def test_unexpected_zip_member_is_refused(good_bytes, name):
    entries = list(members(good_bytes).items()) + [(name, b"x")]
    assert f"unexpected entry '{name}'" in refusal(rezip(entries))


def test_duplicate_zip_member_is_refused(good_bytes):
    entries = list(members(good_bytes).items())
    with pytest.warns(UserWarning):
        data = rezip(entries + [("archive/data.pkl", entries[0][1])])
    assert "duplicate" in refusal(data)


def test_torchscript_archive_is_refused(good_bytes):
    entries = list(members(good_bytes).items()) + [("archive/constants.pkl", b"")]
    assert "TorchScript" in refusal(rezip(entries))


def test_legacy_pickle_formats_are_refused(trained, torch_load_calls):
    buffer = io.BytesIO()
    torch.save(raw_checkpoint(*trained), buffer, _use_new_zipfile_serialization=False)
    assert "old-style pickle" in refusal(buffer.getvalue())
    assert "old-style pickle" in refusal(pickle.dumps({"model_state": {}}))
    assert torch_load_calls == []


@pytest.mark.parametrize("data, word", [
    (b"", "empty"),
    (b"hello, this is a text file\n", "not a PyTorch checkpoint"),
    (random.Random(0).randbytes(4096), "not a PyTorch checkpoint"),
    (b"PK\x03\x04" + random.Random(1).randbytes(4096), "damaged"),
])
def test_non_checkpoint_inputs_are_refused(data, word, tmp_path):
    assert word in refusal(data)
    (tmp_path / "file.pt").write_bytes(data)
    assert word in refusal(tmp_path / "file.pt")


def test_missing_file_is_refused(tmp_path):
    assert "no checkpoint file" in refusal(tmp_path / "nope.pt")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_is_refused(good_bytes, cut):
    assert "damaged" in refusal(good_bytes[: int(len(good_bytes) * cut)])


def test_flipped_tensor_byte_fails_the_checksum(good_bytes):
    data = bytearray(good_bytes)
    data[len(data) // 2] ^= 0xFF
    message = refusal(bytes(data))
    assert "checksum" in message or "damaged" in message


def test_mutated_pickles_only_ever_raise_checkpoint_error(good_bytes):
    entries = members(good_bytes)
    pkl = entries["archive/data.pkl"]
    rng = random.Random(0)
    for _ in range(60):
        mutated = bytearray(pkl)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        changed = dict(entries, **{"archive/data.pkl": bytes(mutated)})
        try:
            ck.load_checkpoint(rezip(list(changed.items())))
        except CheckpointError:
            pass


# ------------------------------------------------------------------ structure and fit


def test_missing_keys_are_named(trained):
    ckpt = raw_checkpoint(*trained)
    del ckpt["model_state"]
    message = refusal(saved(ckpt))
    assert "missing" in message and "'model_state'" in message


def test_bare_state_dict_gets_a_hint(trained):
    assert "bare model state_dict" in refusal(saved(trained[0].state_dict()))


def test_wrong_architecture_names_layers_and_both_shapes(good_bytes):
    loaded = ck.load_checkpoint(good_bytes)
    other = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10),
                          nn.ReLU(), nn.Linear(10, 2))
    before = [p.clone() for p in other.parameters()]
    with pytest.raises(CheckpointError) as info:
        ck.apply_checkpoint(other, loaded)
    message = str(info.value)
    assert "layer '1.weight': checkpoint has [32, 784], your model has [16, 784]" in message
    assert "missing from checkpoint: 5.weight, 5.bias" in message
    assert all(torch.equal(a, b) for a, b in zip(before, other.parameters(), strict=True))


def test_optimizer_of_another_kind_is_refused_before_anything_changes(good_bytes):
    fresh = make_model()
    before = [p.clone() for p in fresh.parameters()]
    with pytest.raises(CheckpointError, match="saved with Adam, your optimizer is SGD"):
        ck.apply_checkpoint(fresh, ck.load_checkpoint(good_bytes), torch.optim.SGD(
            fresh.parameters(), lr=0.1, nesterov=True, momentum=0.9))
    assert all(torch.equal(a, b) for a, b in zip(before, fresh.parameters(), strict=True))


# ------------------------------------------------------------------ safe globals


def test_registered_safe_global_is_still_refused_and_registry_restored(
        trained, restore_safe_globals):
    torch.serialization.add_safe_globals([Harmless])
    before = set(map(repr, torch.serialization.get_safe_globals()))
    data = saved(raw_checkpoint(*trained, config={"x": Harmless()}))
    assert "Harmless" in refusal(data)
    assert set(map(repr, torch.serialization.get_safe_globals())) == before


def test_safe_globals_are_cleared_during_load_and_restored_after(
        good_bytes, monkeypatch, restore_safe_globals):
    torch.serialization.add_safe_globals([Harmless])
    before = set(map(repr, torch.serialization.get_safe_globals()))
    seen: list = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(torch.serialization.get_safe_globals())
        assert kwargs.get("weights_only") is True
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    ck.load_checkpoint(good_bytes)
    assert seen == [[]]
    assert set(map(repr, torch.serialization.get_safe_globals())) == before
