"""Small generated datasets for the courses: no download, reproducible from a seed."""

from __future__ import annotations

import numpy as np

__all__ = ["noisy_line", "train_test_split", "two_circles", "two_moons"]


def two_moons(n: int = 512, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (2-D points, labels 0/1), like scikit-learn's make_moons.

    Returns ``X`` float32 of shape (n, 2) and ``y`` int64 of shape (n,), classes balanced
    (the first ``n // 2`` points are class 0 before shuffling)."""
    if n < 2:
        raise ValueError("n must be at least 2")
    rng = np.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def two_circles(n: int = 512, noise: float = 0.1, factor: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A disc of class 1 inside a ring of class 0 (like scikit-learn's make_circles).

    Why this task: no straight line separates a disc from the ring around it, so a linear model stays
    near chance while one hidden layer solves it; the course can then *show* that the hidden layer matters
    (two moons is ~85 % linearly separable). ``factor`` is the inner radius relative to the outer one."""
    if n < 2:
        raise ValueError("n must be at least 2")
    if not 0 < factor < 1:
        raise ValueError("factor must be in (0, 1)")
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(np.arange(n) < n0, 1.0, factor)
    X = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1) + rng.normal(0.0, noise, (n, 2))
    y = (np.arange(n) >= n0).astype(np.int64)
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def noisy_line(
    n: int = 100, slope: float = 2.0, intercept: float = -1.0, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``y = slope * x + intercept + noise`` with x uniform in [-1, 1]; float32 arrays of shape (n,)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = slope * x + intercept + rng.normal(0.0, noise, n)
    return x.astype(np.float32), y.astype(np.float32)


def train_test_split(*arrays: np.ndarray, test_fraction: float = 0.25, seed: int = 0) -> list[np.ndarray]:
    """Shuffle and split arrays of equal length: returns [a_train, a_test, b_train, b_test, ...]."""
    if not arrays:
        raise ValueError("give at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("arrays must have the same length")
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be in (0, 1)")
    n_test = max(1, round(n * test_fraction))
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out
