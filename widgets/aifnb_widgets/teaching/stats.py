"""Interval teaching aids: the naive Wald interval (to show why it fails) and a coverage
simulator for any interval function ``f(passed, n) -> (low, high)``.

The Wilson interval itself is the bias engine's (:func:`aifnb_widgets.bias.stats.wilson_interval`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["Z95", "simulate_coverage", "simulate_pass_rates", "wald_interval"]

Z95 = 1.959963984540054
Interval = Callable[[int, int], tuple[float, float]]


def wald_interval(passed: int, n: int, z: float = Z95) -> tuple[float, float]:
    """p ± z·sqrt(p(1-p)/n), clipped to [0, 1]: zero width at 0 % and 100 %, poor coverage for small n."""
    if n == 0:
        return (math.nan, math.nan)
    p = passed / n
    half = z * math.sqrt(p * (1 - p) / n)
    return (max(0.0, p - half), min(1.0, p + half))


def simulate_pass_rates(n: int, p: float, n_sim: int, seed: int = 0) -> np.ndarray:
    """Observed pass rates of ``n_sim`` simulated test runs of ``n`` templates with true rate ``p``."""
    if n < 1 or n_sim < 1 or not 0 <= p <= 1:
        raise ValueError("need n >= 1, n_sim >= 1 and 0 <= p <= 1")
    return np.random.default_rng(seed).binomial(n, p, size=n_sim) / n


def simulate_coverage(interval: Interval, n: int, p: float, n_sim: int = 2000, seed: int = 0) -> float:
    """Share of simulated runs whose interval contains the true rate ``p`` (ideal: the nominal 95 %)."""
    passed = np.rint(simulate_pass_rates(n, p, n_sim, seed) * n).astype(int)
    table = [interval(k, n) for k in range(n + 1)]  # one interval per possible count
    hits = np.array([low - 1e-12 <= p <= high + 1e-12 for low, high in table])
    return float(hits[passed].mean())
