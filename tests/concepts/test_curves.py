"""Smoothing that does not lie at the start, and the seed-noise verdict."""

from __future__ import annotations

import statistics

import pytest

from course.concepts import curves


def test_debiased_ema_of_a_constant_series_is_that_constant_from_the_first_point():
    assert curves.debiased_ema([0.7] * 30, 0.9) == pytest.approx([0.7] * 30)


def test_a_short_series_is_drawn_unsmoothed():
    assert curves.debiased_ema([2.3, 0.4], 0.9) == [2.3, 0.4]
    assert curves.debiased_ema([1.0] * 8 + [0.0], 0.9) == [1.0] * 8 + [0.0]  # 9 points


def test_debiased_ema_follows_the_textbook_recurrence_and_lags_a_step():
    values = [1.0] * 10 + [0.0] * 10
    smoothed = curves.debiased_ema(values, 0.5)
    average = 0.0
    for count, value in enumerate(values, start=1):
        average = 0.5 * average + 0.5 * value
        assert smoothed[count - 1] == pytest.approx(average / (1 - 0.5**count))
    assert 0.0 < smoothed[10] < 1.0  # the step is softened, not copied


def test_a_nan_stays_visible_where_it_happened():
    values = [1.0] * 12
    values[5] = float("nan")
    smoothed = curves.debiased_ema(values, 0.8)
    assert smoothed[5] != smoothed[5] and smoothed[11] == pytest.approx(1.0)


def test_weight_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="smoothing weight"):
        curves.debiased_ema([1.0] * 20, 1.0)


def test_mean_and_spread_match_statistics_point_by_point():
    runs = [[1.0, 2.0, 3.0], [2.0, 2.0, 5.0], [3.0, 2.0, 4.0, 9.0]]
    means, spreads = curves.mean_and_spread(runs)
    assert means == pytest.approx([2.0, 2.0, 4.0])
    assert spreads == pytest.approx([1.0, 0.0, 1.0])


def test_a_gap_smaller_than_the_seed_noise_is_called_noise_and_a_large_one_real():
    noisy = curves.within_seed_noise([0.970, 0.975, 0.968], [0.972, 0.969, 0.977])
    assert noisy["inside_noise"]
    assert noisy["gap"] == pytest.approx(statistics.fmean([0.972, 0.969, 0.977])
                                         - statistics.fmean([0.970, 0.975, 0.968]))
    real = curves.within_seed_noise([0.970, 0.971, 0.969], [0.980, 0.981, 0.979])
    assert not real["inside_noise"] and real["gap"] == pytest.approx(0.010)
    with pytest.raises(ValueError):
        curves.within_seed_noise([0.9], [0.8, 0.7])
