"""Fashion-MNIST: its ten classes, the published results to beat, and why it is harder than MNIST.

The published figures are the test accuracies submitted to the dataset's own benchmark table
(the Fashion-MNIST README); each row names its source. The learner's runs are judged the same
way: on the official 10,000 test images, looked at once, after the best epoch was chosen on a
validation split.
"""

from __future__ import annotations

import torch

from course.engine import data

SOURCE = "Fashion-MNIST README, benchmark table (github.com/zalandoresearch/fashion-mnist)"
HUMAN_SOURCE = ("Fashion-MNIST README: crowd-sourced, people without fashion expertise, 1,000 "
                "test images, 3 labels each, majority vote")
CLASS_NAMES = data.CLASS_NAMES["fashion-mnist"]
# The four upper-body garments: the same silhouette at 28x28, told apart by collar, sleeve,
# buttons and texture that the low resolution mostly erases.
UPPER_BODY = ("T-shirt/top", "Pullover", "Coat", "Shirt")
PARAMETER_BUDGET = 100_000  # the "2 conv, under 100K parameters" entry's budget


def mlp_parameters(widths: tuple[int, ...]) -> int:
    """Weights and biases of a 784 → widths → 10 MLP (what the published MLP's name says)."""
    sizes = (784, *widths, 10)
    return sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))


# `parameters`: as published, counted from the layer sizes the name gives, or None when the
# source does not say; `bound` marks a budget ("under 100K") rather than a count.
PUBLISHED = [
    {"name": "Humans (no fashion expertise)", "test_accuracy": 0.835, "parameters": None,
     "augmentation": False, "kind": "human", "source": HUMAN_SOURCE},
    {"name": "MLP 256-128-100", "test_accuracy": 0.883,
     "parameters": mlp_parameters((256, 128, 100)), "augmentation": False, "kind": "MLP",
     "source": SOURCE + "; parameters counted from the layer sizes"},
    {"name": "2 conv + pooling (TensorFlow tutorial)", "test_accuracy": 0.916, "parameters": None,
     "augmentation": False, "kind": "CNN", "source": SOURCE},
    {"name": "2 conv, under 100K parameters", "test_accuracy": 0.925,
     "parameters": PARAMETER_BUDGET, "bound": True, "augmentation": False, "kind": "CNN",
     "source": SOURCE},
    {"name": "2 conv + pooling + batch norm", "test_accuracy": 0.934, "parameters": None,
     "augmentation": False, "kind": "CNN", "source": SOURCE},
    {"name": "2 conv + 2 FC, random horizontal flips", "test_accuracy": 0.939, "parameters": None,
     "augmentation": True, "kind": "CNN", "source": SOURCE},
    {"name": "ResNet18, augmentation", "test_accuracy": 0.949, "parameters": None,
     "augmentation": True, "kind": "CNN", "source": SOURCE},
    {"name": "WRN40-4, augmentation", "test_accuracy": 0.967, "parameters": 8_900_000,
     "augmentation": True, "kind": "CNN", "source": SOURCE + " (8.9M parameters, as published)"},
]
HUMAN_ACCURACY = PUBLISHED[0]["test_accuracy"]
MLP_BASELINE = PUBLISHED[1]


def baseline_rows() -> list[dict]:
    """The published table as rows for a page: best first."""
    return [{"model": row["name"], "test accuracy": row["test_accuracy"],
             "parameters": (f"< {row['parameters'] // 1000}K" if row.get("bound") else
                            f"{row['parameters']:,}" if row["parameters"] else "not published"),
             "augmentation": "yes" if row["augmentation"] else "no", "source": row["source"]}
            for row in sorted(PUBLISHED, key=lambda row: -row["test_accuracy"])]


def examples_per_class(labels: torch.Tensor, per_class: int = 8, seed: int = 0) -> list[int]:
    """`per_class` image indices of each class in turn (class 0's, then class 1's, ...)."""
    generator = torch.Generator().manual_seed(seed)
    picked = []
    for label in range(10):
        where = (labels == label).nonzero().flatten()
        chosen = where[torch.randperm(len(where), generator=generator)[:per_class]]
        picked += chosen.tolist()
    return picked


def class_mean_images(split: data.SplitTensors) -> torch.Tensor:
    """[10, 28, 28]: each class's average image, pixels in 0…1."""
    sums = torch.zeros(10, split.images[0].numel(), dtype=torch.float64)
    for start in range(0, len(split), 10_000):  # in chunks: all 60,000 as floats is 190 MB
        chunk = split.images[start:start + 10_000].flatten(1).double()
        sums.index_add_(0, split.labels[start:start + 10_000], chunk)
    counts = torch.bincount(split.labels, minlength=10).double()
    return (sums / counts[:, None] / 255).float().view(10, *split.images.shape[1:])


def class_similarity(split: data.SplitTensors) -> torch.Tensor:
    """[10, 10] cosine similarity of the classes' average images: 1 means the same picture."""
    means = class_mean_images(split).flatten(1)
    means = means / means.norm(dim=1, keepdim=True)
    return means @ means.T


def most_similar_pairs(similarity: torch.Tensor, names: list[str], top: int = 5) -> list[dict]:
    """The class pairs whose average images look most alike, most alike first."""
    pairs = [(float(similarity[a, b]), a, b) for a in range(10) for b in range(a + 1, 10)]
    return [{"pair": f"{names[a]} / {names[b]}", "similarity": value}
            for value, a, b in sorted(pairs, reverse=True)[:top]]


def cluster_share_of_mistakes(matrix: torch.Tensor, cluster=UPPER_BODY,
                              names: list[str] = CLASS_NAMES) -> float:
    """Of a model's mistakes, the share where both the truth and the guess are in the cluster."""
    members = [names.index(name) for name in cluster]
    mistakes = matrix.double().clone()
    mistakes.fill_diagonal_(0)
    total = float(mistakes.sum())
    inside = float(mistakes[members][:, members].sum())
    return inside / total if total else 0.0
