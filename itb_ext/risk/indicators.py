"""Candle measures the risk rules need: average true range, the volatility regime and the
annualised volatility of volatility-target sizing.

All are causal (a row reads its own and earlier candles) and non-recursive (a plain rolling
window), so they do not depend on how much history was loaded before a row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from itb_ext.config.risk import RegimeConfig
from itb_ext.pipeline.naming import risk_column

ATR_COLUMN = "risk_atr"
VOL_COLUMN = "risk_realised_vol"
VOL_RANK_COLUMN = "risk_vol_rank"
HIGH_VOL_COLUMN = "risk_high_vol"
#: Realised volatility scaled to a year, read by ``volatility_target`` sizing.
ANNUALISED_VOL_COLUMN = risk_column("annualised_vol")


def true_range(candles: pd.DataFrame) -> pd.Series:
    """``max(high − low, |high − previous close|, |low − previous close|)``; the first row is
    ``high − low``."""
    prev = candles["close"].shift(1)
    ranges = pd.concat(
        [
            candles["high"] - candles["low"],
            (candles["high"] - prev).abs(),
            (candles["low"] - prev).abs(),
        ],
        axis=1,
    )
    return ranges.max(axis=1, skipna=True)


def average_true_range(candles: pd.DataFrame, window: int) -> pd.Series:
    """The simple mean of the true range over ``window`` candles (missing before it is full)."""
    return true_range(candles).rolling(window, min_periods=window).mean()


def realised_volatility(close: pd.Series, window: int) -> pd.Series:
    """Standard deviation of log returns over ``window`` candles."""
    log_returns = np.log(close.astype("float64")).diff()
    return log_returns.rolling(window, min_periods=window).std(ddof=0)


def annualised_volatility(close: pd.Series, window: int, candles_per_year: float) -> pd.Series:
    """:func:`realised_volatility` times ``sqrt(candles_per_year)``: the standard deviation a
    year of such candles would have if returns were independent.

    :param close: closes in time order.
    :param window: 1-candle log returns in each standard deviation (``window + 1`` closes).
    :param candles_per_year: candles of the timeframe in a 365-day year (8760 at 1h); NaN gives
        an all-missing result.
    """
    return realised_volatility(close, window) * math.sqrt(candles_per_year)


def volatility_rank(vol: pd.Series, history: int) -> pd.Series:
    """Percentile rank (0..1] of each volatility among the last ``history`` values, itself
    included; missing until ``history`` values exist."""
    return vol.rolling(history, min_periods=history).rank(pct=True)


def risk_indicators(
    candles: pd.DataFrame, atr_window: int, regime: RegimeConfig | None
) -> pd.DataFrame:
    """The columns the strategy's risk callbacks read, on ``candles``' index.

    :return: ``risk_atr``, and with a regime ``risk_realised_vol``, ``risk_vol_rank`` and
        ``risk_high_vol`` (True in the high-volatility regime, False where not yet known).
    """
    out = pd.DataFrame({ATR_COLUMN: average_true_range(candles, atr_window)}, index=candles.index)
    if regime is not None:
        vol = realised_volatility(candles["close"], regime.vol_window)
        rank = volatility_rank(vol, regime.history)
        out[VOL_COLUMN] = vol
        out[VOL_RANK_COLUMN] = rank
        out[HIGH_VOL_COLUMN] = (rank >= regime.high_percentile).fillna(False).astype(bool)
    return out
