"""Turn a learner's drawing or photo into an MNIST-style input, one visible step at a time.

A photo first loses its paper: uneven light, grey paper and noise would otherwise reach the
model as a grey rectangle. MNIST digits are white ink on black, scaled so the longest side is
20 px and pasted into a 28×28 frame so the centre of mass sits in the middle. A model trained
on MNIST only recognises a drawing that went through the same steps.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin, UnidentifiedImageError

from course.engine.data import NORMALIZATION

MNIST_MEAN, MNIST_STD = NORMALIZATION["mnist"]
LUMA = (0.299, 0.587, 0.114)  # how bright red, green and blue look to the eye (ITU-R BT.601)


EMPTY_CANVAS = "Draw a digit first: the canvas is still empty."
FULL_CANVAS = ("Nothing to read: the canvas is inked all over, so no digit stands out from the "
               "paper. Press Clear and draw one digit on the white.")
NO_DIGIT_IN_PHOTO = ("No digit found in the photo: write one digit in dark ink on plain paper, "
                     "let it fill most of the picture, and take the photo in even light.")
NOT_AN_IMAGE = "That file is not an image this page can read. Try a PNG or JPEG."
WORKING_SIZE = 512  # longest side a photo is worked on at: the model only ever sees 20×20 of it
MAX_FILE_MB = 5  # a phone's JPEG is 2-4 MB; the server's own upload limit is larger, for checkpoints
# A 12-megapixel phone photo fits with room; decoding more would cost the shared server ~4 bytes
# a pixel for an image the model sees at 20×20 anyway.
MAX_PIXELS = 25_000_000
PAPER_LEFT = 0.02  # a canvas with less of its white paper left than this is inked all over
SMALL_DRAWING = 0.15  # ink spanning less of the picture's side: on the canvas, ~two pen widths


class EmptyDrawing(ValueError):
    """The image holds no digit to recognise: no ink at all, or nothing but ink."""

    def __init__(self, message: str = EMPTY_CANVAS):
        super().__init__(message)


class UnusableImage(ValueError):
    """The file is no image this page reads, or one too large to decode; the message says which."""


def header_size(raw: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's or JPEG's header alone, without decoding its pixels."""
    for plugin in (PngImagePlugin.PngImageFile, JpegImagePlugin.JpegImageFile):
        try:
            return plugin(io.BytesIO(raw)).size
        except (SyntaxError, OSError, ValueError):  # PIL's "not a PNG file" is a SyntaxError
            continue
    return None


def open_image(raw: bytes) -> Image.Image:
    """The file decoded, once its bytes and its pixel count (read from the header) are within limits.

    Raises UnusableImage: for a file over MAX_FILE_MB, for more than MAX_PIXELS pixels (such an
    image is readable, just too big to decode here), or for bytes PIL cannot read.
    """
    if len(raw) > MAX_FILE_MB * 2**20:
        raise UnusableImage(f"That file is {len(raw) / 2**20:.1f} MB; this page reads images of "
                            f"at most {MAX_FILE_MB} MB. Try a smaller photo.")
    try:
        image = Image.open(io.BytesIO(raw))  # reads the header only
        size = image.size
    except Image.DecompressionBombError:  # PIL's own limit, far above ours: still, say the size
        image, size = None, header_size(raw)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UnusableImage(NOT_AN_IMAGE) from error
    if image is None or size[0] * size[1] > MAX_PIXELS:
        shown = f" ({size[0]:,} × {size[1]:,})" if size else ""
        raise UnusableImage(f"That image has too many pixels{shown}; this page reads at most "
                            f"{MAX_PIXELS:,} ({MAX_PIXELS / 1e6:g} megapixels). Scale it down "
                            "or take the photo at a lower resolution.")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:  # a truncated or corrupt file
        raise UnusableImage(NOT_AN_IMAGE) from error
    return image


def to_grayscale(image) -> torch.Tensor:
    """Float [H, W] in [0, 1]: the model sees brightness only; transparency counts as white paper."""
    if isinstance(image, bytes | bytearray):
        image = open_image(bytes(image))
    if isinstance(image, Image.Image):
        image = ImageOps.exif_transpose(image)  # phone photos come rotated
        if image.mode not in ("L", "LA", "RGB", "RGBA"):  # palette, CMYK, 16-bit, ...
            image = image.convert("RGBA")
        factor = max(image.size) // WORKING_SIZE
        if factor > 1:  # a 12-megapixel photo: average it down in PIL first, it is 50× faster
            image = image.reduce(factor)
        image = image.convert("RGBA")
    array = np.array(image)  # a copy: torch wants a writable array
    pixels = torch.as_tensor(array).float() / (255.0 if array.dtype == np.uint8 else 1.0)
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[-1]
    gray = pixels[..., :3] @ torch.tensor(LUMA) if channels >= 3 else pixels[..., 0]
    alpha = pixels[..., 3] if channels == 4 else 1.0
    return gray * alpha + (1 - alpha)


