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


def log_scale_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Volumes and counts are heavy-tailed; log1p puts normal traffic on a scale a model can learn."""
    out = df[FEATURES].astype(float).copy()
    heavy = ["duration_s", "bytes_out", "bytes_in", "packets", "distinct_dst_ports", "failed_logins"]
    out[heavy] = np.log1p(out[heavy])
    return out
