"""Group fairness metrics for binary decisions (1 = favourable outcome, e.g. loan granted).

Conventions follow Fairlearn so numbers can be compared with other tools: differences are max - min over
groups (0 is parity), disparate impact is min / max selection rate. The "four-fifths rule" (flag < 0.8) is a US
practice (EEOC Uniform Guidelines on Employee Selection Procedures, 29 CFR 1607.4(D)); EU non-discrimination law
sets no numeric threshold, so it is shown as a screening heuristic, not a legal test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


def group_rates(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Per group: size, selection rate P(pred=1) and true-positive rate P(pred=1 | true=1)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not (np.isin(y_true, (0, 1)).all() and np.isin(y_pred, (0, 1)).all()):
        raise ValueError("expected binary labels 0/1")
    df = pd.DataFrame({"y": y_true.astype(int), "p": y_pred.astype(int), "g": np.asarray(groups)})
    rows = []
    for g, part in df.groupby("g", sort=True):
        positives = part[part["y"] == 1]
        rows.append(
            {
                "group": g,
                "n": len(part),
                "selection_rate": part["p"].mean(),
                "true_positive_rate": positives["p"].mean() if len(positives) else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("group")


def demographic_parity_difference(y_pred: np.ndarray, groups: np.ndarray) -> float:
    rates = group_rates(np.zeros_like(np.asarray(y_pred)), y_pred, groups)["selection_rate"]
    return float(rates.max() - rates.min())


def equal_opportunity_difference(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> float:
    tpr = group_rates(y_true, y_pred, groups)["true_positive_rate"]
    if tpr.isna().any():
        raise ValueError("equal opportunity needs at least one positive example in every group")
    return float(tpr.max() - tpr.min())


def disparate_impact(y_pred: np.ndarray, groups: np.ndarray) -> float:
    """Ratio in [0, 1]; 1.0 when no group is selected at all (nobody is disadvantaged relative to another)."""
    rates = group_rates(np.zeros_like(np.asarray(y_pred)), y_pred, groups)["selection_rate"]
    return float(rates.min() / rates.max()) if rates.max() > 0 else 1.0


@dataclass(frozen=True)
class FairnessReport:
    demographic_parity_difference: float
    equal_opportunity_difference: float
    disparate_impact: float
    by_group: pd.DataFrame

    def as_dict(self) -> dict[str, float]:
        return {
            "demographic_parity_difference": self.demographic_parity_difference,
            "equal_opportunity_difference": self.equal_opportunity_difference,
            "disparate_impact": self.disparate_impact,
        }


def fairness_report(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> FairnessReport:
    return FairnessReport(
        demographic_parity_difference=demographic_parity_difference(y_pred, groups),
        equal_opportunity_difference=equal_opportunity_difference(y_true, y_pred, groups),
        disparate_impact=disparate_impact(y_pred, groups),
        by_group=group_rates(y_true, y_pred, groups),
    )


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float], n: int, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over rows resampled with replacement.

    Why: a fairness gap measured on a few hundred test rows moves by several points from sample to sample;
    a bare number invites acting on noise. Resamples where the statistic is undefined (a group without
    positives) are skipped."""
    if n < 1 or n_boot < 1 or not 0 < level < 1:
        raise ValueError("need n >= 1, n_boot >= 1 and 0 < level < 1")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        try:
            values.append(statistic(rng.integers(0, n, n)))
        except ValueError:
            continue
    if not values:
        raise ValueError("the statistic was undefined on every resample")
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def fairness_intervals(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95 % bootstrap intervals of the three metrics of :func:`fairness_report`."""
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    return {
        "demographic_parity_difference": bootstrap_interval(
            lambda i: demographic_parity_difference(y_pred[i], groups[i]), len(y_pred), n_boot=n_boot, seed=seed
        ),
        "equal_opportunity_difference": bootstrap_interval(
            lambda i: equal_opportunity_difference(y_true[i], y_pred[i], groups[i]), len(y_pred), n_boot=n_boot, seed=seed
        ),
        "disparate_impact": bootstrap_interval(
            lambda i: disparate_impact(y_pred[i], groups[i]), len(y_pred), n_boot=n_boot, seed=seed
        ),
    }


def reweighing_weights(labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Training weights that make group and label statistically independent (Kamiran & Calders, 2012).

    w(g, y) = P(g) P(y) / P(g, y): an under-represented combination (e.g. repaid loans of a group whose past
    repayments were under-recorded) weighs more. A data-level mitigation in the sense of AI Act Art. 10(2)(g):
    the protected attribute is used to weight training rows, never as a model input or at decision time."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    if len(labels) != len(groups) or len(labels) == 0:
        raise ValueError("labels and groups must be non-empty and of equal length")
    weights = np.empty(len(labels), dtype=float)
    for g in np.unique(groups):
        for y in np.unique(labels):
            cell = (groups == g) & (labels == y)
            if cell.any():
                weights[cell] = (groups == g).mean() * (labels == y).mean() / cell.mean()
    return weights
