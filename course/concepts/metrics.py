"""Softmax, cross-entropy and the numbers a human reads: accuracy and the confusion matrix."""

from __future__ import annotations

import math

import torch


def softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """exp(z_i) / sum exp(z); subtracting the max first keeps exp from overflowing."""
    shifted = logits - logits.max(dim=dim, keepdim=True).values
    exps = shifted.exp()
    return exps / exps.sum(dim=dim, keepdim=True)


def cross_entropy(logits: torch.Tensor, target: int) -> float:
    """-log(p_correct) for one example, computed stably as logsumexp(z) - z_target."""
    return (torch.logsumexp(logits, dim=-1) - logits[..., target]).item()


def loss_for_probability(p_correct: float) -> float:
    return -math.log(p_correct)


def mse_against_one_hot(probabilities: torch.Tensor, target: int) -> float:
    """MSE between the probabilities and the one-hot target: bounded, even when confidently wrong."""
    one_hot = torch.zeros_like(probabilities)
    one_hot[target] = 1.0
    return ((probabilities - one_hot) ** 2).mean().item()


def mixture(p_true: float, true_class: int, p_other: float, other_class: int,
            classes: int = 10) -> torch.Tensor:
    """p_true on the true class, p_other on one rival, the remainder spread over the rest."""
    rest = (1.0 - p_true - p_other) / (classes - 2)
    probabilities = torch.full((classes,), rest)
    probabilities[true_class], probabilities[other_class] = p_true, p_other
    return probabilities


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction correct: argmax over the class dimension, compared with the labels."""
    return (logits.argmax(dim=1) == labels).float().mean().item()


def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """matrix[t, p] counts images of true class t predicted as p."""
    flat = labels * classes + predicted
    return torch.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    return matrix.diagonal().float() / matrix.sum(dim=1).clamp(min=1).float()


def double_softmax_effect(logits: torch.Tensor, target: int) -> dict:
    """What applying softmax before nn.CrossEntropyLoss does to the loss and its gradient."""
    label = torch.tensor([target])
    results = {}
    for name, transform in (("", lambda z: z), ("double_", lambda z: torch.softmax(z, dim=1))):
        z = logits.detach().clone().unsqueeze(0).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(transform(z), label)
        loss.backward()
        results[f"{name}loss"] = loss.item()
        results[f"{name}gradient"] = z.grad.norm().item()
    classes = logits.numel()
    results["floor"] = -math.log(math.e / (math.e + classes - 1))
    return results


def double_softmax_sweep(logits: torch.Tensor, target: int, low: float = -5.0, high: float = 12.0,
                         points: int = 69) -> dict[str, list[float]]:
    """Loss as the true class's logit grows: correct CE falls to 0, softmax-first stalls."""
    values = torch.linspace(low, high, points)
    correct, double = [], []
    for value in values:
        z = logits.detach().clone()
        z[target] = value
        correct.append(cross_entropy(z, target))
        double.append(cross_entropy(torch.softmax(z, dim=-1), target))
    return {"logit": values.tolist(), "nn.CrossEntropyLoss(logits)": correct,
            "nn.CrossEntropyLoss(softmax(logits))": double}


def precision_recall_f1(matrix: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per class: precision (of the images predicted c, how many are c), recall (of the images
    that are c, how many were found) and F1, their harmonic mean; 0 where a class is absent."""
    matrix = matrix.double()
    hits = matrix.diagonal()
    precision = hits / matrix.sum(dim=0).clamp(min=1)
    recall = hits / matrix.sum(dim=1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return {"precision": precision, "recall": recall, "f1": f1}


def most_confused_pairs(matrix: torch.Tensor, top: int = 10) -> list[tuple[int, int, int]]:
    """The off-diagonal cells with the most images, as (true, predicted, count), largest first."""
    off_diagonal = matrix.clone()
    off_diagonal.fill_diagonal_(0)
    counts, flat = off_diagonal.flatten().sort(descending=True, stable=True)
    classes = matrix.shape[1]
    return [(int(index) // classes, int(index) % classes, int(count))
            for count, index in zip(counts[:top], flat[:top], strict=True) if count > 0]


def mse_gradient_through_softmax(logits: torch.Tensor, target: int) -> dict[str, float]:
    """|∂loss/∂logit of the true class| for MSE on softmax and for cross-entropy, one example."""
    results = {}
    for name in ("mse", "cross_entropy"):
        z = logits.detach().clone().requires_grad_(True)
        if name == "mse":
            one_hot = torch.nn.functional.one_hot(torch.tensor(target), len(z)).float()
            loss = ((torch.softmax(z, dim=0) - one_hot) ** 2).mean()
        else:
            loss = torch.nn.functional.cross_entropy(z.unsqueeze(0), torch.tensor([target]))
        loss.backward()
        results[name] = abs(z.grad[target].item())
    return results


# The lesson's confidence table (p(correct) of a confident-right, an unsure and a confident-wrong
# answer) and its "why not MSE" cases (p on the true class 0, p on its rival class 3).
CONFIDENCE_CASES = (("confident and right", 0.95), ("unsure", 0.5), ("confident and wrong", 0.01))
MSE_CASES = (("confidently right", 0.80, 0.02), ("unsure", 0.40, 0.40),
             ("confidently wrong: 80% on a 3, 2% on the true 0", 0.02, 0.80),
             ("certain and wrong", 0.001, 0.999))


def confidence_penalty_rows(cases=CONFIDENCE_CASES) -> list[dict]:
    """Cross-entropy of a few p(correct): confident and wrong costs ~90x confident and right."""
    return [{"situation": name, "p(correct)": p, "loss": loss_for_probability(p)}
            for name, p in cases]


def mse_versus_cross_entropy_rows(cases=MSE_CASES, true_class: int = 0,
                                  rival: int = 3) -> list[dict]:
    """Why not MSE: each loss, and its push on the true logit, for outputs from right to certain
    and wrong; MSE stays bounded and its push fades through softmax."""
    rows = []
    for name, p_true, p_rival in cases:
        probabilities = mixture(p_true, true_class, p_rival, rival)
        # the logits that give exactly these probabilities, to measure each loss's gradient
        pushes = mse_gradient_through_softmax(probabilities.clamp(min=1e-9).log(), true_class)
        rows.append({"model output": name, f"p(true class {true_class})": p_true,
                     f"p(class {rival})": p_rival,
                     "MSE vs one-hot": mse_against_one_hot(probabilities, true_class),
                     "cross-entropy": loss_for_probability(p_true),
                     "MSE's push on the true logit": pushes["mse"],
                     "CE's push on the true logit": pushes["cross_entropy"]})
    return rows


def class_scores_rows(matrix: torch.Tensor, names: list[str]) -> list[dict]:
    """Precision, recall and F1 of each class in %, one row a class, as the page's table shows."""
    scores = precision_recall_f1(matrix)
    return [{"class": name, **{score: float(values[index]) * 100 for score, values in scores.items()}}
            for index, name in enumerate(names)]
