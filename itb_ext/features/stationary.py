"""Stationary feature generators (extensions of ITB): returns, distances, volatility, range
position, volume z-score, cyclic time, and returns and distances in units of volatility.

Every value at row ``t`` is a function of rows ``t - w .. t`` only, computed from its own window
(no running sums carried from the first row), so it neither reads the future nor depends on how
much history was loaded before it. Rows without a full window are missing. The configurations
are in :mod:`itb_ext.config.stationary`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.config.stationary import (
    EWM_SPANS_KEPT,
    AverageTrueRangeConfig,
    CyclicTimeConfig,
    LogReturnConfig,
    MovingAverageDistanceConfig,
    RangePositionConfig,
    RealizedVolatilityConfig,
    VolumeZScoreConfig,
    ZMaxDistanceConfig,
    ZMovingAverageDistanceConfig,
    ZReturnConfig,
)
from itb_ext.features.rolling import FloatArray, column_values
from itb_ext.features.talib import window_statistic
from itb_ext.pipeline.frames import open_times, require_columns


def _lagged(values: FloatArray, k: int) -> FloatArray:
    """``values`` shifted ``k`` rows later (the first ``k`` rows missing)."""
    out = np.full(len(values), np.nan)
    if k < len(values):
        out[k:] = values[: len(values) - k]
    return out


def _log(values: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(values), dtype=np.float64)


def _one_row_log_returns(values: FloatArray) -> FloatArray:
    return _log(values) - _lagged(_log(values), 1)


def _window_extreme(values: FloatArray, window: int, highest: bool) -> FloatArray:
    out = np.full(len(values), np.nan)
    if window > len(values):
        return out
    view = np.lib.stride_tricks.sliding_window_view(values, window)
    out[window - 1 :] = view.max(axis=1) if highest else view.min(axis=1)
    return out


def _frame(df: pd.DataFrame, columns: dict[str, FloatArray]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=df.index, dtype=np.float64)


def generate_log_return(df: pd.DataFrame, cfg: LogReturnConfig) -> pd.DataFrame:
    """``<column>_log_return_<k>`` = ``ln(x_t / x_{t-k})``."""
    logs = _log(column_values(df, cfg.columns, "log_return"))
    names = cfg.output_columns()
    return _frame(
        df, {name: logs - _lagged(logs, k) for name, k in zip(names, cfg.windows, strict=True)}
    )


def generate_ma_distance(df: pd.DataFrame, cfg: MovingAverageDistanceConfig) -> pd.DataFrame:
    """``<column>_ma_distance_<w>``: distance of the value to its ``w``-row simple mean."""
    values = column_values(df, cfg.columns, "ma_distance")
    returns = _one_row_log_returns(values) if cfg.unit == "volatility" else values
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, w in zip(cfg.output_columns(), cfg.windows, strict=True):
            mean = window_statistic("SMA", values, w)
            if cfg.unit == "percent":
                out[name] = 100.0 * (values / mean - 1.0)
            else:
                # the w returns ending at t span the same w candles as the mean
                spread = window_statistic("STDDEV", returns, w)
                out[name] = _log(values / mean) / spread
    return _frame(df, out)


def generate_atr(df: pd.DataFrame, cfg: AverageTrueRangeConfig) -> pd.DataFrame:
    """``natr_<w>`` (percent of the close) or ``atr_<w>``: mean true range over ``w`` rows.

    The first row has no previous close, so its true range is missing.
    """
    high, low, close = (column_values(df, c, "atr") for c in cfg.columns)
    previous = _lagged(close, 1)
    true_range = np.fmax(high, previous) - np.fmin(low, previous)
    true_range[np.isnan(previous)] = np.nan
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, w in zip(cfg.output_columns(), cfg.windows, strict=True):
            atr = window_statistic("SMA", true_range, w)
            out[name] = 100.0 * atr / close if cfg.normalized else atr
    return _frame(df, out)


def generate_realized_volatility(df: pd.DataFrame, cfg: RealizedVolatilityConfig) -> pd.DataFrame:
    """``<column>_realized_vol_<w>`` (percent per row) and ``<column>_vol_ratio_<s>_<l>``.

    The standard deviation is the population one (divisor ``w``) of the ``w`` one-row log
    returns ending at the row.
    """
    returns = _one_row_log_returns(column_values(df, cfg.columns, "realized_volatility"))
    cache: dict[int, FloatArray] = {}

    def vol(w: int) -> FloatArray:
        if w not in cache:
            cache[w] = 100.0 * window_statistic("STDDEV", returns, w)
        return cache[w]

    out = {f"{cfg.columns}_realized_vol_{w}": vol(w) for w in cfg.windows}
    with np.errstate(divide="ignore", invalid="ignore"):
        for short, long in cfg.ratios:
            out[f"{cfg.columns}_vol_ratio_{short}_{long}"] = vol(short) / vol(long)
    return _frame(df, out)


def generate_range_position(df: pd.DataFrame, cfg: RangePositionConfig) -> pd.DataFrame:
    """``range_position_<w>``: 0 at the lowest low of the last ``w`` rows, 1 at the highest high."""
    high, low, close = (column_values(df, c, "range_position") for c in cfg.columns)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, w in zip(cfg.output_columns(), cfg.windows, strict=True):
            top = _window_extreme(high, w, highest=True)
            bottom = _window_extreme(low, w, highest=False)
            span = top - bottom
            position = (close - bottom) / span
            out[name] = np.where(span == 0.0, 0.5, position)
    return _frame(df, out)


def generate_volume_zscore(df: pd.DataFrame, cfg: VolumeZScoreConfig) -> pd.DataFrame:
    """``<column>_zscore_<w>``: z-score of the current volume within the last ``w`` rows."""
    values = column_values(df, cfg.columns, "volume_zscore")
    if cfg.log:
        with np.errstate(invalid="ignore"):
            values = np.log1p(values)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, w in zip(cfg.output_columns(), cfg.windows, strict=True):
            mean = window_statistic("SMA", values, w)
            spread = window_statistic("STDDEV", values, w)
            z = (values - mean) / spread
            # a constant window (e.g. no trades at all) is "usual volume", not undefined
            out[name] = np.where((spread == 0.0) & np.isfinite(mean), 0.0, z)
    return _frame(df, out)


_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES


def generate_cyclic_time(df: pd.DataFrame, cfg: CyclicTimeConfig) -> pd.DataFrame:
    """``hour_of_day_sin/cos`` and ``day_of_week_sin/cos`` of each candle's (UTC) open time."""
    require_columns(df, (cfg.columns,), "cyclic_time")
    times = open_times(df, cfg.columns, "cyclic_time")
    minute_of_day = (times.hour * 60 + times.minute).to_numpy(dtype=np.float64)
    minute_of_week = times.day_of_week.to_numpy(dtype=np.float64) * _DAY_MINUTES + minute_of_day
    out = {}
    for period in cfg.periods:
        if period == "hour_of_day":
            angle = 2.0 * np.pi * minute_of_day / _DAY_MINUTES
        else:
            angle = 2.0 * np.pi * minute_of_week / _WEEK_MINUTES
        out[f"{period}_sin"] = np.sin(angle)
        out[f"{period}_cos"] = np.cos(angle)
    return _frame(df, out)


