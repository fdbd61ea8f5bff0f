"""Where the real datasets live and how they are loaded.

Every page and the command line go through here: one data root, torchvision's own dataset
classes (to download, and for the lessons' per-sample pipeline), and one in-memory copy of each
split per process for fast training, read straight from torchvision's files.

torchvision is imported only where it is used: importing it loads torchvision.models and ops,
and with them torch._dynamo (1.7 s of a page's 4.5 s first visit, measured), which a page that
only trains from the in-memory copy never needs.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

# Each dataset's torchvision class name, which is also its folder under the data root.
DATASETS = {
    "mnist": "MNIST",
    "fashion-mnist": "FashionMNIST",
}
# The uncompressed files torchvision's MNIST and FashionMNIST read (both use the same names).
RAW_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

# Per-pixel mean and standard deviation of each training split (after ToTensor's /255).
NORMALIZATION = {
    "mnist": (0.1307, 0.3081),
    "fashion-mnist": (0.2860, 0.3530),
}

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],  # torchvision's FashionMNIST.classes
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


def _folder(name: str) -> str:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}") from None


def _dataset_key(name: str) -> str:
    _folder(name)
    return name


def required_files(name: str, root: Path | None = None) -> list[Path]:
    """The uncompressed files torchvision reads for this dataset (both splits)."""
    raw = Path(root or data_root()) / _folder(name) / "raw"
    return [raw / file for split in (True, False) for file in RAW_FILES[split]]


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
        f"holds {quote(f'{_folder(name)}/raw/')}, then {then}."
    )


def load_dataset(name: str, train: bool = True, transform=None, root: Path | None = None):
    """The torchvision dataset, downloading it once if it is missing and the internet allows."""
    from torchvision import datasets

    cls = getattr(datasets, _folder(name))
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


def normalize_transform(name: str = "mnist"):
    """The lesson's per-sample pipeline: PIL image → [1, 28, 28] float → standardised."""
    from torchvision import transforms

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
    if missing_files(name, Path(root)):
        load_dataset(name, train=train, root=Path(root))  # downloads them, or says why it can't
    images, labels = (Path(root) / _folder(name) / "raw" / file for file in RAW_FILES[train])
    return SplitTensors(name, train, read_idx(images), read_idx(labels).long())


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file (MNIST's format) as a uint8 tensor: what torchvision's MNIST reads into .data
    and .targets, without importing torchvision. Bytes 0-3: zero, zero, type (8: uint8), number
    of dimensions; then each size as a big-endian uint32; then the values."""
    raw = Path(path).read_bytes()
    if raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def normalize_batch(images: torch.Tensor, name: str = "mnist") -> torch.Tensor:
    """uint8 [B, 28, 28] → float [B, 1, 28, 28], exactly what ToTensor + Normalize give."""
    mean, std = NORMALIZATION[_dataset_key(name)]
    return images.unsqueeze(1).to(torch.float32, copy=True).div_(255.0).sub_(mean).div_(std)


# The validation images are the same for every run (this seed, not the run's): runs compared on
# a leaderboard are then judged on the same held-out images.
VALIDATION_SEED = 0


def validation_split(split: SplitTensors, count: int,
                     seed: int = VALIDATION_SEED) -> tuple[SplitTensors, SplitTensors]:
    """(training part, validation part): `count` images held out of a training split.

    The best epoch is chosen on the held-out part, so the test set stays unseen until the one
    number reported at the end.
    """
    if not 0 < count < len(split):
        raise ValueError(f"the validation split must hold between 1 and {len(split) - 1} images, "
                         f"not {count}")
    order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))
    held_out, kept = order[:count].sort().values, order[count:].sort().values
    return (SplitTensors(split.name, split.train, split.images[kept], split.labels[kept]),
            SplitTensors(split.name, split.train, split.images[held_out], split.labels[held_out]))


def random_flips_and_shifts(images: torch.Tensor, generator: torch.Generator | None = None,
                            max_shift: int = 2) -> torch.Tensor:
    """uint8 [B, H, W] → the same images, each flipped left-right with p = 0.5 and moved by up
    to `max_shift` pixels each way (the uncovered border is black, the background's colour).

    Augmentation: every epoch the model sees slightly different versions of the same
    garments, with their labels unchanged and in the same order.
    """
    count, height, width = images.shape
    flip = torch.rand(count, generator=generator) < 0.5
    images = torch.where(flip[:, None, None], images.flip(-1), images)
    if max_shift <= 0:
        return images
    padded = torch.nn.functional.pad(images, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, count), generator=generator)
    rows = dy[:, None] + torch.arange(height)
    columns = dx[:, None] + torch.arange(width)
    return padded[torch.arange(count)[:, None, None], rows[:, :, None], columns[:, None, :]]
