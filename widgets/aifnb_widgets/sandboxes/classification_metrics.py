"""Binary and multi-class classification metrics in NumPy, so the sandboxes need no scikit-learn and tests can check them by hand."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def _binary(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if not np.isin(a, (0, 1)).all():
        raise ValueError("expected binary labels 0/1")
    return a.astype(bool)


def _ratio(num: float, den: float) -> float:
    """0 when undefined (e.g. precision with no positive prediction): a finite, conservative value for reports."""
    return float(num / den) if den else 0.0


@dataclass(frozen=True)
class BinaryReport:
    accuracy: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def binary_report(y_true: np.ndarray, y_pred: np.ndarray) -> BinaryReport:
    t, p = _binary(y_true), _binary(y_pred)
    tp, fp = int((t & p).sum()), int((~t & p).sum())
    fn, tn = int((t & ~p).sum()), int((~t & ~p).sum())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return BinaryReport(
        accuracy=_ratio(tp + tn, len(t)),
        precision=precision,
        recall=recall,
        f1=_ratio(2 * precision * recall, precision + recall),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
    )


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Probability that a random positive outranks a random negative (ties count half): the Mann-Whitney U form."""
    t = _binary(y_true)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[t], scores[~t]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("ROC AUC needs both classes")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision-recall curve, as average precision (scikit-learn's definition: precision at each
    positive's rank, averaged over positives; tied scores enter together).

    Why beside ROC AUC: with 5 % attacks, ROC AUC stays high while most alerts are false; PR-AUC is measured
    against the prevalence (a random score gets about the positive share), so it shows what an analyst sees."""
    t = _binary(y_true)
    scores = np.asarray(scores, dtype=float)
    if not t.any():
        raise ValueError("average precision needs at least one positive")
    order = np.argsort(-scores, kind="mergesort")
    s_sorted, t_sorted = scores[order], t[order]
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp = np.cumsum(t_sorted)[last_of_tie]
    seen = (np.arange(1, len(t_sorted) + 1))[last_of_tie]
    precision = tp / seen
    recall_gain = np.diff(np.r_[0, tp]) / t.sum()
    return float((precision * recall_gain).sum())


def best_f1_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Threshold (predict positive when score >= it) maximising F1, chosen on validation data, never on test."""
    candidates = np.unique(np.asarray(scores, dtype=float))
    f1s = [binary_report(y_true, (scores >= c).astype(int)).f1 for c in candidates]
    return float(candidates[int(np.argmax(f1s))])


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Mean of per-class F1, so a rare class counts as much as a frequent one."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean([binary_report(y_true == c, y_pred == c).f1 for c in range(n_classes)]))
