"""Many small grayscale images composed into ONE picture, a title above each: one image to send."""

from __future__ import annotations

import torch
from PIL import Image, ImageDraw, ImageFont


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[N, H, W] in any range → uint8 [N, H, W], each image stretched to its own 0…255."""
    if images.dtype == torch.uint8:
        return images.cpu()
    images = images.detach().float().cpu()
    low = images.amin(dim=(1, 2), keepdim=True)
    high = images.amax(dim=(1, 2), keepdim=True)
    return ((images - low) / (high - low).clamp_min(1e-8) * 255).round().to(torch.uint8)


def compose(images: torch.Tensor, titles: list[str] | None = None, columns: int = 8,
            scale: int = 3, gap: int = 6, title_height: int = 18) -> Image.Image:
    """Tile [N, H, W] images (uint8 kept as is, floats stretched) into one grayscale PIL image."""
    if images.ndim != 3 or len(images) == 0:
        raise ValueError("need a non-empty stack of 2-D images, shape [N, H, W]")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    pixels = to_uint8(images)
    count, height, width = pixels.shape
    # nearest-neighbour upscaling keeps the pixels visibly square, as the model sees them
    big = pixels.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
    band = title_height if titles else 0
    cell_h, cell_w = height * scale + band, width * scale
    rows = -(-count // columns)
    used_columns = min(columns, count)
    canvas = torch.full((rows * cell_h + (rows - 1) * gap,
                         used_columns * cell_w + (used_columns - 1) * gap), 255, dtype=torch.uint8)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (cell_h + gap) + band, column * (cell_w + gap)
        canvas[top:top + height * scale, left:left + width * scale] = big[index]
    picture = Image.fromarray(canvas.numpy(), mode="L")
    if titles:
        draw = ImageDraw.Draw(picture)
        font = ImageFont.load_default(size=max(title_height - 5, 8))
        for index, title in enumerate(titles):
            row, column = divmod(index, columns)
            centre = column * (cell_w + gap) + cell_w / 2
            draw.text((centre, row * (cell_h + gap) + band / 2), title, fill=40, font=font,
                      anchor="mm")
    return picture
