"""The reference comparison the mnist-project page shows before a learner has runs of their own
is what the engine really produces: a fresh run of each recipe repeats its first epoch."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from course import evaluation
from scripts import reference_comparison

pytestmark = pytest.mark.slow


def test_reference_holds_both_recipes_for_five_epochs():
    runs = evaluation.reference_comparison()
    assert list(runs) == ["simple", "improved"]
    for name, run in runs.items():
        assert run["config"] == reference_comparison.RECIPES[name].to_dict()
        assert [row["epoch"] for row in run["history"]] == [1, 2, 3, 4, 5]
        assert all(0.9 < row["test_accuracy"] < 1 for row in run["history"])
    assert runs["improved"]["config"]["weight_decay"] == 1e-4
    assert runs["simple"]["config"]["weight_decay"] == 0.0


@pytest.mark.parametrize("name", ["simple", "improved"])
def test_a_fresh_run_repeats_the_references_first_epoch(name, data_dir, one_torch_thread):
    """One thread, as the script used: then the engine is deterministic and the numbers are
    equal to float precision. A torch build with other CPU kernels may round differently, so
    the comparison allows 1e-6 in a loss and 2 images in 10,000 in an accuracy."""
    reference = evaluation.reference_comparison()[name]["history"][0]
    assert torch.get_num_threads() == 1
    config = dataclasses.replace(reference_comparison.RECIPES[name], epochs=1)

    fresh = reference_comparison.history_of(config)[0]

    assert fresh["epoch"] == 1
    for key in ("train_accuracy", "test_accuracy"):
        assert fresh[key] == pytest.approx(reference[key], abs=2e-4), key
    for key in ("train_loss", "test_loss"):
        assert fresh[key] == pytest.approx(reference[key], abs=1e-6), key
