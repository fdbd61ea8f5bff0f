"""Many images composed into one picture: sizes, pixels kept, titles drawn, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course.concepts import image_grid
from course.engine import data


def test_compose_places_each_upscaled_image_in_its_cell():
    images = torch.stack([torch.full((28, 28), 10 * i, dtype=torch.uint8) for i in range(10)])
    picture = np.asarray(image_grid.compose(images, columns=4, scale=3, gap=6))
    assert picture.shape == (3 * 84 + 2 * 6, 4 * 84 + 3 * 6)  # 3 rows, 4 columns, no title band
    for index in range(10):
        row, column = divmod(index, 4)
        top, left = row * 90, column * 90
        assert (picture[top:top + 84, left:left + 84] == 10 * index).all()
    assert (picture[:, 84:90] == 255).all()  # the white gap between columns


def test_compose_keeps_real_mnist_pixels_exactly(data_dir):
    split = data.split_tensors("mnist", True, str(data_dir))
    picture = np.asarray(image_grid.compose(split.images[:2], columns=2, scale=1, gap=0))
    assert np.array_equal(picture[:, :28], split.images[0].numpy())
    assert np.array_equal(picture[:, 28:], split.images[1].numpy())


def test_titles_are_drawn_in_a_band_above_the_images():
    images = torch.zeros(2, 28, 28, dtype=torch.uint8)
    plain = np.asarray(image_grid.compose(images, columns=2, title_height=18))
    titled = np.asarray(image_grid.compose(images, ["label 7", "label 1"], columns=2,
                                           title_height=18))
    assert titled.shape[0] == plain.shape[0] + 18
    band = titled[:18]
    assert (band < 128).any(), "the title text should leave dark pixels in the band"
    assert (titled[18:] == plain).all()


def test_float_images_are_stretched_per_image_to_the_full_range():
    images = torch.stack([torch.linspace(-1, 1, 28 * 28).reshape(28, 28),
                          torch.linspace(5, 7, 28 * 28).reshape(28, 28)])
    scaled = image_grid.to_uint8(images)
    assert scaled.dtype == torch.uint8
    assert scaled.amin(dim=(1, 2)).tolist() == [0, 0] and scaled.amax(dim=(1, 2)).tolist() == [255, 255]


def test_a_png_of_a_16_image_grid_is_small():
    import io

    picture = image_grid.compose(torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8),
                                 [f"label {i}" for i in range(16)])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    assert buffer.tell() < 200_000  # one picture instead of 16 plotly heatmaps


@pytest.mark.parametrize(("images", "titles"), [
    (torch.zeros(0, 28, 28), None),
    (torch.zeros(28, 28), None),
    (torch.zeros(3, 28, 28), ["only one title"]),
])
def test_compose_refuses_what_it_cannot_draw(images, titles):
    with pytest.raises(ValueError):
        image_grid.compose(images, titles)
