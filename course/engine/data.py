"""Where the real datasets live and how they are loaded.

Every page and the command line go through here: one data root, torchvision's own dataset
classes, and one in-memory copy of each split per process for fast training.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import datasets, transforms

DATASETS = {
    "mnist": datasets.MNIST,
    "fashion-mnist": datasets.FashionMNIST,
}

# Per-pixel mean and standard deviation of each training split (after ToTensor's /255).
NORMALIZATION = {
    "mnist": (0.1307, 0.3081),
    "fashion-mnist": (0.2860, 0.3530),
}

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": list(datasets.FashionMNIST.classes),
}


class DatasetUnavailable(RuntimeError):
    """The dataset's files are missing and could not be downloaded."""

    def __init__(self, name: str, root: Path):
        self.name, self.root = name, Path(root)
        super().__init__(unavailable_message(name, self.root))

    def __reduce__(self):  # rebuilt from name and root when it crosses a process boundary
        return type(self), (self.name, self.root)


def data_root() -> Path:
    """COURSE_DATA_DIR when set, else a per-user cache folder."""
    configured = os.environ.get("COURSE_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "pytorch-course-lab" / "data"


def _dataset_class(name: str):
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}") from None


def _dataset_key(name: str) -> str:
    _dataset_class(name)
    return name


def required_files(name: str, root: Path | None = None) -> list[Path]:
    """The uncompressed files torchvision reads for this dataset (both splits)."""
    cls = _dataset_class(name)
    raw = Path(root or data_root()) / cls.__name__ / "raw"
    return [raw / Path(url_name).stem for url_name, _md5 in cls.resources]


def missing_files(name: str, root: Path | None = None) -> list[Path]:
    return [path for path in required_files(name, root) if not path.exists()]


def unavailable_message(name: str, root: Path | None = None, then: str = "try again",
                        markdown: bool = False) -> str:
    """What to do about a missing dataset; `then` is the last step where the learner is.

    The page says "reload the page", a terminal "run the command again". With `markdown` the
    paths are code spans, safe from markdown's emphasis and escapes; either way they stand in a
    list of their own, apart from the sentences around them.
    """
    root = Path(root or data_root())
    quote = (lambda text: f"`{text}`") if markdown else str
    listing = "\n".join(f"- {quote(path)}" for path in missing_files(name, root))
    return (
        f"The {name} dataset is not available: torchvision could not download it "
        f"(no internet?) and these files are missing under {quote(root)}:\n\n{listing}\n\n"
        f"Copy the uncompressed files there, or point {quote('COURSE_DATA_DIR')} at a folder that "
        f"holds {quote(f'{_dataset_class(name).__name__}/raw/')}, then {then}."
    )


def load_dataset(name: str, train: bool = True, transform=None, root: Path | None = None):
    """The torchvision dataset, downloading it once if it is missing and the internet allows."""
    cls = _dataset_class(name)
    root = Path(root or data_root())
    try:
        return cls(str(root), train=train, download=True, transform=transform)
    except (RuntimeError, OSError) as error:
        raise DatasetUnavailable(name, root) from error


def dataset_status(name: str, root: Path | None = None) -> dict:
    """What the Home page shows: where the files are expected and whether they are there."""
    root = Path(root or data_root())
    files = required_files(name, root)
    present = [path for path in files if path.exists()]
    return {
        "dataset": name,
        "root": str(root),
        "files": len(files),
        "present": len(present),
        "ready": len(present) == len(files),
        "configured": bool(os.environ.get("COURSE_DATA_DIR")),
    }


def normalize_transform(name: str = "mnist") -> transforms.Compose:
    """The lesson's per-sample pipeline: PIL image → [1, 28, 28] float → standardised."""
    mean, std = NORMALIZATION[_dataset_key(name)]
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))])


@dataclass(frozen=True)
class SplitTensors:
    """A whole split in memory: images as uint8 [N, 28, 28] (47 MB for MNIST train), labels int64."""

    name: str
    train: bool
    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def split_tensors(name: str, train: bool = True, root: str | None = None) -> SplitTensors:
    """Built once per process and shared read-only: never modify the returned tensors."""
    return _cached_split(name, train, str(root or data_root()))


@functools.lru_cache(maxsize=4)
def _cached_split(name: str, train: bool, root: str) -> SplitTensors:
    dataset = load_dataset(name, train=train, root=Path(root))
    return SplitTensors(name, train, dataset.data, dataset.targets)


def normalize_batch(images: torch.Tensor, name: str = "mnist") -> torch.Tensor:
    """uint8 [B, 28, 28] → float [B, 1, 28, 28], exactly what ToTensor + Normalize give."""
    mean, std = NORMALIZATION[_dataset_key(name)]
    return images.unsqueeze(1).to(torch.float32, copy=True).div_(255.0).sub_(mean).div_(std)
