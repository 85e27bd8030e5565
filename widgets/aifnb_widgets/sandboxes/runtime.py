"""Device choice and seeding, so a sandbox runs unchanged on a laptop CPU and on a MeluXina-AI GPU."""

from __future__ import annotations

import random

import numpy as np
import torch


def resolve_device(device: str = "auto") -> torch.device:
    """ "auto" picks CUDA when present; an explicit "cuda" on a CPU-only node fails loudly rather than silently."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("DEVICE='cuda' was requested but no GPU is visible; use DEVICE='auto' or 'cpu'")
    return resolved


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; return a NumPy generator for the notebook's own sampling."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
