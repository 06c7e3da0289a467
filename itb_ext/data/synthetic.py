"""Shorter candles drawn from longer ones: a seeded Brownian bridge through each candle.

The embedded data has 30m candles at best, while ITB trades 1m and FreqTrade users mostly 5m.
For benchmarks and tests at those timeframes, each candle is split into ``parts`` shorter bars
along a random path that starts at its open, ends at its close and touches its high and low:
the bars aggregate back to the original candle exactly (first open, highest high, lowest low,
last close, summed volume). They are *synthetic*: the path inside a candle is invented, so no
trading result on them says anything about a real market.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.errors import DataError

#: Points of the random path inside each short bar (its open is the previous bar's close).
STEPS_PER_BAR = 4


def brownian_bridge_bars(candles: pd.DataFrame, parts: int, seed: int) -> pd.DataFrame:
    """Split every candle into ``parts`` bars along a seeded Brownian bridge.

    :param candles: ``date`` (regular, e.g. 30m; gaps allowed), ``open``, ``high``, ``low``,
        ``close``, ``volume``.
    :param parts: bars per candle (6 turns 30m into 5m, 30 into 1m).
    :param seed: random seed (same candles and seed give the same bars).
    :return: the bars, same columns, ``parts`` rows per candle, dated from each candle's open.
    :raises DataError: fewer than two candles, or a candle whose high/low do not contain its
        open and close.
    """
    if parts < 1:
        raise DataError(f"parts must be at least 1 (got {parts})")
    if len(candles) < 2:
        raise DataError("need at least two candles to know their length")
    dates = pd.DatetimeIndex(candles["date"])
    length = pd.Series(dates).diff().min()
    o, h, low, c, v = (
        candles[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close", "volume")
    )
    bad = (h < np.maximum(o, c)) | (low > np.minimum(o, c))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"candle {dates[row]}: high/low do not contain open and close")
    n, steps = len(candles), parts * STEPS_PER_BAR
    rng = np.random.default_rng(seed)

    # A Brownian bridge from 0 to 0 over `steps` steps, one row per candle.
    walk = np.concatenate([np.zeros((n, 1)), rng.standard_normal((n, steps)).cumsum(axis=1)], 1)
    t = np.linspace(0.0, 1.0, steps + 1)
    bridge = walk - t * walk[:, -1:]
    spread = np.maximum(h - low, 0.0)[:, None]
    path = o[:, None] + (c - o)[:, None] * t + bridge * spread / np.sqrt(steps)

    # Stretch the excursions below min(open, close) and above max(open, close) so that the
    # path's extremes land on the candle's low and high; the middle band is kept as drawn.
    lo, hi = np.minimum(o, c)[:, None], np.maximum(o, c)[:, None]
    deepest, highest = path.min(axis=1, keepdims=True), path.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        down = np.where(deepest < lo, (lo - low[:, None]) / (lo - deepest), 0.0)
        up = np.where(highest > hi, (h[:, None] - hi) / (highest - hi), 0.0)
    path = np.where(path < lo, lo - (lo - path) * down, path)
    path = np.where(path > hi, hi + (path - hi) * up, path)
    # The extremes exactly, on interior points (a path may not have left [lo, hi] at all).
    inner = path[:, 1:-1]
    at_low = inner.argmin(axis=1)
    at_high = inner.argmax(axis=1)
    at_high = np.where(at_high == at_low, (at_low + 1) % inner.shape[1], at_high)
    rows = np.arange(n)
    inner[rows, at_low] = low
    inner[rows, at_high] = h
    path = np.clip(path, low[:, None], h[:, None])
    path[:, 0], path[:, -1] = o, c

    bars = path[:, :steps].reshape(n, parts, STEPS_PER_BAR)
    closes = path[:, STEPS_PER_BAR::STEPS_PER_BAR]
    within = np.concatenate([bars, closes[:, :, None]], axis=2)
    weights = rng.gamma(2.0, size=(n, parts))
    volume = v[:, None] * weights / weights.sum(axis=1, keepdims=True)
    volume[:, -1] = v - volume[:, :-1].sum(axis=1)

    step = length / parts
    offsets = pd.to_timedelta(np.arange(parts) * step.value, unit="ns")
    starts = dates.tz_convert(None).to_numpy() if dates.tz is not None else dates.to_numpy()
    out_dates = (starts[:, None] + offsets.to_numpy()[None, :]).ravel()
    return pd.DataFrame(
        {
            "date": pd.DatetimeIndex(out_dates).tz_localize(dates.tz),
            "open": bars[:, :, 0].ravel(),
            "high": within.max(axis=2).ravel(),
            "low": within.min(axis=2).ravel(),
            "close": closes.ravel(),
            "volume": np.maximum(volume, 0.0).ravel(),
        }
    )
