import numpy as np
import pytest
import torch

from course.concepts import dtypes

SHAPES = [(), (1,), (3, 4), (2, 3, 5), (28, 28), (0, 7)]


@pytest.mark.parametrize("name", list(dtypes.DTYPES))
@pytest.mark.parametrize("shape", SHAPES)
def test_memory_equals_element_size_times_numel(name, shape):
    real = torch.zeros(shape, dtype=dtypes.DTYPES[name])
    assert dtypes.total_bytes(shape, real.dtype) == real.element_size() * real.numel()
    assert dtypes.total_bytes(shape, real.dtype) == real.untyped_storage().nbytes()


def test_table_has_one_row_per_dtype_with_its_cost():
    rows = dtypes.dtype_table((1000, 1000))
    assert [row["dtype"] for row in rows] == [f"torch.{n}" for n in dtypes.DTYPES]
    by_name = {row["dtype"]: row for row in rows}
    assert by_name["torch.float32"]["bytes per element"] == 4
    assert by_name["torch.float32"]["memory for (1000, 1000)"] == "3.8 MiB"
    assert by_name["torch.uint8"]["memory for (1000, 1000)"] == "976.6 KiB"


def test_readable_bytes():
    assert dtypes.readable_bytes(12) == "12 bytes"
    assert dtypes.readable_bytes(1536) == "1.5 KiB"
    assert dtypes.readable_bytes(3 * 1024 ** 3) == "3.0 GiB"


def test_float64_trap_is_pytorchs_real_error():
    message, fixed_dtype = dtypes.float64_into_linear()
    with pytest.raises(RuntimeError) as raised:
        torch.nn.Linear(3, 2)(torch.from_numpy(np.zeros((2, 3))))
    assert message == str(raised.value)
    assert "Double" in message and "Float" in message
    assert fixed_dtype == "torch.float32"


@pytest.mark.parametrize("expression", list(dtypes.CARDS))
def test_each_card_answer_is_torch_result_type(expression):
    answer = dtypes.result_type(expression)
    assert answer in dtypes.DTYPE_CHOICES
    # the expression text itself, evaluated, gives the same dtype
    assert str(eval(expression, {"torch": torch}).dtype) == answer


def test_result_type_agrees_for_additions():
    assert str(torch.result_type(torch.tensor([1, 2, 3]), 0.5)) == dtypes.result_type(
        "torch.tensor([1, 2, 3]) + 0.5")
    assert dtypes.result_type("torch.ones(3) + torch.tensor(2.0, dtype=torch.float64)") == "torch.float32"
