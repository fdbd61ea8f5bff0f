"""Save the best model (early stopping) and go back to any saved epoch.

The best epoch is chosen on a validation split held out from the training images; the test
set is looked at once, for the number you report. Choosing on test would make the test score
one more thing you tuned, so it would no longer say how the model does on new images.
"""

from __future__ import annotations

import io

import torch
from torch import nn

from course.concepts import resume_race


def best_epoch(val_accuracy: dict[int, float]) -> int:
    """The first epoch with the highest validation accuracy (what best.pt ends up holding)."""
    best = max(val_accuracy.values())
    return min(epoch for epoch, value in val_accuracy.items() if value == best)


def early_stopping_epoch(val_accuracy: dict[int, float], patience: int) -> int:
    """The epoch where training stops: `patience` epochs in a row without a new best."""
    best, since = -1.0, 0
    for epoch in sorted(val_accuracy):
        if val_accuracy[epoch] > best:
            best, since = val_accuracy[epoch], 0
        else:
            since += 1
            if since >= patience:
                return epoch
    return max(val_accuracy)


def load_weights(state_bytes: bytes) -> nn.Sequential:
    """A race model holding exactly the weights saved in these bytes, in eval mode."""
    model = resume_race.race_model(torch.Generator().manual_seed(0))
    model.load_state_dict(torch.load(io.BytesIO(state_bytes), weights_only=True))
    return model.eval()


def predictions(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                count: int = 8) -> list[dict]:
    """The first `count` images: true label, predicted label, confidence."""
    with torch.no_grad():
        probabilities = model(images[:count]).softmax(dim=1)
    confidence, predicted = probabilities.max(dim=1)
    return [{"image": index, "true": int(labels[index]), "predicted": int(predicted[index]),
             "confidence": round(float(confidence[index]), 3),
             "right": bool(predicted[index] == labels[index])} for index in range(len(predicted))]