def shrink(gray: torch.Tensor, longest: int = WORKING_SIZE) -> torch.Tensor:
    """A phone photo scaled down (antialiased) so its longest side is `longest`; small images as they are."""
    height, width = gray.shape
    if max(height, width) <= longest:
        return gray
    scale = longest / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    return F.interpolate(gray[None, None], size=size, mode="area")[0, 0]


def paper_left(gray: torch.Tensor) -> float:
    """The share of the pixels still lighter than mid-grey: the white canvas not yet inked."""
    return float((gray > 0.5).float().mean())


def invert_if_light_background(gray: torch.Tensor) -> torch.Tensor:
    """MNIST digits are white on black; drawings and photos are dark on light, so flip those.

    The ink is the few pixels far from the paper's typical brightness: when the darkest ones lie
    further below the median than the brightest lie above it, the ink is dark. This holds on
    grey paper too, where a fixed "brighter than 0.5" rule does not.
    """
    sample = gray.flatten()[:: max(1, gray.numel() // 100_000)]  # quantile wants few values
    low, middle, high = torch.quantile(sample, torch.tensor([0.001, 0.5, 0.999]))
    return 1 - gray if middle - low > high - middle else gray


def max_filter(image: torch.Tensor, size: int) -> torch.Tensor:
    """Each pixel replaced by the largest value in the size×size square around it (size odd)."""
    rows = F.max_pool2d(image[None, None], (1, size), stride=1, padding=(0, size // 2))
    return F.max_pool2d(rows, (size, 1), stride=1, padding=(size // 2, 0))[0, 0]


def smooth_surface(height: int, width: int) -> torch.Tensor:
    """[height, width, 10]: the cubic polynomials in x and y that a smooth fall of light is made of."""
    y = torch.linspace(-1, 1, height)[:, None].expand(height, width)
    x = torch.linspace(-1, 1, width)[None, :].expand(height, width)
    return torch.stack([torch.ones_like(x), x, y, x * x, x * y, y * y,
                        x**3, x * x * y, x * y * y, y**3], dim=-1)


def paper_background(inverted: torch.Tensor, rounds: int = 6) -> torch.Tensor:
    """The paper's own brightness under uneven light, with the ink left out.

    Light from a lamp or a window falls off smoothly across a page, so a cubic surface in x and
    y fits the paper; the ink sits above that surface and is dropped from the fit, round by
    round, as whatever stands more than 2.5 robust standard deviations above it.
    """
    small = F.adaptive_avg_pool2d(inverted[None, None], (min(64, inverted.shape[0]),
                                                         min(64, inverted.shape[1])))[0, 0]
    features = smooth_surface(*small.shape).reshape(-1, 10).double()
    values = small.flatten().double()
    residual = values - values.median()  # the first guess: flat paper, the majority's brightness
    paper = torch.ones_like(values, dtype=torch.bool)
    for _ in range(rounds):
        spread = 1.4826 * residual[paper].abs().median()
        paper = residual <= 2.5 * spread + 1e-4
        fit = torch.linalg.lstsq(features[paper], values[paper, None]).solution
        residual = values - (features @ fit)[:, 0]
    return (smooth_surface(*inverted.shape).double() @ fit)[..., 0].float().clamp(0, 1)


def otsu_threshold(values: torch.Tensor, bins: int = 256) -> float:
    """Otsu's threshold: the cut that best splits the values into two groups (ink and paper)."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-6:
        return high
    counts = torch.histc(values.double(), bins=bins, min=low, max=high)
    centres = low + (torch.arange(bins, dtype=torch.float64) + 0.5) * (high - low) / bins
    below, below_sum = counts.cumsum(0), (counts * centres).cumsum(0)
    above, above_sum = counts.sum() - below, (counts * centres).sum() - below_sum
    between = below * above * (below_sum / below - above_sum / above) ** 2  # between-class variance
    between = torch.nan_to_num(between[:-1], nan=0.0)
    tied = torch.nonzero(between >= between.max() * (1 - 1e-9)).flatten()  # an empty gap ties
    best = (int(tied[0]) + int(tied[-1])) / 2  # cut in the middle of the gap
    return low + (best + 1) * (high - low) / bins


def main_strokes(ink: torch.Tensor, smallest: float = 0.05) -> torch.Tensor:
    """The ink's connected pieces that are at least `smallest` of the biggest one: dust goes.

    Pieces are found on a grid of at most 128 cells a side, so strokes a few pixels apart (the
    bar of a 5, a pen that skipped) count as one. Each cell takes the largest label among its
    neighbours until nothing changes: what ends with one label is one piece.
    """
    factor = max(1, max(ink.shape) // 128)
    cells = F.max_pool2d(ink[None, None].float(), factor, ceil_mode=True)[0, 0] > 0
    labels = torch.arange(1, cells.numel() + 1, dtype=torch.float32).reshape(cells.shape) * cells
    for _ in range(cells.numel()):
        spread = max_filter(labels, 3) * cells
        if torch.equal(spread, labels):
            break
        labels = spread
    sizes = torch.bincount(labels.flatten().long(), minlength=cells.numel() + 1)
    sizes[0] = 0  # paper
    kept = (sizes >= smallest * sizes.max())[labels.long()] & cells
    fine = kept.repeat_interleave(factor, 0).repeat_interleave(factor, 1)
    return fine[: ink.shape[0], : ink.shape[1]] & ink


def separate_digit(inverted: torch.Tensor, empty_message: str = EMPTY_CANVAS) -> torch.Tensor:
    """The ink alone on black: the uneven light evened out, the contrast stretched, the paper set to 0.

    Ink is what Otsu's threshold puts on the bright side and what also stands clear of the
    paper's noise (5 robust standard deviations), in pieces big enough not to be dust. The
    stroke's soft edge stays: fainter pixels above the noise are kept where they join the ink,
    growing out from it up to one MNIST pixel (a 28th of the image). Raises EmptyDrawing when
    nothing is ink.
    """
    background = paper_background(inverted)
    above_paper = inverted - background
    paper = above_paper.median()
    noise = 1.4826 * (above_paper - paper).abs().median()  # median absolute deviation, as a std
    flat = above_paper.clamp(min=0)
    ink = flat > max(otsu_threshold(flat), float(paper + 5 * noise))
    if int(ink.sum()) < max(12, flat.numel() // 5000):
        raise EmptyDrawing(empty_message)
    ink = main_strokes(ink)
    above_noise = flat > paper + 3 * noise
    keep = ink
    for _ in range(max(flat.shape) // 28):
        grown = (max_filter(keep.float(), 3) > 0) & above_noise
        if torch.equal(grown, keep):
            break
        keep = grown
    # Ink darkens the light that falls on it by a fraction, so divide by the paper's own light:
    # a stroke in the dim corner then counts as much as one under the lamp.
    darkness = flat / (1 - background).clamp(min=0.05)
    brightest = torch.quantile(darkness[ink][:: max(1, int(ink.sum()) // 100_000)], 0.99)
    return (darkness / brightest).clamp(0, 1) * keep


def crop_to_stroke(gray: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """The bounding box of the ink: where the digit sits on the canvas must not matter."""
    rows = torch.nonzero((gray > threshold).any(dim=1)).flatten()
    cols = torch.nonzero((gray > threshold).any(dim=0)).flatten()
    if len(rows) == 0:
        raise EmptyDrawing()
    return gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def ink_extent(ink: torch.Tensor) -> float:
    """The ink's bounding box, its longer side as a share of the picture's longer side."""
    return max(crop_to_stroke(ink).shape) / max(ink.shape)


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


def preprocess_steps(image, photo: bool = False) -> list[tuple[str, torch.Tensor]]:
    """Every intermediate image with its label, so a page can show the pipeline as a strip.

    All steps are [H, W] in [0, 1] except the last, the model's [1, 1, 28, 28] input.
    Raises EmptyDrawing when there is no ink (worded for a photo when `photo`) or, on the
    canvas, nothing but ink; UnusableImage for bytes that are no image or too large a one.
    """
    gray = shrink(to_grayscale(image))
    if not photo and paper_left(gray) < PAPER_LEFT:  # a photo's paper may be dark: canvas only
        raise EmptyDrawing(FULL_CANVAS)
    inverted = invert_if_light_background(gray)
    separated = separate_digit(inverted, NO_DIGIT_IN_PHOTO if photo else EMPTY_CANVAS)
    cropped = crop_to_stroke(separated)
    boxed = scale_to_box(cropped)
    centred = center_by_mass(boxed)
    return [("grayscale", gray), ("inverted", inverted), ("ink only", separated),
            ("cropped", cropped), ("20×20", boxed), ("centred 28×28", centred),
            ("normalized", normalize(centred))]


def preprocess(image, photo: bool = False) -> torch.Tensor:
    """The model's [1, 1, 28, 28] input for a drawing or photo of one digit."""
    return preprocess_steps(image, photo)[-1][1]
