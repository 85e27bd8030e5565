"""Synthetic multispectral-like image patches of land-cover classes, as small satellite imagery stand-ins.

Classes differ in texture more than in average colour, and every patch gets random illumination, tint,
sensor noise and sometimes a cloud: a classifier on mean colour alone (the classic per-pixel spectral
approach) is fooled, a convolutional model should not be.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("water", "forest", "farmland", "urban")


def _blobs(rng: np.random.Generator, size: int, count: int, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    field = np.zeros((size, size))
    for cy, cx in rng.uniform(0, size, (count, 2)):
        field += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
    return field / max(field.max(), 1e-9)


def _patch(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    name = CLASSES[label]
    if name == "water":
        base = np.array([0.25, 0.38, 0.45])
        texture = 0.05 * np.sin(xx / rng.uniform(2, 4) + rng.uniform(0, 6))
    elif name == "forest":
        base = np.array([0.28, 0.42, 0.26])
        texture = 0.35 * _blobs(rng, size, 12, 1.2) - 0.17
    elif name == "farmland":
        base = np.array([0.35, 0.42, 0.28])
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(3, 6)
        texture = 0.18 * np.sign(np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period))
    else:  # urban
        base = np.array([0.36, 0.38, 0.36])
        step = int(rng.integers(3, 6))
        texture = 0.25 * (((yy // step) + (xx // step)) % 2) - 0.12 + 0.1 * (rng.random((size, size)) > 0.85)
    img = base[:, None, None] + texture[None] * np.array([1.0, 1.0, 1.0])[:, None, None]
    img = img * rng.uniform(0.7, 1.3) + rng.normal(0, 0.04, 3)[:, None, None]  # illumination and tint
    if rng.random() < 0.25:  # partial cloud
        cloud = _blobs(rng, size, 2, size / 4)
        img = img * (1 - cloud) + 0.9 * cloud
    img += rng.normal(0, 0.03, img.shape)  # sensor noise
    return np.clip(img, 0, 1)


def make_satellite_patches(n: int, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Balanced classes; returns images (n, 3, size, size) float32 in [0, 1] and integer labels indexing CLASSES."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    images = np.stack([_patch(rng, int(lbl), size) for lbl in labels]).astype(np.float32)
    return images, labels.astype(np.int64)
