"""The drawing → MNIST preprocessing, on synthetic strokes and on real MNIST digits."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from course.concepts import digits
from course.engine import data


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


def dark_on_light(digit: torch.Tensor) -> Image.Image:
    """An MNIST digit (28×28 in [0, 1]) as a learner's 280×280 canvas: black ink on white."""
    big = F.interpolate(digit[None, None], size=(280, 280), mode="bilinear")[0, 0]
    return Image.fromarray(((1 - big.clamp(0, 1)) * 255).round().to(torch.uint8).numpy())


def test_real_mnist_digit_survives_upscale_invert_and_preprocess(data_dir):
    test_split = data.split_tensors("mnist", False)
    similarities = []
    for index in range(20):
        processed = digits.preprocess(dark_on_light(test_split.images[index].float() / 255.0))
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


# --- Photos: the paper must go before the digit is cropped -------------------------------------

def paper_photo(ink: torch.Tensor | None = None, seed: int = 0) -> bytes:
    """A JPEG of grey paper under uneven, warm light with camera noise; `ink` (28×28 in [0, 1],
    white on black as in MNIST) written on it in dark pen, about half the photo's height."""
    generator = torch.Generator().manual_seed(seed)
    height, width = 480, 640
    rows = torch.linspace(-1, 1, height)[:, None]
    cols = torch.linspace(-1, 1, width)[None, :]
    paper = 0.38 + 0.34 * (cols + 1) / 2 - 0.08 * (rows**2 + cols**2)  # light from the right, dim corners
    if ink is not None:
        stroke = torch.zeros(height, width)
        stroke[100:380, 200:480] = F.interpolate(ink[None, None], size=(280, 280), mode="bilinear",
                                                 align_corners=False)[0, 0].clamp(0, 1)
        paper = paper * (1 - 0.75 * stroke)  # pen absorbs most of the light that falls on it
    noisy = paper + 0.03 * torch.randn(height, width, generator=generator)
    rgb = torch.stack([noisy, noisy * 0.96, noisy * 0.88], dim=-1).clamp(0, 1)  # warm lamp
    buffer = io.BytesIO()
    Image.fromarray((rgb * 255).round().to(torch.uint8).numpy()).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def stroke_iou(first: torch.Tensor, second: torch.Tensor, level: float = 0.3) -> float:
    a, b = first > level, second > level
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def class_means(data_dir) -> torch.Tensor:
    """[10, 784]: the mean normalised MNIST training image of each digit, a template classifier."""
    train = data.split_tensors("mnist", True)
    images = data.normalize_batch(train.images[:20_000]).flatten(1)
    labels = train.labels[:20_000]
    return torch.stack([images[labels == digit].mean(0) for digit in range(10)])


def template_guess(model_input: torch.Tensor, class_means: torch.Tensor) -> int:
    return int(F.cosine_similarity(model_input.flatten()[None], class_means, dim=1).argmax())


@pytest.fixture(scope="module")
def threes(data_dir, class_means) -> list[torch.Tensor]:
    """Real MNIST test threes that the template classifier reads right when clean."""
    test = data.split_tensors("mnist", False)
    found = []
    for index in torch.nonzero(test.labels == 3).flatten()[:40].tolist():
        clean = data.normalize_batch(test.images[index:index + 1])
        if template_guess(clean, class_means) == 3:
            found.append(test.images[index].float() / 255.0)
    return found[:5]


def test_three_on_unevenly_lit_grey_paper_comes_out_as_the_three(threes, class_means):
    assert len(threes) == 5
    for seed, three in enumerate(threes):
        photo = paper_photo(three, seed=seed)
        steps = dict(digits.preprocess_steps(photo, photo=True))
        reference = dict(digits.preprocess_steps(dark_on_light(three)))  # the same digit, clean
        assert stroke_iou(steps["centred 28×28"], reference["centred 28×28"]) > 0.6
        assert template_guess(steps["normalized"], class_means) == 3
        # The paper is gone: almost all of the cropped box that is not stroke is black.
        assert (steps["ink only"] == 0).float().mean() > 0.85


def test_dust_on_the_photo_does_not_widen_the_crop(threes, class_means):
    photo = Image.open(io.BytesIO(paper_photo(threes[0]))).convert("RGB")
    pen = ImageDraw.Draw(photo)
    for x, y in [(40, 40), (600, 420), (620, 30), (100, 400)]:  # four specks in the corners
        pen.ellipse([x, y, x + 6, y + 6], fill=(40, 40, 40))
    steps = dict(digits.preprocess_steps(photo, photo=True))
    clean = dict(digits.preprocess_steps(dark_on_light(threes[0])))
    assert steps["cropped"].shape[0] < 0.5 * steps["ink only"].shape[0]
    assert stroke_iou(steps["centred 28×28"], clean["centred 28×28"]) > 0.6
    assert template_guess(steps["normalized"], class_means) == 3


def test_main_strokes_keep_a_fives_separate_bar_and_drop_dust():
    ink = torch.zeros(280, 280, dtype=torch.bool)
    ink[60:200, 100:120] = True  # the body
    ink[40:52, 100:180] = True  # a bar drawn apart, 8 px above: 960 px, 34% of the body
    ink[250:253, 250:253] = True  # a speck: 9 px
    kept = digits.main_strokes(ink)
    assert kept[45, 150] and kept[100, 110]
    assert not kept[251, 251]
    assert int(kept.sum()) == int(ink.sum()) - 9


