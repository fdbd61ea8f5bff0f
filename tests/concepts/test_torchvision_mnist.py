"""torchvision's MNIST as the lesson loads it: the engine's numbers, per-access transforms."""

from __future__ import annotations

import PIL.Image
import pytest
import torch

from course.concepts import torchvision_mnist
from course.engine import data


@pytest.fixture(scope="module")
def train_split(data_dir):
    return data.split_tensors("mnist", True, str(data_dir))


def test_load_mnist_gives_what_the_engine_trains_on(data_dir, train_split):
    """The code on the page and the engine's normalize_batch agree on every pixel."""
    mnist = torchvision_mnist.load_mnist(str(data_dir))
    assert len(mnist) == 60_000
    for index in (0, 1, 59_999):
        image, label = mnist[index]
        assert tuple(image.shape) == (1, 28, 28) and label == int(train_split.labels[index])
        expected = data.normalize_batch(train_split.images[index:index + 1], "mnist")[0]
        torch.testing.assert_close(image, expected, rtol=0, atol=1e-6)


def test_images_per_digit_counts_the_real_training_set(data_dir):
    counts = torchvision_mnist.images_per_digit(torchvision_mnist.load_mnist(str(data_dir)))
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_augmented_views_differ_per_access_and_leave_the_stored_image(data_dir):
    augmenting = torchvision_mnist.load_augmented_mnist(str(data_dir))
    torch.manual_seed(0)
    views, untouched = torchvision_mnist.augmented_views(augmenting, 7, accesses=6)
    assert tuple(views.shape) == (6, 28, 28) and untouched
    assert len({tuple(view.flatten().tolist()) for view in views}) == 6
    assert torch.equal(augmenting.data[7], data.split_tensors("mnist", True).images[7])


def test_sample_grid_shows_sixteen_labelled_digits_and_depends_on_the_seed(train_split):
    first = torchvision_mnist.sample_grid(train_split, seed=0)
    again = torchvision_mnist.sample_grid(train_split, seed=0)
    other = torchvision_mnist.sample_grid(train_split, seed=1)
    assert isinstance(first, PIL.Image.Image) and first.mode == "L"
    assert first.tobytes() == again.tobytes() and first.tobytes() != other.tobytes()
    assert first.size == torchvision_mnist.image_grid.compose(
        train_split.images[:16], ["label 0"] * 16).size


def test_pixels_before_and_after_normalize_centre_the_training_pixels(train_split):
    before, after = torchvision_mnist.pixels_before_and_after(train_split, count=2000)
    assert tuple(before.shape) == (2000, 28, 28) and tuple(after.shape) == (2000, 1, 28, 28)
    assert before.min() == 0 and before.max() == 1
    assert abs(after.mean().item()) < 0.05 and after.std().item() == pytest.approx(1, abs=0.05)
    torch.testing.assert_close(after[:, 0], (before - 0.1307) / 0.3081, rtol=0, atol=1e-5)
