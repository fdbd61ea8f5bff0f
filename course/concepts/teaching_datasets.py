"""The small Datasets the lesson is built around, each a real torch Dataset."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset


class SimpleDataset(Dataset):
    """y = 2x + 1 plus a little noise: the Foundations data behind a Dataset."""

    def __init__(self, n=100, noise=0.1, seed=0):
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 1, generator=generator) * 4 - 2
        self.y = 2 * self.x + 1 + noise * torch.randn(n, 1, generator=generator)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


class SortedDataset(SimpleDataset):
    """The same kind of data with targets sorted low to high: what a CSV export often looks like."""

    def __init__(self, n=100, noise=0.1, seed=0):
        super().__init__(n, noise, seed)
        order = torch.argsort(self.y[:, 0])
        self.x, self.y = self.x[order], self.y[order]


class BrokenDataset(Dataset):
    """Scans where one came out a pixel narrower: item 3 is [1, 28, 27]."""

    def __init__(self, n=16, seed=0):
        generator = torch.Generator().manual_seed(seed)
        widths = [27 if i == 3 else 28 for i in range(n)]
        self.images = [torch.rand(1, 28, w, generator=generator) for w in widths]
        self.labels = torch.randint(0, 10, (n,), generator=generator)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]


class FixedBrokenDataset(BrokenDataset):
    """The fix: give every item the same shape in __getitem__, before stacking."""

    def __getitem__(self, index):
        image, label = super().__getitem__(index)
        image = torch.nn.functional.interpolate(image.unsqueeze(0), size=(28, 28))
        return image.squeeze(0), label


class LazyImageDataset(Dataset):
    """Paths in __init__, pixels in __getitem__: a batch reads just its images."""

    def __init__(self, folder, transform=None):
        self.paths = sorted(Path(folder).glob("*.png"))
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        path = self.paths[index]
        image = Image.open(path).convert("L")
        label = int(path.stem.split("_")[0])
        if self.transform:
            image = self.transform(image)
        return image, label


def write_image_folder(images: torch.Tensor, labels: torch.Tensor, folder) -> list[Path]:
    """Write uint8 [N, 28, 28] images as PNG files named '<label>_<index>.png'."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        path = folder / f"{int(label)}_{index:04d}.png"
        Image.fromarray(image.numpy()).save(path)
        paths.append(path)
    return paths


def lazy_demo(images, labels, transform=None):
    """Write the digits as PNG files, load them lazily, describe the first batch."""
    with tempfile.TemporaryDirectory(prefix="lazy-mnist-") as folder:
        paths = write_image_folder(images, labels, folder)
        lazy = LazyImageDataset(folder, transform=transform)
        loader = DataLoader(lazy, batch_size=8, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        batch_images, batch_labels = next(iter(loader))
        return (f"folder holds {len(paths)} files: "
                f"{paths[0].name}, {paths[1].name}, …\n"
                f"len(lazy) → {len(lazy)}\n"
                f"first batch → images {list(batch_images.shape)}, "
                f"labels {batch_labels.tolist()}")


def collation_error(dataset: Dataset, batch_size: int = 8) -> str | None:
    """The message torch.stack raises when one batch's items differ in shape, or None."""
    try:
        for _ in DataLoader(dataset, batch_size=batch_size):
            pass
    except RuntimeError as error:
        return str(error)
    return None
