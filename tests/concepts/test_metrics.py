"""Softmax, cross-entropy, accuracy and the confusion matrix, checked against torch and the lesson."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from course.concepts import metrics

WORKED_EXAMPLE = torch.tensor([0.85, -0.65, 0.05, 0.35, -1.45, -0.25, 0.25, 3.8, 0.55, -0.66])
CHECK_LOGITS = torch.tensor([2.0, -1.0, 0.5])
FLOOR_10_CLASSES = -math.log(math.e / (math.e + 9))  # 1.461


# --- softmax --------------------------------------------------------------------------------------


def test_softmax_equals_torch_softmax_on_random_logits_along_either_dim():
    torch.manual_seed(0)
    logits = torch.randn(32, 10) * 4

    torch.testing.assert_close(metrics.softmax(logits), torch.softmax(logits, dim=-1))
    torch.testing.assert_close(metrics.softmax(logits, dim=0), torch.softmax(logits, dim=0))


def test_softmax_outputs_are_positive_and_sum_to_one():
    probabilities = metrics.softmax(torch.tensor([[-30.0, 0.0, 4.0], [1.0, 1.0, -2.0]]))

    assert (probabilities > 0).all()
    torch.testing.assert_close(probabilities.sum(dim=-1), torch.ones(2))


def test_softmax_of_very_large_logits_does_not_overflow():
    logits = torch.tensor([1000.0, 1001.0, 1002.0])

    probabilities = metrics.softmax(logits)

    assert torch.isfinite(probabilities).all()
    torch.testing.assert_close(probabilities, torch.softmax(logits, dim=-1))
    torch.testing.assert_close(probabilities, metrics.softmax(torch.tensor([0.0, 1.0, 2.0])))


def test_softmax_of_equal_logits_is_uniform():
    torch.testing.assert_close(metrics.softmax(torch.full((10,), 7.5)), torch.full((10,), 0.1))


def test_softmax_worked_example_gives_class_seven_probability_0_82():
    others = torch.cat([WORKED_EXAMPLE[:7], WORKED_EXAMPLE[8:]]).exp().sum().item()
    assert math.exp(3.8) == pytest.approx(44.70, abs=0.01)
    assert others == pytest.approx(9.88, abs=0.01)
    assert others + math.exp(3.8) == pytest.approx(54.58, abs=0.01)

    probabilities = metrics.softmax(WORKED_EXAMPLE)

    assert probabilities[7].item() == pytest.approx(0.819, abs=5e-4)
    assert probabilities.argmax().item() == 7
    torch.testing.assert_close(probabilities, torch.softmax(WORKED_EXAMPLE, dim=0))


def test_check_logits_softmax_is_0_786_0_039_0_175():
    probabilities = metrics.softmax(CHECK_LOGITS)

    assert probabilities.tolist() == pytest.approx([0.786, 0.039, 0.175], abs=5e-4)
    assert probabilities.argmax().item() == 0


# --- cross-entropy --------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "expected"), [(0, 0.241), (1, 3.241), (2, 1.741)])
def test_check_logits_cross_entropy_for_each_true_label(label, expected):
    loss = metrics.cross_entropy(CHECK_LOGITS, label)

    assert loss == pytest.approx(expected, abs=5e-4)
    assert loss == pytest.approx(F.cross_entropy(CHECK_LOGITS.unsqueeze(0),
                                                 torch.tensor([label])).item(), abs=1e-6)


@pytest.mark.parametrize("logits", [
    torch.tensor([1000.0, -1000.0, 0.0, 500.0]),
    torch.tensor([-1000.0, 1000.0, 0.0, 0.0]),
    torch.tensor([88.0, 89.0, 90.0, 91.0]),
    torch.randn(10, generator=torch.Generator().manual_seed(0)) * 5,
])
def test_cross_entropy_equals_torch_on_extreme_and_random_logits(logits):
    for target in range(len(logits)):
        expected = F.cross_entropy(logits.unsqueeze(0), torch.tensor([target])).item()
        loss = metrics.cross_entropy(logits, target)
        assert math.isfinite(loss)
        assert loss == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_cross_entropy_of_equal_logits_is_ln_10_for_ten_classes():
    loss = metrics.cross_entropy(torch.zeros(10), 4)

    assert loss == pytest.approx(math.log(10))
    assert round(loss, 3) == 2.303


def test_cross_entropy_is_minus_log_of_the_softmax_probability():
    for target in range(10):
        assert metrics.cross_entropy(WORKED_EXAMPLE, target) == pytest.approx(
            -math.log(metrics.softmax(WORKED_EXAMPLE)[target].item()), rel=1e-5)


@pytest.mark.parametrize(("p_correct", "loss"), [(0.95, 0.051), (0.5, 0.693), (0.01, 4.605)])
def test_loss_for_probability_confidence_table(p_correct, loss):
    assert metrics.loss_for_probability(p_correct) == pytest.approx(loss, abs=5e-4)


def test_confident_wrong_costs_about_90_times_confident_right():
    wrong, right = metrics.loss_for_probability(0.01), metrics.loss_for_probability(0.95)

    assert wrong / right == pytest.approx(89.8, abs=0.1)
    # the lesson's "~92" divides the rounded table values 4.61 / 0.05
    assert round(wrong, 2) / round(right, 2) == pytest.approx(92.2)


def test_mse_stays_bounded_when_confidently_wrong_while_cross_entropy_explodes():
    wrong = torch.full((10,), 0.18 / 8)
    wrong[3], wrong[0] = 0.80, 0.02
    hopeless = torch.zeros(10)
    hopeless[3] = 1.0

    assert -math.log(wrong[0].item()) == pytest.approx(3.91, abs=0.005)
    assert metrics.mse_against_one_hot(wrong, 0) == pytest.approx(
        ((0.02 - 1) ** 2 + 0.8 ** 2 + 8 * (0.18 / 8) ** 2) / 10, rel=1e-5)
    # all mass on a wrong class is the worst MSE can say: (1 + 1) / 10
    assert metrics.mse_against_one_hot(hopeless, 0) == pytest.approx(0.2)
    assert metrics.loss_for_probability(1e-6) > 13


# --- accuracy and the confusion matrix ------------------------------------------------------------


def test_accuracy_compares_argmax_of_each_row_with_the_label():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [5.0, -1.0, 9.0], [0.1, 0.2, 0.0]])

    assert metrics.accuracy(logits, torch.tensor([0, 1, 0, 1])) == pytest.approx(0.75)


def test_confusion_matrix_counts_true_class_rows_and_predicted_class_columns():
    predicted = torch.tensor([0, 1, 1, 2, 2, 2])
    labels = torch.tensor([0, 1, 2, 2, 2, 0])

    matrix = metrics.confusion_matrix(predicted, labels, classes=3)

    assert matrix.tolist() == [[1, 0, 1],
                               [0, 1, 0],
                               [0, 1, 2]]


def test_confusion_matrix_matches_a_counting_loop_on_random_predictions():
    generator = torch.Generator().manual_seed(0)
    predicted = torch.randint(0, 10, (500,), generator=generator)
    labels = torch.randint(0, 10, (500,), generator=generator)
    expected = torch.zeros(10, 10, dtype=torch.int64)
    for t, p in zip(labels.tolist(), predicted.tolist()):
        expected[t, p] += 1

    matrix = metrics.confusion_matrix(predicted, labels)

    assert torch.equal(matrix, expected)
    assert matrix.sum().item() == 500
    assert matrix.trace().item() == (predicted == labels).sum().item()


def test_per_class_accuracy_is_the_diagonal_over_each_row_and_zero_for_absent_classes():
    matrix = torch.tensor([[1, 0, 1, 0],
                           [0, 1, 0, 0],
                           [0, 1, 2, 0],
                           [0, 0, 0, 0]])

    torch.testing.assert_close(metrics.per_class_accuracy(matrix),
                               torch.tensor([0.5, 1.0, 2 / 3, 0.0]))


# --- the double-softmax bug -----------------------------------------------------------------------


def test_double_softmax_floor_is_1_461_for_ten_classes_and_depends_on_the_class_count():
    effect = metrics.double_softmax_effect(torch.zeros(10), 0)
    assert effect["floor"] == pytest.approx(FLOOR_10_CLASSES)
    assert round(effect["floor"], 3) == 1.461

    assert metrics.double_softmax_effect(torch.zeros(3), 0)["floor"] == pytest.approx(
        -math.log(math.e / (math.e + 2)))


def test_double_softmax_loss_never_goes_below_the_floor_even_when_confidently_right():
    confident_right = torch.zeros(10)
    confident_right[2] = 20.0

    effect = metrics.double_softmax_effect(confident_right, 2)

    assert effect["loss"] < 1e-6
    assert effect["double_loss"] == pytest.approx(FLOOR_10_CLASSES, abs=1e-4)
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        logits = torch.randn(10, generator=generator) * 6
        target = int(torch.randint(0, 10, (1,), generator=generator))
        assert metrics.double_softmax_effect(logits, target)["double_loss"] >= FLOOR_10_CLASSES - 1e-6


def test_double_softmax_plain_loss_is_torch_cross_entropy_on_the_logits():
    effect = metrics.double_softmax_effect(WORKED_EXAMPLE, 3)

    assert effect["loss"] == pytest.approx(metrics.cross_entropy(WORKED_EXAMPLE, 3), rel=1e-6)
    assert effect["double_loss"] == pytest.approx(
        metrics.cross_entropy(torch.softmax(WORKED_EXAMPLE, dim=0), 3), rel=1e-6)


def test_softmax_first_shrinks_the_gradient_of_a_confidently_wrong_example():
    confident_wrong = torch.zeros(10)
    confident_wrong[0], confident_wrong[3] = -5.0, 8.0

    effect = metrics.double_softmax_effect(confident_wrong, 0)

    assert effect["loss"] > 12
    assert effect["gradient"] == pytest.approx(math.sqrt(2), rel=5e-3)  # (p - onehot) ≈ e3 - e0
    assert effect["double_gradient"] < 0.01 * effect["gradient"]


def test_double_softmax_sweep_correct_curve_falls_to_zero_and_double_curve_stalls():
    sweep = metrics.double_softmax_sweep(torch.zeros(10), 0)

    logit = sweep["logit"]
    correct = sweep["nn.CrossEntropyLoss(logits)"]
    double = sweep["nn.CrossEntropyLoss(softmax(logits))"]
    assert len(logit) == len(correct) == len(double) == 69
    assert logit[0] == pytest.approx(-5.0) and logit[-1] == pytest.approx(12.0)
    assert all(later < earlier for earlier, later in zip(correct, correct[1:]))
    assert correct[-1] < 1e-3
    assert min(double) >= FLOOR_10_CLASSES - 1e-6
    assert double[-1] == pytest.approx(FLOOR_10_CLASSES, abs=1e-3)
    # probabilities in [0, 1] as logits squash every possible loss into [1.461, ln(e + 9)]
    assert max(double) <= math.log(math.e + 9)
    assert correct[0] > 7


# --- precision, recall, F1 and the most-confused pairs ------------------------------------------


def test_precision_recall_f1_per_class_from_the_confusion_matrix():
    matrix = torch.tensor([[8, 2, 0],
                           [1, 6, 3],
                           [0, 0, 0]])

    scores = metrics.precision_recall_f1(matrix)

    # class 0: predicted 0 nine times, 8 right; 10 real zeros, 8 found
    torch.testing.assert_close(scores["precision"], torch.tensor([8 / 9, 6 / 8, 0.0], dtype=torch.float64))
    torch.testing.assert_close(scores["recall"], torch.tensor([0.8, 0.6, 0.0], dtype=torch.float64))
    f1_zero = 2 * (8 / 9) * 0.8 / (8 / 9 + 0.8)
    assert scores["f1"][0].item() == pytest.approx(f1_zero)
    assert scores["f1"][2].item() == 0.0, "an absent class scores 0, not NaN"


def test_precision_recall_f1_agree_with_counting_on_random_predictions():
    generator = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 10, (2_000,), generator=generator)
    predicted = torch.where(torch.rand(2_000, generator=generator) < 0.7, labels,
                            torch.randint(0, 10, (2_000,), generator=generator))

    scores = metrics.precision_recall_f1(metrics.confusion_matrix(predicted, labels))

    for c in range(10):
        hits = ((predicted == c) & (labels == c)).sum().item()
        assert scores["precision"][c].item() == pytest.approx(hits / (predicted == c).sum().item())
        assert scores["recall"][c].item() == pytest.approx(hits / (labels == c).sum().item())


def test_most_confused_pairs_rank_the_off_diagonal_cells():
    matrix = torch.tensor([[50, 3, 9],
                           [0, 40, 1],
                           [7, 0, 60]])

    assert metrics.most_confused_pairs(matrix, top=3) == [(0, 2, 9), (2, 0, 7), (0, 1, 3)]
    assert metrics.most_confused_pairs(matrix, top=10)[-1] == (1, 2, 1), "empty cells are left out"
    assert metrics.most_confused_pairs(torch.eye(3, dtype=torch.int64) * 5) == []


def test_mse_gradient_through_softmax_vanishes_when_certain_and_wrong_but_cross_entropy_does_not():
    certain_wrong = torch.zeros(10)
    certain_wrong[3] = 12.0

    gradients = metrics.mse_gradient_through_softmax(certain_wrong, 0)

    assert gradients["cross_entropy"] == pytest.approx(1.0, abs=1e-3)  # p_true - 1 ≈ -1
    assert gradients["mse"] < 1e-4
    unsure = metrics.mse_gradient_through_softmax(torch.zeros(10), 0)
    assert unsure["mse"] > 100 * gradients["mse"], "MSE pushes harder on an unsure answer"


# --- the page's tables ----------------------------------------------------------------------------


def test_confidence_penalty_rows_are_the_lessons_table_and_its_90x():
    rows = metrics.confidence_penalty_rows()

    assert [row["situation"] for row in rows] == ["confident and right", "unsure",
                                                  "confident and wrong"]
    assert [round(row["loss"], 2) for row in rows] == [0.05, 0.69, 4.61]
    assert rows[2]["loss"] / rows[0]["loss"] == pytest.approx(90, abs=1)


def test_mse_versus_cross_entropy_rows_show_the_bound_and_the_fading_push():
    rows = metrics.mse_versus_cross_entropy_rows()

    mse = [round(row["MSE vs one-hot"], 4) for row in rows]
    assert mse[2:] == [0.1604, 0.1996], "MSE barely grows from confident to certain and wrong"
    assert [round(row["cross-entropy"], 2) for row in rows[2:]] == [3.91, 6.91]
    assert rows[2]["p(true class 0)"] == 0.02 and rows[2]["p(class 3)"] == 0.80
    mse_push = [row["MSE's push on the true logit"] for row in rows]
    ce_push = [row["CE's push on the true logit"] for row in rows]
    assert round(mse_push[1], 3) == 0.042 and round(mse_push[3], 4) == 0.0004
    assert mse_push[3] < mse_push[2] < mse_push[1]
    # cross-entropy's push on the true logit is 1 - p(true): strongest where most wrong
    assert ce_push == pytest.approx([1 - row["p(true class 0)"] for row in rows], abs=1e-5)
