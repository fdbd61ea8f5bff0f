"""What a trained model gets right and wrong on the test set: predictions, errors, modes."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from course import data
from course.models import build_model
from course.runs import jobs
from course.runs.checkpoints import apply_checkpoint, load_checkpoint
from course.train import RunConfig


def load_run_model(run_dir: Path) -> tuple[nn.Module, RunConfig]:
    """The run's latest weights (final, or the last finished epoch), ready for eval()."""
    run_dir = Path(run_dir)
    path = run_dir / jobs.FINAL_CHECKPOINT
    if not path.exists():
        path = run_dir / jobs.EPOCH_CHECKPOINT
    checkpoint = load_checkpoint(path)
    config = RunConfig.from_dict(checkpoint.config)
    model = build_model(config.model_config)
    apply_checkpoint(model, checkpoint)
    return model.eval(), config


def predict(model: nn.Module, split: data.SplitTensors, batch_size: int = 2000,
            train_mode: bool = False) -> torch.Tensor:
    """Softmax probabilities [N, 10] for every image of the split (eval mode unless asked)."""
    model.train(train_mode)
    chunks = []
    with torch.no_grad():
        for start in range(0, len(split), batch_size):
            images = data.normalize_batch(split.images[start:start + batch_size], split.name)
            chunks.append(torch.softmax(model(images), dim=1))
    model.eval()
    return torch.cat(chunks)


def gallery_indices(probabilities: torch.Tensor, labels: torch.Tensor, count: int = 24,
                    mistakes_only: bool = False, most_confident_mistakes: bool = False,
                    true_class: int | None = None, predicted_class: int | None = None,
                    seed: int = 0) -> list[int]:
    """Which test images to show: random picks, or the model's most confident mistakes."""
    predicted = probabilities.argmax(dim=1)
    keep = torch.ones_like(labels, dtype=torch.bool)
    if mistakes_only or most_confident_mistakes:
        keep &= predicted != labels
    if true_class is not None:
        keep &= labels == true_class
    if predicted_class is not None:
        keep &= predicted == predicted_class
    candidates = keep.nonzero().flatten()
    if most_confident_mistakes:
        confidence = probabilities[candidates].max(dim=1).values
        order = torch.argsort(confidence, descending=True)
    else:
        order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed))
    return candidates[order][:count].tolist()


def mode_comparison(model: nn.Module, split: data.SplitTensors, repeats: int = 3) -> dict:
    """Accuracy in train() mode (dropout on, batch statistics) against eval() mode.

    Runs on a copy: a forward pass in train() mode updates BatchNorm's running statistics,
    which would change the model being evaluated (and leak test-set statistics into it).
    """
    model = copy.deepcopy(model)
    labels = split.labels
    train_runs = [(predict(model, split, batch_size=256, train_mode=True).argmax(dim=1) == labels)
                  .float().mean().item() for _ in range(repeats)]
    eval_accuracy = (predict(model, split).argmax(dim=1) == labels).float().mean().item()
    return {"train_mode": train_runs, "eval_mode": eval_accuracy}
