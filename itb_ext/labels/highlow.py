"""Legacy ``highlow`` labels: future maximum high / minimum low and fixed-threshold flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from itb_ext.config.labels import (
    HIGHLOW_CALM_THRESHOLDS,
    HIGHLOW_RISE_THRESHOLDS,
    HighlowConfig,
)
from itb_ext.pipeline.frames import require_columns


def _future_extreme_pct(
    price: np.ndarray, close: np.ndarray, horizon: int, use_max: bool
) -> np.ndarray:
    """``100·(max|min(price[t+1 .. t+H]) - close[t]) / close[t]``; NaN if any of them is NaN
    or the window leaves the data."""
    n = len(close)
    out = np.full(n, np.nan)
    rows = n - horizon
    if rows <= 0:
        return out
    window = sliding_window_view(price[1:], horizon)
    # np.max/np.min propagate NaN, as ITB's rolling apply of np.max/np.min does.
    extreme = window.max(axis=1) if use_max else window.min(axis=1)
    ref = close[:rows]
    out[:rows] = 100.0 * (extreme - ref) / ref
    return out


def generate_highlow(df: pd.DataFrame, cfg: HighlowConfig) -> pd.DataFrame:
    """ITB's legacy ``highlow`` labels over the next H bars ``t+1 .. t+H``.

    With ``up = 100·(max(high[t+1..t+H]) - close[t]) / close[t]`` and
    ``down = 100·(min(low[t+1..t+H]) - close[t]) / close[t]`` (percent):

    * ``high_10 … high_30``: ``up >= 1.0 … 3.0`` (the price rises at least that much);
    * ``high_01 … high_05``: ``up <= 0.1 … 0.5`` (it stays below);
    * ``low_01 … low_05``: ``down >= -0.1 … -0.5`` (it stays above);
    * ``low_10 … low_30``: ``down <= -1.0 … -3.0`` (it falls at least that much);
    * ``high_max_H`` = ``max(up, 0)`` and ``low_min_H`` = ``-min(down, 0)`` (positive), as ITB
      returns them after clipping.

    Unknown values: the float columns are NaN where ``up``/``down`` is NaN (window past the end
    of the data, a missing price in the window, or a missing close). The boolean columns are
    <NA> where the window holds a missing price or the close is missing (ITB: False); in the
    last H rows they are False, as in ITB, because the parity comparison checks those rows —
    drop them with :meth:`HighlowConfig.horizon` before training.

    :param df: frame with ``close``, ``high``, ``low``; any index (rows are used by position).
    :param cfg: the generator configuration.
    :return: 22 columns named as :meth:`HighlowConfig.output_columns` (floats ``float64``,
        flags nullable ``boolean``).
    """
    require_columns(df, cfg.input_columns(), "highlow")
    close = df["close"].to_numpy(dtype="float64", na_value=np.nan)
    high = df["high"].to_numpy(dtype="float64", na_value=np.nan)
    low = df["low"].to_numpy(dtype="float64", na_value=np.nan)
    horizon = cfg.horizon()
    up = _future_extreme_pct(high, close, horizon, use_max=True)
    down = _future_extreme_pct(low, close, horizon, use_max=False)
    tail = np.arange(len(close)) >= len(close) - horizon

    def flag(values: np.ndarray, passes: np.ndarray) -> pd.arrays.BooleanArray:
        unknown = np.isnan(values) & ~tail
        return pd.arrays.BooleanArray(passes & ~np.isnan(values), unknown)

    names = iter(cfg.output_columns())
    out: dict[str, np.ndarray | pd.arrays.BooleanArray] = {}
    with np.errstate(invalid="ignore"):
        out[next(names)] = np.maximum(up, 0.0)
        for threshold in HIGHLOW_RISE_THRESHOLDS:
            out[next(names)] = flag(up, up >= threshold)
        for threshold in HIGHLOW_CALM_THRESHOLDS:
            out[next(names)] = flag(up, up <= threshold)
        out[next(names)] = -np.minimum(down, 0.0)
        for threshold in HIGHLOW_CALM_THRESHOLDS:
            out[next(names)] = flag(down, down >= -threshold)
        for threshold in HIGHLOW_RISE_THRESHOLDS:
            out[next(names)] = flag(down, down <= -threshold)
    return pd.DataFrame(out, index=df.index)
