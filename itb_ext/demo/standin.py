"""A rule-based stand-in for model scores, for demos and benchmarks that must not train models.

``trend_up = 1 / (1 + exp(-z))`` with ``z = w * slope_w / stddev_w`` (the least-squares slope of
the last ``w`` closes, scaled by their standard deviation, clipped to [-30, 30]);
``trend_down = 1 - trend_up``. It reads only current and past closes. It is not a forecast and
carries no claim of edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def trend_probabilities(close: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Up and down pseudo-probabilities from the normalised trend of the last ``window`` closes.

    :param close: closing prices.
    :param window: rows in the regression window (>= 2).
    :return: ``(up, down)``, NaN during the first ``window - 1`` rows.
    """
    import talib

    close = np.asarray(close, dtype="float64")
    slope = talib.LINEARREG_SLOPE(close, timeperiod=window)
    std = talib.STDDEV(close, timeperiod=window)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, window * slope / std, 0.0)
    z = np.where(np.isnan(slope) | np.isnan(std), np.nan, np.clip(z, -30.0, 30.0))
    up = 1.0 / (1.0 + np.exp(-z))
    return up, 1.0 - up


def trend_scores(
    df: pd.DataFrame, gen_config: dict[str, Any], config: dict[str, Any], model_store: Any
) -> tuple[pd.DataFrame, list[str]]:
    """ITB custom-generator form of :func:`trend_probabilities`.

    ``gen_config``: ``column`` (default ``close``), ``window`` (default 24), ``names``
    (default ``["trend_up", "trend_down"]``).
    """
    window = int(gen_config.get("window", 24))
    names = list(gen_config.get("names", ["trend_up", "trend_down"]))
    up, down = trend_probabilities(df[gen_config.get("column", "close")].to_numpy(), window)
    out = pd.DataFrame({names[0]: up, names[1]: down}, index=df.index)
    return out, names
