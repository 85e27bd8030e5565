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


def cluster_rate_interval(verdicts, z: float = Z95) -> tuple[float, float]:
    """95 % interval of a pass rate when repeated samples of one template are not independent.

    ``verdicts`` has a ``test`` column (the template: the cluster) and a ``status`` column.
    With one verdict per template this is the Wilson interval. With several samples per
    template, answers to the same template agree more than answers to different ones, so the
    rate rests on fewer independent units than verdicts: the Wilson interval is computed on the
    effective sample size n / deff, where deff is Kish's design effect estimated from the
    between-template variance (at least 1, at most the largest cluster size). When every verdict
    agrees the variance says nothing, and the number of templates is used as the sample size.
    """
    n = len(verdicts)
    if n == 0:
        return (math.nan, math.nan)
    passed_by_test = (verdicts["status"] == "Passed").groupby(verdicts["test"]).agg(["sum", "count"])
    sums, sizes = passed_by_test["sum"].to_numpy(dtype=float), passed_by_test["count"].to_numpy(dtype=float)
    passed = float(sums.sum())
    k = len(sizes)
    if sizes.max() <= 1:
        return wilson_interval(int(passed), n, z)
    rate = passed / n
    var_srs = rate * (1 - rate) / n
    if var_srs == 0 or k < 2:
        n_eff = float(k)
    else:
        var_cluster = k / (k - 1) * float(((sums - rate * sizes) ** 2).sum()) / n**2
        deff = min(max(var_cluster / var_srs, 1.0), float(sizes.max()))
        n_eff = n / deff
    return _wilson_fractional(rate, n_eff, z)


def _wilson_fractional(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's formula for a proportion ``p`` observed on a (possibly fractional) effective ``n``."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))
