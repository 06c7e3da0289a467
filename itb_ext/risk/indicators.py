"""Candle measures the risk rules need: average true range and the volatility regime.

All are causal (a row reads its own and earlier candles) and non-recursive (a plain rolling
window), so they do not depend on how much history was loaded before a row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.config.risk import RegimeConfig

ATR_COLUMN = "risk_atr"
VOL_COLUMN = "risk_realised_vol"
VOL_RANK_COLUMN = "risk_vol_rank"
HIGH_VOL_COLUMN = "risk_high_vol"


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
