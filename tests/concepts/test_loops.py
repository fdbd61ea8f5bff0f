"""The MNIST project's loop shown on the page is the engine's loop: same weights, same numbers."""

from __future__ import annotations

import pytest
import torch

from course.concepts import loops
from course.engine import data, models, train


def test_train_and_test_equals_the_engines_fit_on_real_mnist(data_dir, one_torch_thread):
    train_split = data.split_tensors("mnist", train=True)
    test_split = data.split_tensors("mnist", train=False)
    results = []
    for run in ("engine", "page"):
        torch.manual_seed(0)
        model = models.improved_mlp()
        optimizer = train.adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        generator = torch.Generator().manual_seed(0)
        train_loader = train.fast_loader(train_split, 64, shuffle=True, generator=generator,
                                         limit=3_000)
        test_loader = train.fast_loader(test_split, 1000, shuffle=False)
        if run == "engine":
            history = [{"epoch": e.epoch, "train_loss": e.train_loss,
                        "train_accuracy": e.train_accuracy, "test_accuracy": e.test_accuracy}
                       for e in train.fit(model, optimizer, train_loader, test_loader, epochs=2)
                       if e.kind == "epoch"]
        else:
            history = loops.train_and_test(model, train_loader, test_loader, optimizer, epochs=2)
        results.append((model.state_dict(), history))
    (engine_state, engine_history), (page_state, page_history) = results

    for name, value in engine_state.items():
        assert torch.equal(value, page_state[name]), f"{name} differs after 2 epochs"
    assert [row["epoch"] for row in page_history] == [1, 2]
    for engine_row, page_row in zip(engine_history, page_history, strict=True):
        assert page_row["train_accuracy"] == engine_row["train_accuracy"]
        assert page_row["test_accuracy"] == engine_row["test_accuracy"]
        assert page_row["train_loss"] == pytest.approx(engine_row["train_loss"], rel=1e-6)
    assert page_history[-1]["test_accuracy"] > 0.85


def test_run_both_loops_trains_both_ways_to_w_2_b_1_and_judges_both_on_all_points():
    from course.concepts.teaching_datasets import SimpleDataset

    results = loops.run_both_loops(SimpleDataset(n=100))
    assert list(results) == ["raw tensors", "DataLoader"]
    assert [row["updates"] for row in results.values()] == [200, 20 * 13]
    for row in results.values():
        assert row["loss on all 100 points"] == pytest.approx(0.01, abs=0.01)  # noise variance
        assert row["w"] == pytest.approx(2.0, abs=0.1) and row["b"] == pytest.approx(1.0, abs=0.1)
    assert results == loops.run_both_loops(SimpleDataset(n=100))  # seeded: same numbers again


def test_run_both_loops_starts_both_from_the_same_weights():
    from course.concepts.teaching_datasets import SimpleDataset

    untrained = loops.run_both_loops(SimpleDataset(n=100), lr=0.0)  # lr 0: nothing moves
    torch.manual_seed(0)
    start = torch.nn.Linear(1, 1)
    for row in untrained.values():
        assert (row["w"], row["b"]) == (round(start.weight.item(), 3), round(start.bias.item(), 3))
