"""Reading training curves honestly: smoothing that does not lie at the start, and seed noise.

A per-step loss is noisy; an exponential moving average shows the trend. Started from zero it is
pulled towards zero at first, started from the first value it over-weights that value; dividing
by (1 - weight^t), as Adam does for its moments, removes that bias. Two runs that differ only in
their seed differ anyway: a difference between two settings means something only when it is
larger than that seed-to-seed spread.
"""

from __future__ import annotations

import math
import statistics

MIN_POINTS_TO_SMOOTH = 10


def debiased_ema(values: list[float], weight: float) -> list[float]:
    """Exponential moving average with bias correction; short series come back unsmoothed."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"the smoothing weight must be in [0, 1), not {weight}")
    if len(values) < MIN_POINTS_TO_SMOOTH or weight == 0.0:
        return list(values)
    smoothed, average, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):  # a NaN must show where it happened, not poison the rest
            smoothed.append(value)
            continue
        count += 1
        average = weight * average + (1 - weight) * value
        smoothed.append(average / (1 - weight**count))
    return smoothed


def mean_and_spread(series: list[list[float]]) -> tuple[list[float], list[float]]:
    """Point-by-point mean and sample standard deviation of equally long series (one per seed)."""
    length = min(len(values) for values in series)
    columns = [[values[index] for values in series] for index in range(length)]
    means = [statistics.fmean(column) for column in columns]
    spreads = [statistics.stdev(column) if len(column) > 1 else 0.0 for column in columns]
    return means, spreads


def within_seed_noise(first: list[float], second: list[float]) -> dict:
    """Compare two groups of final results (one number per seed): is the gap bigger than the noise?

    The gap of the means counts as real when it exceeds twice the combined standard error, a
    rough two-sigma rule that is honest about how little three seeds can say.
    """
    if len(first) < 2 or len(second) < 2:
        raise ValueError("each setting needs at least two seeds to measure its noise")
    gap = statistics.fmean(second) - statistics.fmean(first)
    error = math.sqrt(statistics.variance(first) / len(first)
                      + statistics.variance(second) / len(second))
    return {"gap": gap, "standard_error": error, "inside_noise": abs(gap) <= 2 * error}
