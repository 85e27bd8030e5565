"""Day-ahead load forecasting helpers: the features a model may use, the baseline it must beat, the errors.

Features only use information available at forecast time: lags of at least the horizon, the calendar, and
exogenous columns that a weather forecast would provide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def lag_features(
    df: pd.DataFrame, target: str, lags: list[int], horizon: int, exogenous: list[str], time_column: str = "timestamp"
) -> pd.DataFrame:
    """Lagged target (each lag >= horizon), hour and weekday one-hots, exogenous drivers; rows with missing lags dropped."""
    short = [lag for lag in lags if lag < horizon]
    if short:
        raise ValueError(f"lags {short} are shorter than the {horizon}-step horizon: they would leak the future")
    out = pd.DataFrame(index=df.index)
    for lag in lags:
        out[f"{target}_lag{lag}"] = df[target].shift(lag)
    ts = pd.to_datetime(df[time_column])
    out = out.join(pd.get_dummies(ts.dt.hour, prefix="hour", dtype=float).set_index(df.index))
    out = out.join(pd.get_dummies(ts.dt.day_of_week, prefix="dow", dtype=float).set_index(df.index))
    for column in exogenous:
        out[column] = df[column]
    return out.dropna()


def seasonal_naive(series: pd.Series, season: int) -> pd.Series:
    """Forecast = the value one season earlier (e.g. 168 hours: same hour last week)."""
    return series.shift(season)


def forecast_errors(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    """MAE and RMSE in the target's unit, MAPE in percent (undefined at zero actuals, so those are skipped)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    err = forecast - actual
    nonzero = actual != 0
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "mape": float(100 * np.abs(err[nonzero] / actual[nonzero]).mean()),
    }
