"""Regime gates: yes/no columns that let a threshold rule trade only in a favourable regime.

``trend_gate`` keeps a long-only strategy out of falling markets: it is open while the last
completed higher-timeframe close (e.g. the daily close) is above the mean of the last N such
closes. A threshold rule with ``gate`` set buys only while the gate is open and sells wherever it
is closed (:mod:`itb_ext.signals.rules`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.config.signals import TrendGateConfig, timeframe_minutes
from itb_ext.config.stationary import EWM_SPANS_KEPT
from itb_ext.errors import ConfigError, DataError
from itb_ext.features.rolling import BoolArray, FloatArray, column_values
from itb_ext.pipeline.frames import open_times, require_columns

IntArray = npt.NDArray[np.int64]

_MINUTE_NS = 60 * 1_000_000_000
_YEAR_MINUTES = 365 * 24 * 60  # crypto markets trade every day of the year
# Weekly bars open on Monday 00:00 UTC, as exchanges' 1w candles; 1970-01-01 was a Thursday.
_FIRST_MONDAY_NS = 4 * 24 * 60 * _MINUTE_NS


def _open_times_ns(df: pd.DataFrame, column: str) -> IntArray:
    """Candle open times as nanoseconds since the epoch (UTC; naive datetimes are taken as UTC).

    :raises DataError: no times in the column, missing times, or times that do not increase.
    """
    times = open_times(df, column, "trend_gate")
    if times.hasnans:
        raise DataError(f"trend_gate: column '{column}' has missing times")
    ns = np.asarray(times.as_unit("ns").asi8, dtype=np.int64)
    if ns.size > 1 and (np.diff(ns) <= 0).any():
        raise DataError(f"trend_gate: the times in '{column}' must increase from row to row")
    return ns


def _describe(ns: int) -> str:
    """A span of nanoseconds as a FreqTrade-style timeframe (``90m`` stays ``90m``)."""
    minutes, rest = divmod(ns, _MINUTE_NS)
    if rest:
        return f"{ns / 1e9:g}s"
    for unit, size in (("w", 10080), ("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _check_candles(offsets: IntArray, bar_ns: int, cfg: TrendGateConfig) -> None:
    """The candles' timeframe (the shortest spacing between two candles) must divide the bars.

    :raises ConfigError: the higher timeframe is not a whole multiple of the candles', or differs
        from ``candle_timeframe``.
    :raises DataError: candles that do not open on whole multiples of their timeframe.
    """
    if offsets.size < 2:
        return
    spacing = int(np.diff(offsets).min())
    candles = _describe(spacing)
    if cfg.candle_timeframe is not None and spacing != cfg.candle_minutes() * _MINUTE_NS:
        given = cfg.candle_timeframe
        raise ConfigError(f"trend_gate: candle_timeframe is '{given}', the candles are {candles}")
    if bar_ns % spacing:
        raise ConfigError(
            f"trend_gate: timeframe '{cfg.timeframe}' is not a whole multiple of the candles' "
            f"timeframe {candles}"
        )
    if (offsets % spacing).any():
        raise DataError(f"trend_gate: the {candles} candles do not open on whole {candles} (UTC)")


def _candle_steps(offsets: IntArray, bar_ns: int) -> IntArray:
    """Per row, the longest candle length consistent with the rows up to it.

    The greatest common divisor of the bar length, the first candle's place in its bar and every
    spacing seen so far: the true candle length divides all of them. It uses no later row, so a
    row's value never depends on candles that arrive after it; after one pair of neighbouring
    candles it is the true length.
    """
    first = np.array([bar_ns, offsets[0] % bar_ns], dtype=np.int64)
    return np.asarray(np.gcd.accumulate(np.concatenate((first, np.diff(offsets))))[1:])


def _windows(closes: FloatArray, ends: IntArray, latest: FloatArray, size: int) -> FloatArray:
    """One row per query: ``latest``, then the completed closes before bar ``ends``, newest
    first; NaN where the history holds fewer than ``size`` closes."""
    out = np.full((ends.size, size), np.nan)
    out[:, 0] = latest
    for lag in range(1, size):
        index = ends - lag
        known = index >= 0
        out[known, lag] = closes[index[known]]
    return out


def _gate_of_windows(windows: FloatArray, cfg: TrendGateConfig) -> BoolArray:
    """The gate for each row of ``windows`` (completed closes, newest first).

    Sums run column by column in a fixed order, so a window's result depends on its own values
    only (the same bits on any prefix of the data). Any NaN closes the gate.
    """
    n = cfg.window
    last = windows[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        if cfg.comparison == "above_mean":
            total = windows[:, 0].copy()
            for lag in range(1, n):
                total += windows[:, lag]
            level = total / n
        else:
            keep = 1.0 - 2.0 / (n + 1.0)
            total = windows[:, 0].copy()
            weights = 1.0
            for lag in range(1, EWM_SPANS_KEPT * n):
                weight = keep**lag
                total += weight * windows[:, lag]
                weights += weight
            level = total / weights
        gate = np.asarray(last > level)
        if cfg.max_volatility is not None:
            logs = np.log(windows[:, : n + 1])
            returns = logs[:, :-1] - logs[:, 1:]
            mean = returns[:, 0].copy()
            for lag in range(1, n):
                mean += returns[:, lag]
            mean /= n
            squares = np.zeros(len(windows))
            for lag in range(n):
                squares += (returns[:, lag] - mean) ** 2
            per_year = _YEAR_MINUTES / cfg.bar_minutes
            volatility = np.sqrt(squares / n * per_year)
            gate &= volatility <= cfg.max_volatility
    return gate


def generate_trend_gate(df: pd.DataFrame, cfg: TrendGateConfig) -> pd.DataFrame:
    """``trend_gate``: True while the higher timeframe trends up, else False (never missing).

    Higher-timeframe bars follow UTC calendar boundaries, counted from 1970-01-01 00:00 UTC
    (daily bars start at 00:00 UTC, 4h bars at 00:00, 04:00, ...; weekly bars on Monday 00:00).
    A bar's close is the last close of a candle inside it, so missing candles (exchange gaps)
    do not matter; bars without any candle are skipped, as they are on an exchange's own chart.

    ``above_mean``: open when ``C_0 > (C_0 + ... + C_{N-1}) / N``, with ``C_0`` the last
    completed close and ``C_j`` the one ``j`` completed bars earlier. ``above_ema``: open when
    ``C_0 > sum(w_j C_j) / sum(w_j)`` with ``w_j = (1 - 2 / (N + 1)) ** j`` over ``j < 4 N``.
    ``max_volatility`` V: also closed unless ``std(r) * sqrt(365 days / timeframe) <= V``, the
    population standard deviation of the N log returns ``r_j = ln C_j - ln C_{j+1}``. Until
    enough bars are complete the gate is closed.

    Causality: FreqTrade dates are candle *open* times. The candle that opens at ``t`` closes at
    ``t + candle timeframe``, and the strategy acts at that close, so the gate of that row uses
    the higher-timeframe bars that ended at or before ``t + candle timeframe`` and never a bar
    that is still forming: on 1h candles and daily bars, the 23:00 candle (closing at 00:00)
    sees that day's close, the 22:00 candle sees only the day before. Each value depends on its
    own row and earlier rows only (the candle timeframe too is judged from them), so computing on
    any prefix of the candles gives the same values, bit for bit.

    :param df: candles with ``cfg.column`` and ``cfg.time_column``, in time order.
    :param cfg: the gate configuration.
    :return: one boolean column ``cfg.names``.
    :raises ConfigError: the timeframe is not a whole multiple of the candles' timeframe.
    :raises DataError: missing columns, missing or unordered times.
    """
    require_columns(df, (cfg.column, cfg.time_column), "trend_gate")
    close = column_values(df, cfg.column, "trend_gate")
    gate = np.zeros(len(df), dtype=bool)
    if len(df) == 0:
        return pd.DataFrame({cfg.names: gate}, index=df.index)
    bar_ns = timeframe_minutes(cfg.timeframe) * _MINUTE_NS
    origin = _FIRST_MONDAY_NS if cfg.timeframe.endswith("w") else 0
    offsets = _open_times_ns(df, cfg.time_column) - origin
    _check_candles(offsets, bar_ns, cfg)

    bar_id = offsets // bar_ns
    # k: position of the row's bar among the bars that hold candles
    starts_bar = np.concatenate(([True], bar_id[1:] != bar_id[:-1]))
    k = np.cumsum(starts_bar) - 1
    last_of_bar = np.concatenate((starts_bar[1:], [True]))
    bar_close = close[last_of_bar]
    # the row's own bar has ended when the row closes: it is the bar's last candle
    completes = offsets + _candle_steps(offsets, bar_ns) >= (bar_id + 1) * bar_ns

    size = cfg.bars_needed()
    # rows inside a bar: the bars before theirs, as of the close of the previous bar
    bars = np.arange(bar_close.size, dtype=np.int64)
    of_bar = _gate_of_windows(_windows(bar_close, bars, bar_close, size), cfg)
    inside = ~completes & (k >= 1)
    gate[inside] = of_bar[k[inside] - 1]
    # rows that end their bar: that bar's close is the row's own close
    ending = np.flatnonzero(completes)
    if ending.size:
        windows = _windows(bar_close, k[ending], close[ending], size)
        gate[ending] = _gate_of_windows(windows, cfg)
    return pd.DataFrame({cfg.names: gate}, index=df.index)


#: Colour of a gate in the chart: keeps FreqUI's 3:1 contrast on its dark and light themes.
GATE_COLOUR = "#238c8c"


def gate_plot(name: str) -> dict[str, dict[str, dict[str, Any]]]:
    """FreqTrade ``plot_config`` subplots drawing the gate column ``name`` as 0/1 bars.

    :param name: the gate column in the strategy's dataframe (e.g. ``trend_gate``).
    :return: ``{"gate <name>": {name: {"color": ..., "type": "bar"}}}``, to merge into
        ``plot_config["subplots"]``.
    """
    return {f"gate {name}": {name: {"color": GATE_COLOUR, "type": "bar"}}}
