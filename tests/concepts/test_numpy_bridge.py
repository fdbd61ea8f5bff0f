import numpy as np
import pytest
import torch

from course.concepts import numpy_bridge


def test_from_numpy_really_shares_memory():
    result = numpy_bridge.edit_the_array("torch.from_numpy(a)")
    assert result.shares_memory
    assert result.tensor_after == result.array_after == [100.0, 1.0, 2.0, 3.0]


def test_tensor_really_copies():
    result = numpy_bridge.edit_the_array("torch.tensor(a)")
    assert not result.shares_memory
    assert result.tensor_after == [0.0, 1.0, 2.0, 3.0]
    assert result.array_after[0] == 100.0


def test_as_tensor_shares_only_when_the_dtype_already_fits():
    assert numpy_bridge.edit_the_array("torch.as_tensor(a)").shares_memory
    converted = numpy_bridge.edit_the_array("torch.as_tensor(a, dtype=torch.float32)", dtype="float64")
    assert not converted.shares_memory and converted.tensor_after[0] == 0.0
    same = numpy_bridge.edit_the_array("torch.as_tensor(a, dtype=torch.float32)", dtype="float32")
    assert same.shares_memory and same.tensor_after[0] == 100.0


def test_shares_memory_agrees_with_numpy_and_torch_in_both_directions():
    array = np.zeros(3)
    tensor = torch.from_numpy(array)
    tensor[1] = 7.0  # writing through the tensor shows in the array too
    assert array[1] == 7.0
    assert numpy_bridge.shares_memory(array, tensor)
    assert not numpy_bridge.shares_memory(array, tensor.clone())


def test_from_numpy_keeps_numpy_float64():
    assert numpy_bridge.edit_the_array("torch.from_numpy(a)").tensor_dtype == "torch.float64"


def test_numpy_of_tracked_tensor_is_pytorchs_own_message():
    message = numpy_bridge.numpy_of_tracked_tensor()
    with pytest.raises(RuntimeError) as raised:
        torch.zeros(2, requires_grad=True).numpy()
    assert message == str(raised.value)
    assert "requires grad" in message and "detach" in message


def test_gpu_message_only_with_a_gpu():
    message = numpy_bridge.numpy_of_gpu_tensor()
    if torch.cuda.is_available():
        assert "cuda" in message.lower()
    else:
        assert message is None


def test_safe_numpy_works_on_a_tracked_tensor():
    tracked = torch.arange(3.0, requires_grad=True)
    assert numpy_bridge.safe_numpy(tracked * 2).tolist() == [0.0, 2.0, 4.0]


def test_unknown_way_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown way"):
        numpy_bridge.make_tensor("torch.magic(a)", np.zeros(1))
