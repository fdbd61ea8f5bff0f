"""The leaderboard: every run ranked by its best epoch's validation accuracy, never by test.

A run that is ranked on the test set has been tuned on it: its test score then says how well
the learner picked, not how the model does on new images. So runs are ranked (and their best
epoch chosen) on the validation split held out of the training images; the test accuracy of
that one epoch is shown beside it, for reporting. Published results only have a test accuracy:
they are placed among the runs by it, as the figures to beat.
"""

from __future__ import annotations


def run_entry(run_id: str, label: str, config: dict, record: dict) -> dict:
    """One run's line: its best epoch by validation accuracy and that epoch's test accuracy."""
    history = record.get("history") or []
    scored = [row for row in history if row.get("val_accuracy") is not None]
    best = max(scored, key=lambda row: (row["val_accuracy"], -row["epoch"])) if scored else None
    last = history[-1] if history else {}
    return {
        "run": run_id, "label": label, "model": config.get("model"),
        "parameters": record.get("params"), "epochs": len(history),
        "best_epoch": best["epoch"] if best else None,
        "val_accuracy": best["val_accuracy"] if best else None,
        "test_accuracy": (best or last).get("test_accuracy"),
        "seconds": sum(row.get("seconds") or 0.0 for row in history),
        "augmentation": bool(config.get("augment")), "state": record.get("state"),
        "published": False,
    }


def ranked(entries: list[dict], published: list[dict]) -> list[dict]:
    """Runs with a validation accuracy, best first, numbered; published results placed among
    them by their test accuracy (not numbered); runs without a validation split last, unranked."""
    scored = sorted((e for e in entries if e["val_accuracy"] is not None),
                    key=lambda e: (-e["val_accuracy"], e["run"]))
    for rank, entry in enumerate(scored, start=1):
        entry["rank"] = rank
    others = [{"run": "", "label": row["name"], "model": row.get("kind"),
               "parameters": row.get("parameters"), "val_accuracy": None,
               "test_accuracy": row["test_accuracy"], "published": True, "rank": None,
               "source": row.get("source", ""), "augmentation": row.get("augmentation", False),
               "bound": row.get("bound", False)}  # parameters is a budget, not a count
              for row in published]
    merged = sorted(scored + others, key=lambda e: -(e["val_accuracy"] if not e["published"]
                                                      else e["test_accuracy"]))
    unranked = [dict(e, rank=None) for e in entries if e["val_accuracy"] is None]
    return merged + unranked


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the (parameters, accuracy) points no other point beats on both: as few
    parameters or fewer and a higher accuracy, or fewer parameters and the same accuracy."""
    front = []
    for index, (size, accuracy) in enumerate(points):
        dominated = any((other_size <= size and other_accuracy > accuracy)
                        or (other_size < size and other_accuracy >= accuracy)
                        for other_size, other_accuracy in points)
        if not dominated:
            front.append(index)
    return sorted(front, key=lambda i: points[i][0])


def baselines_beaten(entry: dict, published: list[dict]) -> list[str]:
    """The published results below this run's reported number: the test accuracy of the epoch
    chosen on validation (test against test, the only fair comparison with a published figure)."""
    if entry.get("val_accuracy") is None or entry.get("test_accuracy") is None:
        return []
    return [row["name"] for row in published if row["test_accuracy"] < entry["test_accuracy"]]
