"""Synthetic network flows with labelled attacks, for anomaly detection without real (sensitive) logs.

Each attack type moves a different subset of features, so a detector that watches one feature misses
most of them: that is the gap a multivariate anomaly detector should close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["duration_s", "bytes_out", "bytes_in", "packets", "distinct_dst_ports", "failed_logins", "hour_sin", "hour_cos"]
ATTACK_TYPES = ("port_scan", "exfiltration", "brute_force", "flood")


def make_network_flows(n: int, attack_share: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Rows are flows; ``is_attack`` is 1 for the injected attacks and ``attack_type`` names them ("normal" otherwise)."""
    rng = np.random.default_rng(seed)
    hour = np.clip(rng.normal(13, 3.5, n), 0, 23.99)
    duration = rng.lognormal(0.5, 1.0, n)
    bytes_out = rng.lognormal(7.5, 1.0, n)
    bytes_in = bytes_out * rng.lognormal(1.5, 0.6, n)
    packets = np.maximum(1, (bytes_out + bytes_in) / rng.normal(900, 150, n)).round()
    ports = rng.poisson(0.3, n) + 1
    failed = rng.poisson(0.05, n)
    backup = rng.random(n) < 0.02  # legitimate nightly backups: large, long, at night, like exfiltration
    bytes_out[backup] = rng.lognormal(10.5, 0.8, backup.sum())
    duration[backup] = rng.lognormal(3.0, 0.6, backup.sum())
    hour[backup] = rng.uniform(0, 5, backup.sum())
    kind = np.full(n, "normal", dtype=object)
    attack = rng.random(n) < attack_share
    kind[attack & ~backup] = rng.choice(ATTACK_TYPES, (attack & ~backup).sum())
    attack &= ~backup

    def sel(name: str) -> np.ndarray:
        return kind == name

    m = sel("port_scan")
    ports[m] = rng.integers(3, 300, m.sum())
    bytes_out[m] = rng.lognormal(4.5, 0.5, m.sum())
    bytes_in[m] = rng.lognormal(4.0, 0.5, m.sum())
    duration[m] = rng.lognormal(-1.0, 0.5, m.sum())
    m = sel("exfiltration")
    bytes_out[m] = rng.lognormal(10.5, 1.0, m.sum())
    duration[m] = rng.lognormal(3.5, 0.6, m.sum())
    hour[m] = rng.uniform(0, 5, m.sum())
    m = sel("brute_force")
    failed[m] = rng.integers(1, 40, m.sum())
    m = sel("flood")
    packets[m] = rng.integers(50, 5_000, m.sum())
    duration[m] = rng.lognormal(0.0, 0.3, m.sum())
    return pd.DataFrame(
        {
            "duration_s": duration.round(3),
            "bytes_out": bytes_out.round(),
            "bytes_in": bytes_in.round(),
            "packets": packets,
            "distinct_dst_ports": ports,
            "failed_logins": failed,
            "hour_sin": np.sin(2 * np.pi * hour / 24).round(4),
            "hour_cos": np.cos(2 * np.pi * hour / 24).round(4),
            "attack_type": kind.astype(str),
            "is_attack": attack.astype(int),
        }
    )


HEAVY_TAILED = ["duration_s", "bytes_out", "bytes_in", "packets", "distinct_dst_ports", "failed_logins"]


def log_scale_counts(df: pd.DataFrame, columns: list[str] | None = None, heavy: list[str] | None = None) -> pd.DataFrame:
    """Volumes and counts are heavy-tailed; log1p puts normal traffic on a scale a model can learn.

    Applies to a user's own CSV as well (``columns`` = its features, ``heavy`` = its volume and count columns):
    without it a standardised autoencoder is dominated by a few huge flows. Negative values are refused, since
    log1p of a negative count means the column is not a count."""
    columns = FEATURES if columns is None else columns
    heavy = [c for c in (HEAVY_TAILED if heavy is None else heavy) if c in columns]
    out = df[columns].astype(float).copy()
    negative = [c for c in heavy if (out[c] < 0).any()]
    if negative:
        raise ValueError(f"columns {negative} have negative values: not volumes or counts, do not log-scale them")
    out[heavy] = np.log1p(out[heavy])
    return out
