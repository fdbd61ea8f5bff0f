"""Fashion-MNIST's published baselines and why it is harder than MNIST, on the real images."""

from __future__ import annotations

import pytest
import torch

from course.concepts import fashion_baselines as fb
from course.engine import data, models


@pytest.fixture(scope="module")
def fashion(data_dir) -> data.SplitTensors:
    return data.split_tensors("fashion-mnist", True)


def test_the_published_mlp_count_is_the_parameter_count_of_that_mlp():
    assert fb.mlp_parameters((256, 128, 100)) == models.parameter_count(
        models.simple_mlp((256, 128, 100)))
    assert fb.MLP_BASELINE["parameters"] == 247_766


def test_the_table_runs_from_the_best_published_result_down_to_humans_each_with_a_source():
    rows = fb.baseline_rows()
    accuracies = [row["test accuracy"] for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    assert accuracies[0] == 0.967 and accuracies[-1] == fb.HUMAN_ACCURACY == 0.835
    assert all("fashion-mnist" in row["source"].lower() for row in rows)
    budget = next(row for row in rows if row["model"] == "2 conv, under 100K parameters")
    assert budget["parameters"] == "< 100K"


def test_examples_per_class_gives_that_many_images_of_each_class_in_class_order(fashion):
    picked = fb.examples_per_class(fashion.labels, per_class=6, seed=3)
    assert fashion.labels[picked].tolist() == [label for label in range(10) for _ in range(6)]
    assert picked == fb.examples_per_class(fashion.labels, per_class=6, seed=3)
    assert picked != fb.examples_per_class(fashion.labels, per_class=6, seed=4)


def test_the_most_alike_average_images_are_the_upper_body_garments(fashion):
    similarity = fb.class_similarity(fashion)
    assert torch.allclose(similarity, similarity.T)
    assert torch.allclose(similarity.diagonal(), torch.ones(10))
    top = fb.most_similar_pairs(similarity, fb.CLASS_NAMES, top=4)
    for row in top:
        first, second = row["pair"].split(" / ")
        assert first in fb.UPPER_BODY and second in fb.UPPER_BODY


def test_fashion_classes_look_more_alike_than_any_two_mnist_digits(fashion, data_dir):
    mnist = data.split_tensors("mnist", True)
    fashion_top = fb.most_similar_pairs(fb.class_similarity(fashion), fb.CLASS_NAMES, 1)[0]
    mnist_top = fb.most_similar_pairs(fb.class_similarity(mnist), data.CLASS_NAMES["mnist"], 1)[0]
    assert fashion_top["similarity"] > mnist_top["similarity"]


def test_cluster_share_counts_only_mistakes_inside_the_upper_body_cluster():
    matrix = torch.zeros(10, 10, dtype=torch.long)
    names = fb.CLASS_NAMES
    matrix.fill_diagonal_(100)  # right answers never count
    matrix[names.index("Shirt"), names.index("T-shirt/top")] = 30
    matrix[names.index("Coat"), names.index("Pullover")] = 10
    matrix[names.index("Sneaker"), names.index("Sandal")] = 40
    assert fb.cluster_share_of_mistakes(matrix) == pytest.approx(40 / 80)
    assert fb.cluster_share_of_mistakes(torch.eye(10)) == 0.0
