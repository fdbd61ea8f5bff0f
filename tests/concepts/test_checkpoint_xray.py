"""The X-ray names a file's pickle globals without loading it; every bad file of the lab is
refused by the course's safe loader with a clear CheckpointError."""

from __future__ import annotations

import pickletools

import pytest
import torch

from course.concepts import bad_checkpoints, checkpoint_xray, resume_race
from course.runs import checkpoints
from course.runs.archive import CheckpointError


def names(data: bytes) -> list[str]:
    return [g.name for g in checkpoint_xray.pickle_globals(data)]


def test_state_dict_needs_only_allowed_globals():
    data = bad_checkpoints.good_state_dict()
    assert set(names(data)) <= checkpoint_xray.STATE_DICT_GLOBALS | {"torch.FloatStorage"}
    assert checkpoint_xray.blocking_globals(data) == []


def test_xray_names_the_globals_of_a_pickled_whole_model():
    blocking = {g.name for g in checkpoint_xray.blocking_globals(bad_checkpoints.whole_model())}
    assert {"torch.nn.modules.container.Sequential", "torch.nn.modules.linear.Linear",
            "torch.nn.modules.activation.ReLU"} <= blocking
    why = checkpoint_xray.explain_global("torch.nn.modules.linear.Linear")
    assert "state_dict" in why


def test_numpy_best_acc_is_named_with_the_fix():
    blocking = checkpoint_xray.blocking_globals(bad_checkpoints.numpy_best_acc())
    assert any(g.name.startswith("numpy.") and "float(x)" in g.why for g in blocking)
    with pytest.raises(Exception, match="Unsupported global"):  # torch itself agrees
        import io
        torch.load(io.BytesIO(bad_checkpoints.numpy_best_acc()), weights_only=True)


def test_code_running_pickle_is_named_without_being_run():
    data = bad_checkpoints.code_running()
    blocking = checkpoint_xray.blocking_globals(data)
    assert [g.name for g in blocking] == ["os.system"]
    assert "Never load it" in blocking[0].why
    ops = [op.name for op, _, _ in pickletools.genops(checkpoint_xray.pickle_bytes(data))]
    assert ops == ["PROTO", "GLOBAL", "BINUNICODE", "TUPLE1", "REDUCE", "STOP"]


def test_truncated_file_is_a_damaged_pickle_not_a_crash():
    with pytest.raises(ValueError, match="damaged or truncated"):
        checkpoint_xray.pickle_globals(bad_checkpoints.truncated())


@pytest.mark.parametrize("name, message", [
    ("a pickled whole model (torch.save(model))", "torch.nn.modules.container.Sequential"),
    ("a pickle that would run a command", "'os.system'"),
    ("a truncated file (half a download)", "damaged or truncated"),
    ("NaN weights (a diverged run)", "NaN"),
    ("best_acc saved as np.float64", "numpy"),
])
def test_safe_loader_refuses_each_bad_file(name, message):
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        checkpoints.load_model_state(bad_checkpoints.BAD_FILES[name]())


def test_wrong_architecture_loads_but_fits_no_model():
    state = checkpoints.load_model_state(bad_checkpoints.wrong_architecture())
    name, problems = checkpoint_xray.matching_model(state)
    assert name is None
    assert "'0.weight': file [64, 784], model [32, 784]" in problems[0]


def test_good_files_load_and_match_their_model(data_dir):
    state = checkpoints.load_model_state(bad_checkpoints.good_state_dict())
    name, model = checkpoint_xray.matching_model(state)
    assert name == "this page's 784-32-10 MLP"
    race = resume_race.race_data()
    accuracy = checkpoint_xray.evaluate(model, race.test_x, race.test_y)
    assert accuracy == resume_race.accuracy(model, race.test_x, race.test_y)
    from course.engine import models
    mlp = models.build_model(models.ModelConfig(kind="cnn"))
    name, _ = checkpoint_xray.matching_model(
        checkpoints.load_model_state(bad_checkpoints.saved(mlp.state_dict())))
    assert name == models.MODEL_LABELS["cnn"]


def test_tutorial_checkpoint_dict_gives_its_weights():
    model = resume_race.race_model(torch.Generator().manual_seed(5))
    optimizer = torch.optim.Adam(model.parameters())
    data = bad_checkpoints.saved({"epoch": 3, "model_state_dict": model.state_dict(),
                                  "optimizer_state_dict": optimizer.state_dict(), "loss": 0.5})
    state = checkpoints.load_model_state(data)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_key_tree_lists_tensors_with_shape_dtype_and_bytes():
    model = resume_race.race_model(torch.Generator().manual_seed(0))
    rows = checkpoint_xray.key_tree({"epoch": 4, "model": model.state_dict()})
    assert rows[0] == {"key": "epoch", "type": "int", "shape": "4", "dtype": "", "bytes": 0}
    assert {"key": "model.0.weight", "type": "tensor", "shape": "[32, 784]", "dtype": "float32",
            "bytes": 32 * 784 * 4} in rows


@pytest.mark.parametrize("version, default", [
    ("2.14.1+cu130", "weights_only=True"), ("2.6.0", "weights_only=True"),
    ("2.5.1", "weights_only=False, with a FutureWarning"),
    ("2.4.0", "weights_only=False, with a FutureWarning"),
    ("2.3.1", "weights_only=False"), ("1.13.1", "weights_only=False"),
])
def test_version_card_knows_when_the_default_changed(version, default):
    assert checkpoint_xray.weights_only_default(version)["default"] == default
