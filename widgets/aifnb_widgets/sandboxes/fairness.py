"""Group fairness metrics for binary decisions (1 = favourable outcome, e.g. loan granted).

Conventions follow Fairlearn so numbers can be compared with other tools: differences are max - min over
groups (0 is parity), disparate impact is min / max selection rate (the "four-fifths rule" flags < 0.8).
"""

from __future__ import annotations

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
