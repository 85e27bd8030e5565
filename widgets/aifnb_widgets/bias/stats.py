"""Intervals for pass rates: with 15-100 templates a category's rate is uncertain by ±10-20 points."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(passed: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval: unlike the Wald interval it stays inside [0, 1] and behaves at 0 % and 100 %."""
    if n == 0:
        return (math.nan, math.nan)
    p = passed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_mean_interval(
    outcomes: list[np.ndarray], seed: int, n_boot: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the plain mean of category pass rates, resampling tests within each category."""
    groups = [np.asarray(o, dtype=float) for o in outcomes if len(o)]
    if not groups:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = np.zeros(n_boot)
    for group in groups:
        draws = rng.integers(0, len(group), size=(n_boot, len(group)))
        means += group[draws].mean(axis=1)
    means /= len(groups)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return (float(low), float(high))
