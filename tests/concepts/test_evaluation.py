"""Evaluating a trained model on real MNIST: the train()/eval() table, top losses, and the
confusion matrix after each saved epoch."""

from __future__ import annotations

import math

import pytest
import torch

from course.concepts import evaluation, metrics
from course.engine import data, train
from course.runs import checkpoints
from course.runs.checkpoints import save_checkpoint


@pytest.fixture(scope="module")
def test_split(data_dir):
    return data.split_tensors("mnist", train=False)


@pytest.fixture(scope="module")
def improved_run(data_dir, one_torch_thread, tmp_path_factory):
    """An improved MLP trained 2 epochs on 2,000 images, with a snapshot saved after each epoch."""
    folder = tmp_path_factory.mktemp("snapshots")
    run = train.Run(train.RunConfig(model="mlp-bn", epochs=2, train_subset=2_000,
                                    weight_decay=1e-4))
    snapshots = {}
    for event in run.events():
        if event.kind == "epoch":
            snapshots[event.epoch] = folder / f"epoch-{event.epoch}.pt"
            save_checkpoint(snapshots[event.epoch], run.model, run.optimizer, event.epoch, {},
                            config=run.config.to_dict())
    return run, snapshots


def test_eval_row_is_the_untouched_models_test_accuracy(improved_run, test_split):
    run, _ = improved_run
    model = run.model.eval()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    expected = (evaluation.predict(model, test_split).argmax(dim=1) == test_split.labels
                ).float().mean().item()

    modes = evaluation.mode_comparison(model, test_split)

    assert modes["eval_mode"] == expected
    assert modes["eval_mode"] == pytest.approx(run.history.epochs[-1]["test_accuracy"], abs=1e-6)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), f"{name} changed: the model must stay untouched"
    assert len(modes["train_mode"]) == 3 and len(set(modes["train_mode"])) > 1


def test_top_losses_are_sorted_and_report_the_probability_of_the_true_label():
    probabilities = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.05, 0.05, 0.9],
                                  [0.6, 0.3, 0.1]])
    labels = torch.tensor([0, 0, 1, 0])

    rows = evaluation.top_losses(probabilities, labels, count=3)

    assert [row["index"] for row in rows] == [2, 1, 3]
    assert rows[0] == {"index": 2, "label": 1, "predicted": 2, "p_label": pytest.approx(0.05),
                       "p_predicted": pytest.approx(0.9), "loss": pytest.approx(-math.log(0.05))}
    assert rows[2]["predicted"] == rows[2]["label"] == 0, "a right answer can still cost a loss"


def test_epoch_confusions_match_the_engines_test_accuracy_per_epoch(improved_run, test_split):
    run, snapshots = improved_run

    matrices = evaluation.epoch_confusions(checkpoints.epoch_models(snapshots, run.config), test_split)

    assert list(matrices) == [1, 2]
    for epoch, matrix in matrices.items():
        assert matrix.sum().item() == 10_000
        assert torch.equal(matrix.sum(dim=1), torch.bincount(test_split.labels, minlength=10))
        recorded = run.history.epochs[epoch - 1]["test_accuracy"]
        assert matrix.trace().item() / 10_000 == pytest.approx(recorded, abs=1e-6)
    assert not torch.equal(matrices[1], matrices[2])
    last = evaluation.predict(run.model, test_split).argmax(dim=1)
    assert torch.equal(matrices[2], metrics.confusion_matrix(last, test_split.labels))


@pytest.fixture(scope="module")
def brief_run(data_dir, one_torch_thread):
    """A simple MLP trained 1 epoch on 2,000 training images: plenty of mistakes left."""
    run = train.Run(train.RunConfig(model="mlp", epochs=1, train_subset=2_000))
    for _ in run.events():
        pass
    return run


def test_top_losses_on_the_training_set_are_its_hardest_images_with_the_models_own_p_label(
        brief_run):
    train_split = data.split_tensors("mnist", train=True)
    model = brief_run.model.eval()
    probabilities = evaluation.predict(model, train_split)

    rows = evaluation.top_losses(probabilities, train_split.labels, count=16)

    losses = [row["loss"] for row in rows]
    assert len(rows) == 16 and losses == sorted(losses, reverse=True)
    every_loss = -probabilities.gather(1, train_split.labels[:, None]).squeeze(1).log()
    assert losses == pytest.approx(torch.topk(every_loss, 16).values.tolist(), rel=1e-5), (
        "no other training image has a larger loss")
    # P(label) is the model's softmax at the image's own label, recomputed here image by image.
    indices = [row["index"] for row in rows]
    with torch.no_grad():
        softmax = torch.softmax(model(data.normalize_batch(train_split.images[indices], "mnist")),
                                dim=1)
    for row, p in zip(rows, softmax, strict=True):
        assert row["label"] == int(train_split.labels[row["index"]])
        assert row["p_label"] == pytest.approx(float(p[row["label"]]), rel=1e-4, abs=1e-9)
        assert row["predicted"] == int(p.argmax())
        assert row["p_predicted"] == pytest.approx(float(p.max()), rel=1e-4)
        assert row["loss"] == pytest.approx(-math.log(row["p_label"]), rel=1e-5)
    # A right answer has P(label) ≥ 1/10, a loss ≤ ln 10; the hardest images are all mistakes.
    assert all(row["predicted"] != row["label"] for row in rows)
    assert min(losses) > math.log(10)


def test_class_scores_rows_count_the_brief_models_test_predictions(brief_run, test_split):
    predicted = evaluation.predict(brief_run.model, test_split).argmax(dim=1)
    matrix = metrics.confusion_matrix(predicted, test_split.labels)

    rows = metrics.class_scores_rows(matrix, data.CLASS_NAMES["mnist"])

    assert [row["class"] for row in rows] == data.CLASS_NAMES["mnist"]
    for digit, row in enumerate(rows):
        hits = ((predicted == digit) & (test_split.labels == digit)).sum().item()
        precision = 100 * hits / (predicted == digit).sum().item()
        recall = 100 * hits / (test_split.labels == digit).sum().item()
        assert row["precision"] == pytest.approx(precision)
        assert row["recall"] == pytest.approx(recall)
        assert row["f1"] == pytest.approx(2 * precision * recall / (precision + recall))


def test_mode_rows_list_each_train_pass_then_eval_in_percent():
    from course.concepts import scissors

    modes = scissors.scissors_reference()["improved"]["modes"]

    rows = evaluation.mode_rows(modes)

    assert [row["mode"] for row in rows] == ["train() pass 1", "train() pass 2",
                                             "train() pass 3", "eval()"]
    assert rows[-1]["test accuracy (%)"] == round(100 * modes["eval_mode"], 2)
    assert [row["test accuracy (%)"] for row in rows[:3]] == [
        round(100 * value, 2) for value in modes["train_mode"]]