def test_without_the_paper_step_the_photo_would_be_a_grey_rectangle(threes):
    inverted = digits.invert_if_light_background(digits.to_grayscale(paper_photo(threes[0])))
    # What the old pipeline cropped to: the whole photo, because the paper itself reads as ink.
    assert digits.crop_to_stroke(inverted).shape == inverted.shape
    separated = digits.separate_digit(inverted)
    assert digits.crop_to_stroke(separated).shape[0] < 0.7 * inverted.shape[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blank_photo_says_no_digit_was_found(seed):
    with pytest.raises(digits.EmptyDrawing, match="No digit found in the photo"):
        digits.preprocess_steps(paper_photo(seed=seed), photo=True)


def test_empty_canvas_and_blank_photo_are_worded_for_each():
    white = Image.new("RGB", (280, 280), "white")
    with pytest.raises(digits.EmptyDrawing, match="Draw a digit first: the canvas is still empty"):
        digits.preprocess_steps(white)
    with pytest.raises(digits.EmptyDrawing, match="No digit found in the photo"):
        digits.preprocess_steps(white, photo=True)


def test_clean_canvas_drawing_keeps_every_ink_pixel():
    steps = dict(digits.preprocess_steps(white_canvas_with_one()))
    inverted, separated = steps["inverted"], steps["ink only"]
    assert torch.equal(separated > 0, inverted > 0)  # nothing lost, nothing added
    assert torch.allclose(separated, inverted)


def test_preprocess_strip_shows_the_paper_step_after_inverting():
    names = [name for name, _ in digits.preprocess_steps(white_canvas_with_one())]
    assert names == ["grayscale", "inverted", "ink only", "cropped", "20×20", "centred 28×28",
                     "normalized"]


def test_otsu_splits_two_groups_between_them():
    values = torch.cat([torch.full((900,), 0.2), torch.full((100,), 0.8)])
    values += 0.01 * torch.randn(1000, generator=torch.Generator().manual_seed(0))
    assert 0.3 < digits.otsu_threshold(values) < 0.7


def test_dark_ink_on_grey_paper_is_inverted():
    gray = torch.full((100, 100), 0.45)  # darker than the old "paper is brighter than 0.5" rule
    gray[20:80, 45:55] = 0.1
    assert digits.invert_if_light_background(gray)[50, 50] == pytest.approx(0.9)


def test_large_photos_are_worked_on_at_a_modest_size():
    big = torch.rand(3000, 4000)
    assert digits.shrink(big).shape == (384, 512)
    assert digits.shrink(torch.rand(280, 280)).shape == (280, 280)


# --- What the page cannot read, and what it reads with a warning ------------------------------

def png_claiming_size(width: int, height: int) -> bytes:
    """A real 10×10 PNG whose header says width×height: readable up to the pixels, which don't fit."""
    buffer = io.BytesIO()
    Image.new("L", (10, 10), 255).save(buffer, format="PNG")
    raw = bytearray(buffer.getvalue())
    header = struct.pack(">II", width, height) + bytes(raw[24:29])  # IHDR: size, then 5 bytes
    raw[16:29] = header
    raw[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(raw)


def test_a_30000_pixel_square_png_is_too_many_pixels_not_unreadable():
    huge = png_claiming_size(30_000, 30_000)  # beyond even PIL's decompression-bomb limit
    with pytest.raises(digits.UnusableImage, match=r"too many pixels \(30,000 × 30,000\); "
                                                   r"this page reads at most 25,000,000"):
        digits.open_image(huge)
    with pytest.raises(digits.UnusableImage, match="too many pixels"):
        digits.preprocess_steps(huge, photo=True)


def test_pixels_are_counted_from_the_header_before_decoding():
    # Within PIL's limit but above the page's: decoding would fail on the 10×10 data (and
    # cost 30 MB), so "too many pixels" shows the size was checked first.
    with pytest.raises(digits.UnusableImage, match=r"too many pixels \(6,000 × 5,000\)"):
        digits.open_image(png_claiming_size(6_000, 5_000))
    assert digits.header_size(png_claiming_size(30_000, 20_000)) == (30_000, 20_000)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, format="JPEG")
    assert digits.header_size(buffer.getvalue()) == (64, 48)
    assert digits.header_size(b"not an image") is None


def test_a_file_over_the_size_limit_is_refused_by_its_size():
    with pytest.raises(digits.UnusableImage, match=r"6\.0 MB; this page reads images of at most 5 MB"):
        digits.open_image(b"\0" * (6 * 2**20))


def test_bytes_that_are_no_image_or_a_truncated_one_are_not_an_image():
    noise = torch.randint(0, 256, (100, 100), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    Image.fromarray(noise.numpy()).save(buffer, format="PNG")
    for raw in (b"plain text, no image", buffer.getvalue()[: len(buffer.getvalue()) // 2]):
        with pytest.raises(digits.UnusableImage, match="not an image this page can read"):
            digits.open_image(raw)


def test_a_fully_inked_canvas_says_nothing_to_read_not_empty():
    with pytest.raises(digits.EmptyDrawing, match="inked all over") as raised:
        digits.preprocess_steps(Image.new("RGB", (280, 280), "black"))
    assert "still empty" not in str(raised.value)
    almost = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(almost).rectangle([0, 0, 20, 20], fill="white")  # 0.6% of the paper left
    with pytest.raises(digits.EmptyDrawing, match="inked all over"):
        digits.preprocess_steps(almost)


def test_a_tap_on_the_canvas_spans_under_the_small_drawing_share_a_digit_does_not():
    dot = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(dot).ellipse([130, 130, 150, 150], fill="black")  # one pen width: a tap
    dot_steps = dict(digits.preprocess_steps(dot))  # still read: the page warns, then predicts
    assert digits.ink_extent(dot_steps["ink only"]) == pytest.approx(21 / 280)
    assert digits.ink_extent(dot_steps["ink only"]) < digits.SMALL_DRAWING
    one = dict(digits.preprocess_steps(white_canvas_with_one()))
    assert digits.ink_extent(one["ink only"]) > digits.SMALL_DRAWING
