"""A minimal torch training loop shared by the sector sandboxes, with a progress bar and device handling.

Companies replace the model, not the loop; keeping one loop means one place to add AMP or DDP later.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm


def fit(
    model: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    device: torch.device | str = "cpu",
    seed: int = 0,
    desc: str = "training",
    sample_weight: np.ndarray | None = None,
) -> list[float]:
    """Adam over shuffled mini-batches; returns the mean training loss per epoch.

    With ``sample_weight`` (e.g. reweighing for bias mitigation), ``loss_fn`` must return one loss per element
    (``reduction="none"``); each row's loss is multiplied by its weight before averaging."""
    device = torch.device(device)
    model.to(device).train()
    xs = torch.as_tensor(x).to(device)
    ys = torch.as_tensor(y).to(device)
    ws = None if sample_weight is None else torch.as_tensor(np.asarray(sample_weight, dtype=np.float32)).to(device)
    if ws is not None and len(ws) != len(xs):
        raise ValueError("sample_weight must have one weight per row")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    history = []
    for _ in tqdm(range(epochs), desc=desc, unit="epoch"):
        order = torch.randperm(len(xs), generator=generator).to(device)
        total = 0.0
        for start in range(0, len(xs), batch_size):
            idx = order[start : start + batch_size]
            loss = loss_fn(model(xs[idx]), ys[idx])
            if ws is not None:
                loss = (loss.reshape(len(idx), -1).mean(1) * ws[idx]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        history.append(total / len(xs))
    model.eval()
    return history


@torch.no_grad()
def predict(model: torch.nn.Module, x: np.ndarray, *, device: torch.device | str = "cpu", batch_size: int = 1024) -> np.ndarray:
    """Raw model outputs as NumPy, batched so large evaluation sets fit in GPU memory."""
    device = torch.device(device)
    model.to(device).eval()
    xs = torch.as_tensor(x)
    outs = [model(xs[i : i + batch_size].to(device)).cpu() for i in range(0, len(xs), batch_size)]
    return torch.cat(outs).numpy()
