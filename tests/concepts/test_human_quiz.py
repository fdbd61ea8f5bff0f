"""The human quiz: the same 20 real test images for everyone, two of each class, scored fairly."""

from __future__ import annotations

import torch

from course.concepts import human_quiz
from course.engine import data


def test_the_quiz_has_two_images_of_each_class_the_same_for_the_same_seed(data_dir):
    labels = data.split_tensors("fashion-mnist", False).labels
    indices = human_quiz.quiz_indices(labels, seed=0)
    assert len(indices) == 20 == len(set(indices))
    assert torch.bincount(labels[indices], minlength=10).tolist() == [2] * 10
    assert indices == human_quiz.quiz_indices(labels, seed=0)
    assert indices != human_quiz.quiz_indices(labels, seed=1)
    assert labels[indices].tolist() != sorted(labels[indices].tolist())  # shuffled, not grouped


def test_score_counts_right_answers_and_an_empty_answer_is_wrong():
    labels = torch.tensor([3, 1, 4, 1, 5])
    result = human_quiz.score([3, None, 4, 0, 5], labels, [0, 1, 2, 3, 4])
    assert (result["right"], result["total"], result["accuracy"]) == (3, 5, 0.6)
    assert result["each"] == [True, False, True, False, True]


def test_model_answers_are_the_argmax_of_its_probabilities_on_the_quiz_images():
    probabilities = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]])
    assert human_quiz.model_answers(probabilities, [2, 1]) == [1, 0]
