"""Candle lengths from timeframe strings (FreqTrade's ``5m``, ``1h``, ``1d``, ``1w``, ``1M``).

Crypto markets never close, so a year is 365 days of candles, not 252 trading days.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pandas as pd

from itb_ext.errors import ConfigError

_UNIT_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3_600,
    "d": 86_400,
    "w": 7 * 86_400,
    "M": 30 * 86_400,  # the exchanges' month candle, as FreqTrade counts it
    "y": 365 * 86_400,
}
_TIMEFRAME = re.compile(r"^(?P<count>[1-9]\d*)(?P<unit>[smhdwMy])$")
YEAR = timedelta(days=365)


def candle_length(timeframe: str) -> timedelta:
    """The duration of one candle of ``timeframe``.

    :raises ConfigError: not a timeframe (a count and one of ``s m h d w M y``).
    """
    match = _TIMEFRAME.match(timeframe)
    if match is None:
        raise ConfigError(f"timeframe {timeframe!r} is not a count and a unit such as 5m, 1h, 1d")
    return timedelta(seconds=int(match["count"]) * _UNIT_SECONDS[match["unit"]])


def typical_candle_length(dates: pd.Series) -> timedelta | None:
    """The median step between consecutive ``dates`` (robust to a few missing candles), or None
    with fewer than two distinct dates."""
    steps = pd.to_datetime(dates, utc=True).diff().dropna()
    steps = steps[steps > pd.Timedelta(0)]
    if steps.empty:
        return None
    return pd.Timedelta(steps.median()).to_pytimedelta()


def candles_per_year(candle: timedelta) -> float:
    """How many candles of length ``candle`` fit in a 365-day year."""
    return YEAR / candle


def candles_held(opened: datetime, now: datetime, candle: timedelta) -> int:
    """Whole candles since ``opened`` (0 within the entry candle), as FreqTrade's trade time.

    :param opened: when the trade's entry filled (aware).
    :param now: the current time (aware), e.g. ``confirm_trade_exit``'s ``current_time``.
    :param candle: from :func:`candle_length`.
    """
    return max((now - opened) // candle, 0)
