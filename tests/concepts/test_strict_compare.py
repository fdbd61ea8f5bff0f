import pytest
import torch

from course.concepts.strict_compare import VERDICTS, cell_diff, compare


def test_no_broadcasting_between_scalar_vector_matrix():
    six = [torch.tensor(6), torch.tensor([6]), torch.tensor([[6]])]
    for i, a in enumerate(six):
        for j, b in enumerate(six):
            c = compare(a, b)
            assert c.verdict == ("exact" if i == j else "wrong shape")
            assert c.shape_ok == (i == j)
            if i != j:
                assert c.max_difference is None and not c.values_ok


def test_wrong_dtype_even_when_values_match():
    c = compare(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 2.0]))
    assert c.verdict == "wrong dtype" and c.shape_ok and not c.dtype_ok and c.values_ok


def test_wrong_device_meta():
    got = torch.zeros(2)
    expected = torch.zeros(2, device="meta")
    c = compare(got, expected)
    assert c.verdict == "wrong device" and not c.device_ok


def test_exact_close_different():
    e = torch.tensor([1.0, 2.0, 3.0])
    assert compare(e.clone(), e).verdict == "exact"
    close = compare(e + 1e-7, e)
    assert close.verdict == "close" and close.ok and close.max_difference < 1e-6
    diff = compare(e + torch.tensor([0.0, 0.5, 0.0]), e)
    assert diff.verdict == "different" and not diff.ok
    assert diff.max_difference == pytest.approx(0.5)


def test_integers_must_be_equal():
    assert compare(torch.tensor([1, 2]), torch.tensor([1, 3])).verdict == "different"
    assert compare(torch.tensor([True]), torch.tensor([True])).verdict == "exact"


def test_not_a_tensor():
    c = compare(6, torch.tensor(6))
    assert c.verdict == "not a tensor" and c.message
    assert c.verdict in VERDICTS


def test_cell_diff_rows_and_cap():
    got = torch.tensor([[1, 2], [3, 5]])
    rows = cell_diff(got, torch.tensor([[1, 2], [3, 4]]))
    assert [r["equal"] for r in rows] == [True, True, True, False]
    assert rows[3]["index"] == (1, 1) and rows[3]["got"] == 5 and rows[3]["expected"] == 4
    assert len(cell_diff(torch.zeros(20, 20), torch.zeros(20, 20))) == 100
    assert cell_diff(torch.tensor(2.0), torch.tensor(2.0))[0]["index"] == ()
    with pytest.raises(ValueError):
        cell_diff(torch.zeros(2), torch.zeros(3))
