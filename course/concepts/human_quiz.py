"""The human quiz: label 20 test images yourself, beside the published human figure (0.835)
and the model's answers on the same 20."""

from __future__ import annotations

import torch

QUESTIONS = 20


def quiz_indices(labels: torch.Tensor, count: int = QUESTIONS, seed: int = 0) -> list[int]:
    """`count` test images, as many of each class as fit (two each for 20), in a shuffled order
    fixed by the seed, so everyone who takes quiz `seed` sees the same images."""
    generator = torch.Generator().manual_seed(seed)
    classes = int(labels.max()) + 1
    picked = []
    for label in range(classes):
        where = (labels == label).nonzero().flatten()
        share = count // classes + (1 if label < count % classes else 0)
        picked += where[torch.randperm(len(where), generator=generator)[:share]].tolist()
    order = torch.randperm(len(picked), generator=generator).tolist()
    return [picked[i] for i in order]


def score(answers: list[int | None], labels: torch.Tensor, indices: list[int]) -> dict:
    """How many answers match the labels; an unanswered image counts as wrong."""
    if len(answers) != len(indices):
        raise ValueError(f"{len(indices)} images but {len(answers)} answers")
    right = [answer is not None and answer == int(labels[index])
             for answer, index in zip(answers, indices, strict=True)]
    return {"right": sum(right), "total": len(indices), "accuracy": sum(right) / len(indices),
            "each": right}


def model_answers(probabilities: torch.Tensor, indices: list[int]) -> list[int]:
    """The model's prediction (argmax) for each quiz image."""
    return probabilities[indices].argmax(dim=1).tolist()
