import pytest
import torch

from course.concepts import optimizer_placement as placement


@pytest.fixture(scope="module")
def results():
    return {(p.optimizer, p.built): p for p in placement.experiment()}


def test_the_stand_in_is_the_gpu_or_float64():
    expected = torch.device("cuda") if torch.cuda.is_available() else torch.float64
    assert placement.stand_in_target() == expected


def test_to_keeps_the_same_parameter_objects_either_way(results):
    assert all(p.holds_model_parameters for p in results.values())


@pytest.mark.parametrize("name", ["SGD (momentum)", "Adam"])
def test_sgd_and_adam_survive_being_built_before_the_move(results, name):
    before = results[(name, "before .to()")]
    after = results[(name, "after .to()")]
    assert before.error is None and before.state_matches
    assert before.state == after.state


def test_adagrad_built_before_the_move_keeps_its_state_behind(results):
    before = results[("Adagrad", "before .to()")]
    after = results[("Adagrad", "after .to()")]
    assert not before.state_matches
    assert after.state_matches
    assert before.state["sum"] != before.parameters
    assert after.state["sum"] == after.parameters


def test_rows_say_what_the_optimizers_really_hold():
    """The table's state column is read from a real optimizer: rebuild one and compare."""
    model = torch.nn.Linear(6, 2)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)
    model.to(torch.float64)
    assert optimizer.state[model.weight]["sum"].dtype == torch.float32
    row = next(r for r in placement.as_rows([placement.try_order("Adagrad", True, torch.float64)]))
    assert "sum: cpu float32" in row["state after 2 steps"]
    assert row["parameters"] == "cpu float64"
