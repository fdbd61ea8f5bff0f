"""The scissors table on the course's committed references: the gap opens at 5,000 images."""

from __future__ import annotations

import pytest

from course.concepts import evaluation, scissors


def test_gap_table_of_the_scissors_reference_shows_the_gap_opening():
    runs = scissors.scissors_reference()
    histories = {f"{name} (reference)": run["history"] for name, run in runs.items()}

    table = scissors.gap_table(histories)

    assert [row["epoch"] for row in table] == list(range(1, 16))
    assert list(table[0]) == ["epoch", "simple (reference) · train %",
                              "simple (reference) · test %", "simple (reference) · gap (points)",
                              "improved (reference) · train %", "improved (reference) · test %",
                              "improved (reference) · gap (points)"]
    last, simple_last = table[-1], runs["simple"]["history"][-1]
    assert last["simple (reference) · train %"] == 100.0
    assert last["simple (reference) · test %"] == round(simple_last["test_accuracy"] * 100, 2)
    assert last["simple (reference) · gap (points)"] == pytest.approx(
        100 - simple_last["test_accuracy"] * 100, abs=0.005)
    assert last["simple (reference) · gap (points)"] > 4, "memorised: the scissors are open"
    assert (last["improved (reference) · gap (points)"]
            < last["simple (reference) · gap (points)"]), "regularization narrows them"


def test_gap_table_keeps_each_epoch_on_its_own_row_when_runs_differ_in_length():
    reference = evaluation.reference_comparison()  # 5 epochs each
    short = reference["simple"]["history"][:2]

    table = scissors.gap_table({"short": short, "whole": reference["improved"]["history"]})

    assert [row["epoch"] for row in table] == [1, 2, 3, 4, 5]
    assert table[1]["short · test %"] == round(short[1]["test_accuracy"] * 100, 2)
    assert table[4]["short · test %"] is None
    assert table[4]["whole · test %"] == round(
        reference["improved"]["history"][4]["test_accuracy"] * 100, 2)


def test_final_gap_names_the_last_epochs_accuracies_and_their_gap():
    history = scissors.scissors_reference()["simple"]["history"]
    last = history[-1]

    words = scissors.final_gap(history)

    assert words == (f"100.0% train / {last['test_accuracy']:.1%} test, a gap of "
                     f"{100 * (1 - last['test_accuracy']):.1f} points")
