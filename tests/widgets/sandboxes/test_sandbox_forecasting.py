"""Forecasting helpers on small hand-made series."""

import numpy as np
import pandas as pd
import pytest

from aifnb_widgets.sandboxes.forecasting import forecast_errors, lag_features, seasonal_naive
from aifnb_widgets.sandboxes.synthetic.energy import make_energy_load


def test_forecast_errors_by_hand():
    errors = forecast_errors(np.array([100.0, 200.0, 0.0]), np.array([110.0, 190.0, 3.0]))
    assert errors["mae"] == pytest.approx(23 / 3)
    assert errors["rmse"] == pytest.approx(np.sqrt((100 + 100 + 9) / 3))
    assert errors["mape"] == pytest.approx((10 + 5) / 2)  # the zero actual is skipped


def test_seasonal_naive_shifts_by_one_season():
    assert seasonal_naive(pd.Series([1, 2, 3, 4]), 2).tolist()[2:] == [1, 2]


def test_lag_features_refuse_lags_shorter_than_horizon():
    df = make_energy_load(3)
    with pytest.raises(ValueError, match="leak"):
        lag_features(df, "net_load_mw", [1, 24], horizon=24, exogenous=[])


def test_lag_features_columns_and_alignment():
    df = make_energy_load(10, seed=2)
    feats = lag_features(df, "net_load_mw", [24, 48], horizon=24, exogenous=["temperature_c"])
    assert len(feats) == len(df) - 48
    first = feats.index[0]
    assert feats.loc[first, "net_load_mw_lag24"] == df.loc[first - 24, "net_load_mw"]
    assert feats.filter(like="hour_").sum(axis=1).eq(1).all()
    assert {"dow_0", "temperature_c"} <= set(feats.columns)


def test_energy_load_has_daily_rhythm_and_solar_only_in_daylight():
    df = make_energy_load(28, seed=0)
    by_hour = df.groupby(df["timestamp"].dt.hour)
    assert by_hour["demand_mw"].mean().idxmax() in range(17, 22)
    assert by_hour["solar_mw"].max().loc[[0, 1, 2, 3, 22, 23]].eq(0).all()
    assert (df["net_load_mw"] - (df["demand_mw"] - df["solar_mw"])).abs().max() < 0.02


def test_weather_forecast_columns_carry_a_forecast_error_that_scales():
    """Issue 16: the model's weather input is a forecast, not the observed weather; the error scales to 0."""
    noisy, perfect = make_energy_load(60, seed=1), make_energy_load(60, seed=1, forecast_error=0.0)
    pd.testing.assert_series_equal(noisy["net_load_mw"], perfect["net_load_mw"])
    rms = np.sqrt(((noisy["temperature_forecast_c"] - noisy["temperature_c"]) ** 2).mean())
    assert 1.0 < rms < 2.0
    assert 0.05 < (noisy["cloud_cover_forecast"] - noisy["cloud_cover"]).abs().mean() < 0.3
    assert np.allclose(perfect["temperature_forecast_c"], perfect["temperature_c"])
    with pytest.raises(ValueError):
        make_energy_load(2, forecast_error=-1)
