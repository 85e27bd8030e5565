"""Classification and fairness metrics on examples computed by hand."""

import numpy as np
import pandas as pd
import pytest

from aifnb_widgets.sandboxes.classification_metrics import (
    average_precision,
    best_f1_threshold,
    binary_report,
    confusion_matrix,
    macro_f1,
    roc_auc,
)
from aifnb_widgets.sandboxes.fairness import (
    bootstrap_interval,
    demographic_parity_difference,
    disparate_impact,
    equal_opportunity_difference,
    fairness_intervals,
    fairness_report,
    reweighing_weights,
)

# group A: 4 people, 3 granted; group B: 4 people, 1 granted
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 0, 0])
Y_PRED = np.array([1, 1, 1, 0, 1, 0, 0, 0])
GROUPS = np.array(["A", "A", "A", "A", "B", "B", "B", "B"])


def test_binary_report_by_hand():
    r = binary_report(Y_TRUE, Y_PRED)
    assert (r.tp, r.fp, r.fn, r.tn) == (3, 1, 1, 3)
    assert r.precision == pytest.approx(0.75) and r.recall == pytest.approx(0.75)
    assert r.f1 == pytest.approx(0.75) and r.accuracy == pytest.approx(0.75)


def test_precision_is_zero_without_positive_predictions():
    r = binary_report(np.array([1, 0]), np.array([0, 0]))
    assert r.precision == 0.0 and r.recall == 0.0 and r.f1 == 0.0


def test_roc_auc_by_hand_with_a_tie():
    # positives 0.8, 0.4; negatives 0.4, 0.1 -> pairs: 1, 1, 0.5 (tie), 1 -> 3.5 / 4
    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.8, 0.4, 0.4, 0.1])) == pytest.approx(0.875)


def test_roc_auc_needs_both_classes():
    with pytest.raises(ValueError):
        roc_auc(np.array([1, 1]), np.array([0.1, 0.2]))


def test_best_f1_threshold_separates_perfectly():
    assert best_f1_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.9])) == pytest.approx(0.6)


def test_demographic_parity_difference_by_hand():
    assert demographic_parity_difference(Y_PRED, GROUPS) == pytest.approx(0.75 - 0.25)


def test_equal_opportunity_difference_by_hand():
    # TPR A = 2/2, TPR B = 1/2
    assert equal_opportunity_difference(Y_TRUE, Y_PRED, GROUPS) == pytest.approx(0.5)


def test_disparate_impact_by_hand():
    assert disparate_impact(Y_PRED, GROUPS) == pytest.approx(0.25 / 0.75)
    assert disparate_impact(np.zeros(4, int), np.array(["A", "A", "B", "B"])) == 1.0


def test_equal_treatment_gives_parity():
    report = fairness_report(np.array([1, 0, 1, 0]), np.array([1, 0, 1, 0]), np.array(["A", "A", "B", "B"]))
    assert report.as_dict() == {"demographic_parity_difference": 0, "equal_opportunity_difference": 0, "disparate_impact": 1}
    assert list(report.by_group.index) == ["A", "B"]


def test_equal_opportunity_needs_positives_in_every_group():
    with pytest.raises(ValueError):
        equal_opportunity_difference(np.array([1, 0]), np.array([1, 0]), np.array(["A", "B"]))


def test_non_binary_predictions_are_rejected():
    with pytest.raises(ValueError):
        binary_report(np.array([1, 0]), np.array([2, 0]))
    with pytest.raises(ValueError):
        demographic_parity_difference(pd.Series([0.3, 0.9]).to_numpy(), np.array(["A", "B"]))


def test_confusion_matrix_and_macro_f1_by_hand():
    y_true, y_pred = np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2])
    assert confusion_matrix(y_true, y_pred, 3).tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    # F1: class 0 = 2/3 (p=1, r=.5), class 1 = 2/3 (p=.5, r=1), class 2 = 1
    assert macro_f1(y_true, y_pred, 3) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_reweighing_makes_group_and_label_independent():
    """Weighted, every group has the same share of positive labels (Kamiran & Calders)."""
    labels = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    groups = np.array(["A", "A", "A", "A", "B", "B", "B", "B"])
    w = reweighing_weights(labels, groups)
    rate = {g: w[(groups == g) & (labels == 1)].sum() / w[groups == g].sum() for g in ("A", "B")}
    assert rate["A"] == pytest.approx(rate["B"]) == pytest.approx(labels.mean())
    assert w[(groups == "B") & (labels == 1)][0] == pytest.approx(0.5 * 0.5 / 0.125)
    assert w.sum() == pytest.approx(len(w))


def test_bootstrap_interval_covers_the_estimate_and_shrinks_with_n():
    """The percentile interval contains the full-sample value and narrows with four times the data."""
    rng = np.random.default_rng(0)
    small, large = rng.random(200) < 0.3, rng.random(3200) < 0.3
    lo_s, hi_s = bootstrap_interval(lambda i: small[i].mean(), len(small), n_boot=400)
    lo_l, hi_l = bootstrap_interval(lambda i: large[i].mean(), len(large), n_boot=400)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert (hi_l - lo_l) < 0.6 * (hi_s - lo_s)
    with pytest.raises(ValueError):
        bootstrap_interval(lambda i: 0.0, 0)


def test_fairness_intervals_exclude_zero_for_a_large_planted_gap():
    """A 40-point selection gap on 400 rows is found: the interval of the difference excludes 0."""
    rng = np.random.default_rng(1)
    groups = np.repeat(["A", "B"], 200)
    y_pred = np.where(groups == "A", rng.random(400) < 0.7, rng.random(400) < 0.3).astype(int)
    y_true = rng.integers(0, 2, 400)
    ci = fairness_intervals(y_true, y_pred, groups, n_boot=300)
    assert ci["demographic_parity_difference"][0] > 0.2 and ci["disparate_impact"][1] < 0.8


def test_average_precision_by_hand_and_against_prevalence():
    """Ranks 1 and 3 positive: AP = (1/1 + 2/3) / 2; a random score scores about the positive share."""
    assert average_precision(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1])) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(np.array([1, 0, 0]), np.array([0.5, 0.5, 0.5])) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.05).astype(int)
    assert average_precision(y, rng.random(5000)) == pytest.approx(y.mean(), abs=0.02)
    with pytest.raises(ValueError):
        average_precision(np.zeros(3), np.ones(3))
