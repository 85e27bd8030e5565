"""Synthetic hourly electricity net load of a regional grid with rooftop solar, and its weather drivers.

Demand follows daily and weekly rhythms plus heating and cooling; solar output depends on daylight and cloud
cover. A model that uses the weather forecast should beat "same hour last week", and that is the point.

The observed weather is only known afterwards. What a day-ahead model can use is a *forecast* of it, so the
generator also issues one: the observed values plus a forecast error (persistent, like real forecast busts), scaled
by ``forecast_error`` (0 = a perfect forecast, which no operator has).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_energy_load(n_days: int, seed: int = 0, start: str = "2025-01-06", forecast_error: float = 1.0) -> pd.DataFrame:
    """Hourly rows: timestamp, observed temperature_c and cloud_cover (0-1), their day-ahead forecasts
    temperature_forecast_c and cloud_cover_forecast, solar_mw, demand_mw and net_load_mw (the target).

    At ``forecast_error=1`` the temperature forecast misses by about 1.5 degC (RMS) and the cloud forecast by
    about 0.15 in cover, typical of day-ahead numerical weather prediction."""
    if forecast_error < 0:
        raise ValueError("forecast_error must be >= 0")
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=24 * n_days, freq="h")
    hour = ts.hour.to_numpy()
    doy = ts.day_of_year.to_numpy()
    weekend = ts.day_of_week.to_numpy() >= 5

    weather = np.zeros(len(ts))
    clouds = np.zeros(len(ts))
    for i in range(1, len(ts)):  # persistent weather systems: AR(1) anomalies
        weather[i] = 0.97 * weather[i - 1] + rng.normal(0, 0.6)
        clouds[i] = 0.95 * clouds[i - 1] + rng.normal(0, 0.25)
    temperature = 10 - 9 * np.cos(2 * np.pi * (doy - 15) / 365) + 4 * np.sin(2 * np.pi * (hour - 9) / 24) + weather
    cloud_cover = 1 / (1 + np.exp(-clouds))

    daily = (
        60 * np.exp(-((hour - 8) ** 2) / 6)
        + 90 * np.exp(-((hour - 19) ** 2) / 8)
        + 40 * np.sin(np.pi * np.clip(hour - 6, 0, 16) / 16)
    )
    demand = (420 + daily) * np.where(weekend, 0.85, 1.0)
    demand += 9 * np.clip(15 - temperature, 0, None) + 7 * np.clip(temperature - 22, 0, None)
    demand += rng.normal(0, 8, len(ts))
    daylight = np.clip(np.sin(np.pi * (hour - 6) / 14), 0, None) * (0.6 + 0.4 * np.sin(2 * np.pi * (doy - 80) / 365))
    solar = 150 * daylight * (1 - 0.8 * cloud_cover)

    # Day-ahead forecast errors: AR(1) in time (a forecast that is wrong at 14:00 is wrong at 15:00 too), drawn from
    # a separate generator so the observed series do not depend on forecast_error.
    err_rng = np.random.default_rng([seed, 1])
    temp_err = np.zeros(len(ts))
    cloud_err = np.zeros(len(ts))
    for i in range(1, len(ts)):
        temp_err[i] = 0.9 * temp_err[i - 1] + err_rng.normal(0, 1.5 * np.sqrt(1 - 0.9**2))
        cloud_err[i] = 0.9 * cloud_err[i - 1] + err_rng.normal(0, 0.9 * np.sqrt(1 - 0.9**2))
    temperature_forecast = temperature + forecast_error * temp_err
    cloud_cover_forecast = 1 / (1 + np.exp(-(clouds + forecast_error * cloud_err)))
    return pd.DataFrame(
        {
            "timestamp": ts,
            "temperature_c": temperature.round(2),
            "cloud_cover": cloud_cover.round(3),
            "temperature_forecast_c": temperature_forecast.round(2),
            "cloud_cover_forecast": cloud_cover_forecast.round(3),
            "solar_mw": solar.round(2),
            "demand_mw": demand.round(2),
            "net_load_mw": (demand - solar).round(2),
        }
    )
