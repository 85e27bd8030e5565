"""Synthetic consumer-credit applicants with a protected attribute and built-in historical bias.

The bias is deliberate: income and postcode act as proxies for the group and part of group B's historical
"repaid" labels are recorded as defaults, so a model trained without the group column still treats the
groups differently. That is what the fairness metrics must reveal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["age", "income_k", "debt_to_income", "years_employed", "late_payments", "loan_amount_k", "postcode_risk"]
TARGET = "repaid"
PROTECTED = "group"
#: The outcome before the planted label bias: only a synthetic generator can know it. Never a model input.
UNBIASED_TARGET = "repaid_unbiased"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def make_credit_applicants(
    n: int, seed: int = 0, group_b_share: float = 0.35, proxy_strength: float = 1.0, label_bias: float = 0.15
) -> pd.DataFrame:
    """One row per applicant; ``repaid`` is the historical outcome (1 = repaid), biased against group B.

    ``repaid_unbiased`` is the same outcome before the label bias, so that equal opportunity can be measured
    against labels that are not themselves biased (a real data set has no such column)."""
    rng = np.random.default_rng(seed)
    is_b = rng.random(n) < group_b_share
    age = rng.integers(21, 71, n)
    income = rng.lognormal(np.log(42) - 0.25 * proxy_strength * is_b, 0.4)
    debt_to_income = rng.beta(2, 5, n)
    years_employed = np.minimum(rng.exponential(6, n), age - 18)
    late = rng.poisson(0.6 + 0.3 * proxy_strength * is_b)
    loan = rng.lognormal(np.log(15), 0.5, n)
    postcode_risk = np.clip(rng.normal(0.4 + 0.2 * proxy_strength * is_b, 0.15), 0, 1)
    z = (
        1.2
        + 0.9 * np.log(income / 42)
        - 3.0 * (debt_to_income - 0.3)
        + 0.06 * years_employed
        - 0.7 * late
        - 0.4 * np.log(loan / 15)
        - 0.5 * (postcode_risk - 0.4)
    )
    unbiased = rng.random(n) < _sigmoid(z)
    repaid = unbiased & ~(is_b & (rng.random(n) < label_bias))
    return pd.DataFrame(
        {
            "age": age,
            "income_k": income.round(1),
            "debt_to_income": debt_to_income.round(3),
            "years_employed": years_employed.round(1),
            "late_payments": late,
            "loan_amount_k": loan.round(1),
            "postcode_risk": postcode_risk.round(3),
            PROTECTED: np.where(is_b, "B", "A"),
            TARGET: repaid.astype(int),
            UNBIASED_TARGET: unbiased.astype(int),
        }
    )