def ewm_volatility(returns: FloatArray, span: int) -> FloatArray:
    """``sigma``: exponentially weighted standard deviation of each row's last returns.

    Over the ``EWM_SPANS_KEPT * span`` values ending at the row, with weight ``(1 - a) ** j`` on
    the value ``j`` rows back (``a = 2 / (span + 1)``), bias-corrected: the value pandas'
    ``ewm(span=span).std()`` gives at the last of those values. The window is finite and each
    row is summed from its own values in a fixed order, so a row's value does not depend on
    where the series starts. Rows with fewer values, or with a missing one, are NaN.

    :param returns: the series (one-candle log returns).
    :param span: the span of the weights (>= 2).
    """
    length = EWM_SPANS_KEPT * span
    n = len(returns)
    out = np.full(n, np.nan)
    if n < length:
        return out
    weights = (1.0 - 2.0 / (span + 1.0)) ** np.arange(length, dtype=np.float64)
    total = float(weights.sum())
    # unbiased weighted variance (pandas' bias=False): V1^2 / (V1^2 - V2)
    correction = total**2 / (total**2 - float((weights**2).sum()))

    def back(j: int) -> FloatArray:
        """The value ``j`` rows before each row that has a full window."""
        return returns[length - 1 - j : n - j]

    mean = weights[0] * back(0)
    for j in range(1, length):
        mean += weights[j] * back(j)
    mean /= total
    squares = weights[0] * (back(0) - mean) ** 2
    for j in range(1, length):
        squares += weights[j] * (back(j) - mean) ** 2
    out[length - 1 :] = np.sqrt(squares / total * correction)
    return out


