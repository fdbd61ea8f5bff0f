"""A pickled model breaks when its class is renamed or moved and is refused by weights_only;
a state_dict loads in every case."""

from __future__ import annotations

import sys

from course.concepts import portability


def test_pickled_model_breaks_and_state_dict_travels():
    whole, weights = portability.portability_table()[:2]
    assert whole["reload unchanged"] == "loads"
    assert whole["weights_only=True"].startswith("UnpicklingError")
    assert "TinyNet" in whole["weights_only=True"]
    assert whole["after renaming the class"].startswith("AttributeError")
    assert "Can't get attribute 'TinyNet'" in whole["after renaming the class"]
    assert whole["after moving its file"].startswith("ModuleNotFoundError")
    assert set(weights.values()) == {"torch.save(model.state_dict())", "loads"}


def test_each_experiment_leaves_no_module_behind():
    before = {name for name in sys.modules if name.startswith("model_")}
    portability.portability_table()
    assert {name for name in sys.modules if name.startswith("model_")} == before


def test_safetensors_row_only_when_installed():
    rows = portability.portability_table()
    assert len(rows) == (3 if portability.safetensors_available() else 2)
