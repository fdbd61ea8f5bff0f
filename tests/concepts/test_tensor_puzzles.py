import pytest
import torch

from course.concepts import tensor_puzzles
from course.concepts.strict_compare import compare


def test_six_in_three_shapes_are_three_different_answers():
    expected = torch.tensor([6])
    scalar = tensor_puzzles.grade_tensor(torch.tensor(6), expected)
    matrix = tensor_puzzles.grade_tensor(torch.tensor([[6]]), expected)
    vector = tensor_puzzles.grade_tensor(torch.tensor([6]), expected)
    assert vector.accepted
    for wrong in (scalar, matrix):
        assert not wrong.accepted
        assert wrong.comparison.verdict == "wrong shape"
        assert wrong.checks()["value"] and not wrong.checks()["shape"]
        assert wrong.broadcasting_checker_accepts  # what a torch.allclose checker would let through


@pytest.mark.parametrize("key", list(tensor_puzzles.PUZZLES))
def test_exactly_the_reference_shaped_attempt_is_accepted(key):
    puzzle = tensor_puzzles.PUZZLES[key]
    expected = puzzle.solution(**puzzle.inputs())
    for attempt, run in puzzle.attempts.items():
        result = tensor_puzzles.grade(key, attempt)
        try:
            got = run(**puzzle.inputs())
        except RuntimeError as error:
            assert result.error == str(error) and not result.accepted
            continue
        strict = compare(got, expected)
        assert result.accepted == strict.ok
        flat_equal = got.numel() == expected.numel() and torch.equal(
            got.double().flatten(), expected.double().flatten())
        assert result.checks() == {"value": strict.values_ok if strict.shape_ok else flat_equal,
                                   "shape": got.shape == expected.shape,
                                   "dtype": got.dtype == expected.dtype,
                                   "device": got.device == expected.device}
    assert sum(tensor_puzzles.grade(key, a).accepted for a in puzzle.attempts) == 1


def test_right_value_wrong_dtype_is_rejected():
    result = tensor_puzzles.grade("eye", "torch.arange(n)[:, None] == torch.arange(n)")
    assert result.checks() == {"value": True, "shape": True, "dtype": False, "device": True}
    assert not result.accepted and result.comparison.verdict == "wrong dtype"
    float_sum = tensor_puzzles.grade("total", "x.float().sum(dim=0, keepdim=True)")
    assert float_sum.comparison.verdict == "wrong dtype" and float_sum.broadcasting_checker_accepts


def test_right_value_wrong_device_is_rejected():
    expected = torch.tensor([6])
    elsewhere = tensor_puzzles.grade_tensor(torch.tensor([6], device="meta"), expected)
    assert not elsewhere.accepted and elsewhere.comparison.verdict == "wrong device"
    assert elsewhere.checks()["device"] is False


def test_an_attempt_that_raises_carries_pytorchs_message():
    result = tensor_puzzles.grade("outer", "a + b")
    assert result.error.startswith("The size of tensor a (3) must match the size of tensor b (4)")
    assert result.checks() == {"value": None, "shape": None, "dtype": None, "device": None}


def test_cell_diff_only_for_equal_shapes():
    wrong_values = tensor_puzzles.grade("centre", "x - x.mean(dim=0)")
    rows = tensor_puzzles.diff_rows(wrong_values)
    assert len(rows) == 6 and not all(row["equal"] for row in rows)
    assert rows[0]["index"] == (0, 0) and rows[0]["got"] == -1.5 and rows[0]["expected"] == -1.0
    assert tensor_puzzles.diff_rows(tensor_puzzles.grade("total", "x.sum()")) == []


def test_not_a_tensor_is_graded_not_crashed():
    result = tensor_puzzles.grade_tensor(6, torch.tensor([6]))
    assert not result.accepted and result.comparison.verdict == "not a tensor"


def test_solution_source_is_the_real_code():
    assert tensor_puzzles.solution_source("outer") == "lambda a, b: a[:, None] + b"
    puzzle = tensor_puzzles.PUZZLES["outer"]
    assert torch.equal(eval(tensor_puzzles.solution_source("outer"))(**puzzle.inputs()),
                       puzzle.solution(**puzzle.inputs()))
