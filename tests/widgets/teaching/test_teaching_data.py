"""Generated datasets of the courses: shapes, balance, reproducibility."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifnb_widgets.teaching.data import noisy_line, train_test_split, two_moons


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 400), seed=st.integers(0, 2**31 - 1))
def test_two_moons_shapes_and_balance(n, seed):
    X, y = two_moons(n, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and set(np.unique(y)) <= {0, 1}
    assert abs(int(y.sum()) - n / 2) <= 0.5


def test_two_moons_is_reproducible_and_separable_without_noise():
    a, ya = two_moons(200, seed=3)
    b, yb = two_moons(200, seed=3)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    X, y = two_moons(400, noise=0.0, seed=1)
    # noise-free: the upper moon stays on its unit circle, the lower on its shifted one
    r_upper = np.hypot(X[y == 0, 0], X[y == 0, 1])
    r_lower = np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5)
    assert np.allclose(r_upper, 1, atol=1e-5) and np.allclose(r_lower, 1, atol=1e-5)
    with pytest.raises(ValueError):
        two_moons(1)


def test_noisy_line_fits_back():
    x, y = noisy_line(1000, slope=2.0, intercept=-1.0, noise=0.05, seed=0)
    slope, intercept = np.polyfit(x, y, 1)
    assert abs(slope - 2.0) < 0.02 and abs(intercept + 1.0) < 0.02


def test_train_test_split():
    X, y = two_moons(100, seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_fraction=0.2, seed=0)
    assert len(Xte) == len(yte) == 20 and len(Xtr) == len(ytr) == 80
    rows = {tuple(r) for r in np.concatenate([Xtr, Xte])}
    assert rows == {tuple(r) for r in X}
    with pytest.raises(ValueError):
        train_test_split(X, y[:5])
    with pytest.raises(ValueError):
        train_test_split(X, test_fraction=1.0)
