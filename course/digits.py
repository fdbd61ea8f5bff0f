"""Turn a learner's drawing or photo into an MNIST-style input, one visible step at a time.

MNIST digits are white ink on black, scaled so the longest side is 20 px and pasted into a
28×28 frame so the centre of mass sits in the middle. A model trained on MNIST only
recognises a drawing that went through the same steps.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from course.data import NORMALIZATION

MNIST_MEAN, MNIST_STD = NORMALIZATION["mnist"]
LUMA = (0.299, 0.587, 0.114)  # how bright red, green and blue look to the eye (ITU-R BT.601)


class EmptyDrawing(ValueError):
    """The image holds no ink, so there is no digit to recognise."""

    def __init__(self, message: str = "Draw a digit first: the canvas is still empty."):
        super().__init__(message)


def to_grayscale(image) -> torch.Tensor:
    """Float [H, W] in [0, 1]: the model sees brightness only; transparency counts as white paper."""
    if isinstance(image, bytes | bytearray):
        image = Image.open(io.BytesIO(image))
    if isinstance(image, Image.Image):
        image = ImageOps.exif_transpose(image).convert("RGBA")  # phone photos come rotated
    array = np.array(image)  # a copy: torch wants a writable array
    pixels = torch.as_tensor(array).float() / (255.0 if array.dtype == np.uint8 else 1.0)
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[-1]
    gray = pixels[..., :3] @ torch.tensor(LUMA) if channels >= 3 else pixels[..., 0]
    alpha = pixels[..., 3] if channels == 4 else 1.0
    return gray * alpha + (1 - alpha)


def invert_if_light_background(gray: torch.Tensor) -> torch.Tensor:
    """MNIST digits are white on black; drawings and photos are dark on light, so flip those."""
    border = torch.cat([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1 - gray if border.median() > 0.5 else gray


def crop_to_stroke(gray: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """The bounding box of the ink: where the digit sits on the canvas must not matter."""
    rows = torch.nonzero((gray > threshold).any(dim=1)).flatten()
    cols = torch.nonzero((gray > threshold).any(dim=0)).flatten()
    if len(rows) == 0:
        raise EmptyDrawing()
    return gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def scale_to_box(cropped: torch.Tensor, box: int = 20) -> torch.Tensor:
    """Longest side `box` px, aspect kept and antialiased, as the MNIST digits were normalised."""
    height, width = cropped.shape
    scale = box / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    resized = F.interpolate(cropped[None, None], size=size, mode="bilinear", antialias=True,
                            align_corners=False)
    return resized[0, 0].clamp(0, 1)


def center_of_mass(image: torch.Tensor) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel indices."""
    rows = torch.arange(image.shape[0], dtype=image.dtype)
    cols = torch.arange(image.shape[1], dtype=image.dtype)
    total = image.sum()
    return (float((image.sum(dim=1) * rows).sum() / total),
            float((image.sum(dim=0) * cols).sum() / total))


def center_by_mass(digit20: torch.Tensor, size: int = 28) -> torch.Tensor:
    """Paste into a size×size frame with the centre of mass in the middle, as MNIST's authors did."""
    height, width = digit20.shape
    row, col = center_of_mass(digit20)
    middle = size // 2  # MNIST's training images have their mass centre at pixel (14, 14), ±0.3
    # Clamped so a lopsided digit keeps all its ink rather than being cut at the frame.
    top = min(max(round(middle - row), 0), size - height)
    left = min(max(round(middle - col), 0), size - width)
    frame = torch.zeros(size, size)
    frame[top:top + height, left:left + width] = digit20
    return frame


def normalize(image28: torch.Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> torch.Tensor:
    """[1, 1, 28, 28] standardised with the training set's statistics, as the model was trained."""
    return ((image28 - mean) / std).reshape(1, 1, *image28.shape[-2:])


def preprocess_steps(image) -> list[tuple[str, torch.Tensor]]:
    """Every intermediate image with its label, so a page can show the pipeline as a strip.

    All steps are [H, W] in [0, 1] except the last, the model's [1, 1, 28, 28] input.
    Raises EmptyDrawing when there is no ink.
    """
    gray = to_grayscale(image)
    inverted = invert_if_light_background(gray)
    cropped = crop_to_stroke(inverted)
    boxed = scale_to_box(cropped)
    centred = center_by_mass(boxed)
    return [("grayscale", gray), ("inverted", inverted), ("cropped", cropped),
            ("20×20", boxed), ("centred 28×28", centred), ("normalized", normalize(centred))]


def preprocess(image) -> torch.Tensor:
    """The model's [1, 1, 28, 28] input for a drawing or photo of one digit."""
    return preprocess_steps(image)[-1][1]
