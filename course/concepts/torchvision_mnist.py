"""MNIST through torchvision: a Dataset whose transforms run per sample, on every access."""

from __future__ import annotations

import torch
from torchvision import datasets, transforms

from course.concepts import image_grid
from course.engine import data

# Beyond the lesson: here only to show that a random transform draws anew on every access.
AUGMENT = transforms.Compose([
    transforms.RandomAffine(degrees=20, translate=(0.12, 0.12), scale=(0.85, 1.1)),
    transforms.ToTensor(),
])


def load_mnist(root):
    """torchvision's MNIST: ToTensor, then Normalize, on every access."""
    transform = transforms.Compose([
        transforms.ToTensor(),  # PIL image → [1, 28, 28] floats in [0, 1]
        transforms.Normalize((0.1307,), (0.3081,)),  # → mean 0, std 1
    ])
    return datasets.MNIST(root, train=True, download=True, transform=transform)


def load_augmented_mnist(root):
    """The same files behind a random augmentation: each access draws a new picture."""
    return datasets.MNIST(root, train=True, download=True, transform=AUGMENT)


def images_per_digit(dataset) -> list[int]:
    """How many images each digit 0–9 has: the classes are close to balanced."""
    return torch.bincount(dataset.targets, minlength=10).tolist()


def augmented_views(dataset, index: int, accesses: int = 6) -> tuple[torch.Tensor, bool]:
    """One item read `accesses` times, and whether the stored image is still unchanged."""
    stored = dataset.data[index].clone()
    views = torch.stack([dataset[index][0][0] for _ in range(accesses)])
    return views, torch.equal(stored, dataset.data[index])


def sample_grid(split: data.SplitTensors, seed: int, count: int = 16):
    """`count` random images of a split, each titled with its label, as one picture."""
    picks = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:count]
    return image_grid.compose(split.images[picks], [f"label {int(split.labels[i])}" for i in picks])


def pixels_before_and_after(split: data.SplitTensors,
                            count: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` images as ToTensor leaves them (0…1) and after Normalize."""
    sample = split.images[:count]
    return sample.float() / 255.0, data.normalize_batch(sample, split.name)
