"""Synthetic hourly electricity net load of a regional grid with rooftop solar, and its weather drivers.

Demand follows daily and weekly rhythms plus heating and cooling; solar output depends on daylight and cloud
cover. A model that uses the weather forecast should beat "same hour last week", and that is the point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_energy_load(n_days: int, seed: int = 0, start: str = "2025-01-06") -> pd.DataFrame:
    """Hourly rows: timestamp, temperature_c, cloud_cover (0-1), solar_mw, demand_mw and net_load_mw (the target)."""
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

    daily = 60 * np.exp(-((hour - 8) ** 2) / 6) + 90 * np.exp(-((hour - 19) ** 2) / 8) + 40 * np.sin(np.pi * np.clip(hour - 6, 0, 16) / 16)
    demand = (420 + daily) * np.where(weekend, 0.85, 1.0)
    demand += 9 * np.clip(15 - temperature, 0, None) + 7 * np.clip(temperature - 22, 0, None)
    demand += rng.normal(0, 8, len(ts))
    daylight = np.clip(np.sin(np.pi * (hour - 6) / 14), 0, None) * (0.6 + 0.4 * np.sin(2 * np.pi * (doy - 80) / 365))
    solar = 150 * daylight * (1 - 0.8 * cloud_cover)
    return pd.DataFrame(
        {
            "timestamp": ts,
            "temperature_c": temperature.round(2),
            "cloud_cover": cloud_cover.round(3),
            "solar_mw": solar.round(2),
            "demand_mw": demand.round(2),
            "net_load_mw": (demand - solar).round(2),
        }
    )
