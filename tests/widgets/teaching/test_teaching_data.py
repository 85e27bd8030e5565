"""Generated datasets of the courses: shapes, balance, reproducibility."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifnb_widgets.teaching.data import noisy_line, train_test_split, two_circles, two_moons


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


def test_two_circles_defeat_a_linear_model_but_not_a_radius():
    """The course-2 task: the best linear rule stays near chance, one nonlinear feature (the radius) solves it."""
    X, y = two_circles(2000, noise=0.1, seed=3)
    assert X.shape == (2000, 2) and X.dtype == np.float32 and int(y.sum()) == 1000
    design = np.c_[X, np.ones(len(X))]
    w, *_ = np.linalg.lstsq(design, 2.0 * y - 1, rcond=None)
    linear_acc = float(((design @ w > 0) == y).mean())
    radius_acc = float(((np.hypot(X[:, 0], X[:, 1]) < 0.75) == y).mean())
    assert linear_acc < 0.65 and radius_acc > 0.95, (linear_acc, radius_acc)
    with pytest.raises(ValueError):
        two_circles(10, factor=1.5)
