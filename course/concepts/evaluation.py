"""What a trained model gets right and wrong on the test set: predictions, errors, modes."""

from __future__ import annotations

import copy
import json

import torch
from torch import nn

from course.concepts import metrics
from course.engine import data
from course.lessons import REFERENCE_DIR

# The course's two recipes trained 5 epochs by scripts/reference_comparison.py (committed JSON).
REFERENCE_PATH = REFERENCE_DIR / "mnist_comparison.json"


def reference_comparison() -> dict[str, dict]:
    """{"simple": {"config": ..., "history": [per-epoch rows]}, "improved": ...}."""
    return json.loads(REFERENCE_PATH.read_text())["runs"]


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

    eval() is measured on the model itself, untouched. The train() passes run on a copy: every
    forward pass in train() mode updates BatchNorm's running statistics towards the test
    batch's (a moving average, momentum 0.1), which would change the model being evaluated.
    """
    labels = split.labels
    eval_accuracy = (predict(model, split).argmax(dim=1) == labels).float().mean().item()
    scratch = copy.deepcopy(model)
    train_runs = [(predict(scratch, split, batch_size=256, train_mode=True).argmax(dim=1) == labels)
                  .float().mean().item() for _ in range(repeats)]
    return {"train_mode": train_runs, "eval_mode": eval_accuracy}


def top_losses(probabilities: torch.Tensor, labels: torch.Tensor, count: int = 16) -> list[dict]:
    """The images with the largest cross-entropy, −ln P(true label): where to look for bad labels."""
    p_true = probabilities.gather(1, labels[:, None]).squeeze(1)
    losses = -p_true.clamp(min=1e-12).log()
    order = torch.argsort(losses, descending=True)[:count]
    predicted = probabilities.argmax(dim=1)
    return [{"index": int(i), "label": int(labels[i]), "predicted": int(predicted[i]),
             "p_label": float(p_true[i]), "p_predicted": float(probabilities[i, predicted[i]]),
             "loss": float(losses[i])} for i in order]


def epoch_confusions(models: dict[int, nn.Module],
                     split: data.SplitTensors) -> dict[int, torch.Tensor]:
    """The test-set confusion matrix after each saved epoch ({epoch: model}): which digits are
    learned first."""
    return {epoch: metrics.confusion_matrix(predict(model, split).argmax(dim=1), split.labels)
            for epoch, model in models.items()}


def mode_rows(modes: dict) -> list[dict]:
    """mode_comparison's accuracies as table rows: each train() pass, then eval(), in %."""
    passes = [(f"train() pass {number}", value)
              for number, value in enumerate(modes["train_mode"], start=1)]
    return [{"mode": mode, "test accuracy (%)": round(100 * value, 2)}
            for mode, value in passes + [("eval()", modes["eval_mode"])]]
