"""The drawing → MNIST preprocessing, on synthetic strokes and on real MNIST digits."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from course import data, digits


def white_canvas_with_one(size: int = 280, width: int = 20) -> Image.Image:
    """A thick dark "1" drawn off-centre on white paper, as a learner might draw it."""
    canvas = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(canvas).line([(60, 40), (90, 230)], fill="black", width=width)
    return canvas


def test_thick_one_ends_centred_by_mass():
    steps = dict(digits.preprocess_steps(white_canvas_with_one()))
    centred = steps["centred 28×28"]
    row, col = digits.center_of_mass(centred)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
    assert max(steps["20×20"].shape) == 20
    assert steps["20×20"].shape[0] > steps["20×20"].shape[1]  # a "1" stays tall and thin


def test_preprocess_gives_model_input_with_mnist_like_statistics():
    model_input = digits.preprocess(white_canvas_with_one())
    assert model_input.shape == (1, 1, 28, 28)
    assert model_input.dtype == torch.float32
    background = (0 - digits.MNIST_MEAN) / digits.MNIST_STD
    assert model_input.min().item() == pytest.approx(background, abs=1e-4)
    assert model_input.max().item() > 2.0  # the ink reaches near-white, like MNIST strokes
    assert -0.6 < model_input.mean().item() < 0.6  # a thin "1" has little ink: slightly below 0
    assert 0.5 < model_input.std().item() < 1.5


def test_drawing_is_inverted_to_white_on_black():
    steps = dict(digits.preprocess_steps(white_canvas_with_one()))
    assert steps["grayscale"][0, 0] == pytest.approx(1.0)
    assert steps["inverted"][0, 0] == pytest.approx(0.0)
    assert steps["inverted"].max() == pytest.approx(1.0)


def test_white_on_black_input_is_not_inverted():
    gray = torch.zeros(50, 50)
    gray[10:40, 20:25] = 1.0
    assert torch.equal(digits.invert_if_light_background(gray), gray)


def test_real_mnist_digit_survives_upscale_invert_and_preprocess(data_dir):
    test_split = data.split_tensors("mnist", False)
    similarities = []
    for index in range(20):
        original = test_split.images[index].float() / 255.0
        big = F.interpolate(original[None, None], size=(280, 280), mode="bilinear")[0, 0]
        dark_on_light = ((1 - big.clamp(0, 1)) * 255).round().to(torch.uint8).numpy()
        processed = digits.preprocess(Image.fromarray(dark_on_light))
        expected = data.normalize_batch(test_split.images[index:index + 1])
        similarities.append(F.cosine_similarity(processed.flatten(), expected.flatten(), dim=0).item())
    # A one-pixel shift of a thin stroke already costs ~0.1, so 0.8 means "the same digit, in place".
    assert min(similarities) > 0.8, similarities
    assert sum(similarities) / len(similarities) > 0.93, similarities


def test_empty_canvas_raises_empty_drawing():
    with pytest.raises(digits.EmptyDrawing, match="Draw a digit first"):
        digits.preprocess(Image.new("RGB", (280, 280), "white"))
    assert issubclass(digits.EmptyDrawing, ValueError)


def test_transparent_background_counts_as_white_paper():
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # fully transparent black
    rgba[50:230, 130:150] = (0, 0, 0, 255)  # an opaque black stroke
    gray = digits.to_grayscale(rgba)
    assert gray[0, 0] == pytest.approx(1.0)
    assert gray[100, 140] == pytest.approx(0.0)
    model_input = digits.preprocess(Image.fromarray(rgba, mode="RGBA"))
    assert model_input.shape == (1, 1, 28, 28)
    row, col = digits.center_of_mass(dict(digits.preprocess_steps(rgba))["centred 28×28"])
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_png_bytes_are_accepted():
    buffer = io.BytesIO()
    white_canvas_with_one().save(buffer, format="PNG")
    assert torch.allclose(digits.preprocess(buffer.getvalue()), digits.preprocess(white_canvas_with_one()))


def test_scale_keeps_aspect_ratio_and_upscales_small_crops():
    assert digits.scale_to_box(torch.ones(100, 50)).shape == (20, 10)
    assert digits.scale_to_box(torch.ones(4, 8)).shape == (10, 20)


def test_crop_keeps_only_the_ink():
    gray = torch.zeros(100, 100)
    gray[30:60, 40:45] = 1.0
    assert digits.crop_to_stroke(gray).shape == (30, 5)