def _in_sigma_units(
    moves: dict[str, FloatArray], sigma: FloatArray, windows: tuple[int, ...]
) -> dict[str, FloatArray]:
    """Each move over ``w`` candles divided by ``sigma * sqrt(w)``; NaN where ``sigma`` is 0."""
    scale = np.where(sigma > 0.0, sigma, np.nan)
    with np.errstate(invalid="ignore"):
        return {
            name: move / (scale * np.sqrt(w))
            for (name, move), w in zip(moves.items(), windows, strict=True)
        }


def generate_z_return(df: pd.DataFrame, cfg: ZReturnConfig) -> pd.DataFrame:
    """``<column>_z_return_<k>`` = ``(ln x_t - ln x_{t-k}) / (sigma_t sqrt(k))``.

    Keys (:class:`~itb_ext.config.stationary.ZReturnConfig`): ``columns``, ``windows`` (k),
    ``volatility_span``. ``sigma_t`` is :func:`ewm_volatility` of the one-candle log returns.
    Causal: row ``t`` reads rows ``t - max(k, 4 * volatility_span) .. t`` only (``lookback``).
    """
    logs = _log(column_values(df, cfg.columns, "z_return"))
    sigma = ewm_volatility(logs - _lagged(logs, 1), cfg.volatility_span)
    names = cfg.output_columns()
    moves = {name: logs - _lagged(logs, k) for name, k in zip(names, cfg.windows, strict=True)}
    return _frame(df, _in_sigma_units(moves, sigma, cfg.windows))


def generate_z_ma_distance(df: pd.DataFrame, cfg: ZMovingAverageDistanceConfig) -> pd.DataFrame:
    """``<column>_z_ma_distance_<w>`` = ``(ln x_t - ln SMA_w(x)_t) / (sigma_t sqrt(w))``.

    Keys (:class:`~itb_ext.config.stationary.ZMovingAverageDistanceConfig`): ``columns``,
    ``windows`` (w >= 2), ``volatility_span``. The mean covers rows ``t - w + 1 .. t``.
    Causal: row ``t`` reads rows ``t - max(w - 1, 4 * volatility_span) .. t`` only.
    """
    values = column_values(df, cfg.columns, "z_ma_distance")
    logs = _log(values)
    sigma = ewm_volatility(logs - _lagged(logs, 1), cfg.volatility_span)
    moves = {
        name: logs - _log(window_statistic("SMA", values, w))
        for name, w in zip(cfg.output_columns(), cfg.windows, strict=True)
    }
    return _frame(df, _in_sigma_units(moves, sigma, cfg.windows))


def generate_z_max_distance(df: pd.DataFrame, cfg: ZMaxDistanceConfig) -> pd.DataFrame:
    """``z_max_distance_<w>`` = ``(ln close_t - ln max(high, w candles)) / (sigma_t sqrt(w))``.

    Keys (:class:`~itb_ext.config.stationary.ZMaxDistanceConfig`): ``columns`` (high, close),
    ``windows`` (w), ``volatility_span``. The highest high covers rows ``t - w + 1 .. t``, the
    current candle included (its high is known at its close). Causal: row ``t`` reads rows
    ``t - max(w - 1, 4 * volatility_span) .. t`` only.
    """
    high, close = (column_values(df, c, "z_max_distance") for c in cfg.columns)
    logs = _log(close)
    sigma = ewm_volatility(logs - _lagged(logs, 1), cfg.volatility_span)
    moves = {
        name: logs - _log(_window_extreme(high, w, highest=True))
        for name, w in zip(cfg.output_columns(), cfg.windows, strict=True)
    }
    return _frame(df, _in_sigma_units(moves, sigma, cfg.windows))
