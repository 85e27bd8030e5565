"""Wald interval and coverage simulation used by the responsible-AI course."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifnb_widgets.bias.stats import wilson_interval
from aifnb_widgets.teaching.stats import simulate_coverage, simulate_pass_rates, wald_interval


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), data=st.data())
def test_wald_interval_is_inside_unit_range_and_centred(n, data):
    k = data.draw(st.integers(0, n))
    low, high = wald_interval(k, n)
    assert 0 <= low <= k / n <= high <= 1


def test_wald_collapses_at_the_extremes():
    assert wald_interval(15, 15) == (1.0, 1.0)
    assert wald_interval(0, 15) == (0.0, 0.0)
    assert all(math.isnan(v) for v in wald_interval(0, 0))


def test_simulated_rates():
    rates = simulate_pass_rates(15, 0.8, 5000, seed=1)
    assert rates.shape == (5000,) and set(np.unique(rates * 15)) <= set(range(16))
    assert abs(rates.mean() - 0.8) < 0.01
    with pytest.raises(ValueError):
        simulate_pass_rates(0, 0.5, 10)


def test_wilson_covers_better_than_wald_for_small_n():
    wilson = simulate_coverage(wilson_interval, 15, 0.9, n_sim=4000, seed=0)
    wald = simulate_coverage(wald_interval, 15, 0.9, n_sim=4000, seed=0)
    assert wilson > 0.9 and wald < 0.85
    # large n: both close to nominal
    assert simulate_coverage(wald_interval, 1000, 0.5, n_sim=2000, seed=0) == pytest.approx(0.95, abs=0.02)
