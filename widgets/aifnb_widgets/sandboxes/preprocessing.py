"""Splitting and scaling for tabular sandboxes, fitted on training rows only to avoid test leakage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def split_indices(n: int, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Random disjoint index sets covering all ``n`` rows; the last split takes the rounding remainder."""
    if not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return np.split(order, cuts)


@dataclass(frozen=True)
class Standardizer:
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardizer:
        std = x.std(axis=0)
        return cls(mean=x.mean(axis=0), std=np.where(std > 0, std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32)
