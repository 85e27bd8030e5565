"""Device choice and seeding, so a sandbox runs unchanged on a laptop CPU and on a MeluXina-AI GPU."""

from __future__ import annotations

import random

import numpy as np
import torch

from aifnb_widgets.torch_runtime import resolve_device

__all__ = ["resolve_device", "seed_everything"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; return a NumPy generator for the notebook's own sampling."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
