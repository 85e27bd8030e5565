"""The sector generators are seeded and carry the signal each sandbox relies on."""

import numpy as np
import pandas as pd
import pytest

from aifnb_widgets.sandboxes.synthetic.credit import FEATURES as CREDIT_FEATURES
from aifnb_widgets.sandboxes.synthetic.credit import PROTECTED, TARGET, UNBIASED_TARGET, make_credit_applicants
from aifnb_widgets.sandboxes.synthetic.network import ATTACK_TYPES, FEATURES, log_scale_counts, make_network_flows
from aifnb_widgets.sandboxes.synthetic.satellite import CLASSES, make_satellite_patches


def test_credit_is_seeded_and_biased_against_group_b():
    a, b = make_credit_applicants(3000, seed=3), make_credit_applicants(3000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert set(a.columns) == {*CREDIT_FEATURES, PROTECTED, TARGET, UNBIASED_TARGET}
    means = a.groupby(PROTECTED)[["income_k", TARGET]].mean()
    assert means.loc["B", "income_k"] < means.loc["A", "income_k"]
    assert means.loc["B", TARGET] < means.loc["A", TARGET]
    flipped = a[UNBIASED_TARGET] - a[TARGET]
    assert flipped.min() == 0 and flipped[a[PROTECTED] == "A"].sum() == 0, "label bias only removes B's repayments"
    assert 0.1 < flipped[a[PROTECTED] == "B"].sum() / a.loc[a[PROTECTED] == "B", UNBIASED_TARGET].sum() < 0.2


def test_network_flows_are_seeded_and_attacks_differ_from_normal():
    flows = make_network_flows(4000, attack_share=0.1, seed=1)
    pd.testing.assert_frame_equal(flows, make_network_flows(4000, attack_share=0.1, seed=1))
    assert set(flows["attack_type"]) == {"normal", *ATTACK_TYPES}
    assert flows["is_attack"].eq(flows["attack_type"].ne("normal")).all()
    medians = flows.groupby("attack_type").median(numeric_only=True)
    assert medians.loc["port_scan", "distinct_dst_ports"] > 10 * medians.loc["normal", "distinct_dst_ports"]
    assert medians.loc["brute_force", "failed_logins"] > medians.loc["normal", "failed_logins"]
    assert list(log_scale_counts(flows).columns) == FEATURES


def test_satellite_patches_are_balanced_bounded_and_seeded():
    images, labels = make_satellite_patches(40, size=12, seed=5)
    assert images.shape == (40, 3, 12, 12) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert np.bincount(labels).tolist() == [10] * len(CLASSES)
    again, _ = make_satellite_patches(40, size=12, seed=5)
    assert np.array_equal(images, again)


def test_log_scaling_applies_to_user_columns_and_refuses_negatives():
    """A user's CSV with its own column names gets the same log1p on its heavy-tailed columns."""
    user = pd.DataFrame({"octets": [0.0, 9.0, 99.0], "ratio": [-1.0, 0.0, 1.0]})
    scaled = log_scale_counts(user, columns=["octets", "ratio"], heavy=["octets"])
    assert np.allclose(scaled["octets"], np.log1p([0, 9, 99])) and list(scaled["ratio"]) == [-1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="negative"):
        log_scale_counts(user, columns=["octets", "ratio"], heavy=["ratio"])
