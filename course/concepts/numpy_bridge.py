"""The NumPy bridge: which way of making a tensor from an array shares its memory, and which copies.

`torch.from_numpy` wraps the array's own buffer (change one, the other changes), `torch.tensor`
always copies, and `torch.as_tensor` shares when it can (same dtype, same device) and copies when
it must. `.numpy()` goes the other way and refuses tensors autograd is tracking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

WAYS = ("torch.from_numpy(a)", "torch.tensor(a)", "torch.as_tensor(a)",
        "torch.as_tensor(a, dtype=torch.float32)")


@dataclass(frozen=True)
class BridgeResult:
    way: str
    array_after: list
    tensor_after: list
    shares_memory: bool
    tensor_dtype: str


def make_tensor(way: str, array: np.ndarray) -> torch.Tensor:
    """The tensor each of the WAYS makes from `array`."""
    if way == "torch.from_numpy(a)":
        return torch.from_numpy(array)
    if way == "torch.tensor(a)":
        return torch.tensor(array)
    if way == "torch.as_tensor(a)":
        return torch.as_tensor(array)
    if way == "torch.as_tensor(a, dtype=torch.float32)":
        return torch.as_tensor(array, dtype=torch.float32)
    raise ValueError(f"Unknown way {way!r}; choose one of {', '.join(WAYS)}")


def shares_memory(array: np.ndarray, tensor: torch.Tensor) -> bool:
    """Do the array and the tensor read the same bytes? (compares buffer addresses)"""
    return tensor.device.type == "cpu" and tensor.data_ptr() == array.__array_interface__["data"][0]


def edit_the_array(way: str, index: int = 0, new_value: float = 100.0,
                   dtype: str = "float64") -> BridgeResult:
    """Make a tensor one way, then write into the *array*: does the tensor see the change?"""
    array = np.arange(4, dtype=dtype)
    tensor = make_tensor(way, array)
    shared = shares_memory(array, tensor)
    array[index] = new_value
    return BridgeResult(way, array.tolist(), tensor.tolist(), shared, str(tensor.dtype))


def numpy_of_tracked_tensor() -> str:
    """PyTorch's own message when `.numpy()` meets a tensor that requires grad."""
    tracked = torch.ones(3, requires_grad=True)
    try:
        tracked.numpy()
    except RuntimeError as error:
        return str(error)
    raise AssertionError("PyTorch no longer refuses .numpy() on a tensor that requires grad")


def numpy_of_gpu_tensor() -> str | None:
    """PyTorch's message for `.numpy()` on a GPU tensor; None when no GPU is here to try it."""
    if not torch.cuda.is_available():
        return None
    try:
        torch.ones(3, device="cuda").numpy()
    except TypeError as error:
        return str(error)
    return None


def safe_numpy(tensor: torch.Tensor) -> np.ndarray:
    """The fix for both refusals: leave the graph, come to the CPU, then convert."""
    return tensor.detach().cpu().numpy()
