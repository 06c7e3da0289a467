"""Do the candles on disk cover what a backtest needs? Checked before any model is trained.

A FreqAI backtest of the period ``[start, end)`` trains its first model on ``train_period_days``
before ``start``, and the features of that window's first candle need ``startup`` candles
before it. So the first candle needed is ``start - (startup + train candles) * timeframe``
(FreqTrade's ``DataProvider.get_required_startup``). Without FreqAI only ``startup`` candles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class CandleFile:
    """What one candle file holds.

    :param pair: the pair, e.g. ``BTC/USD``.
    :param timeframe: e.g. ``1h``.
    :param path: the file FreqTrade reads for it.
    :param first: open time of its first candle (None: no file or no candles).
    :param last: open time of its last candle.
    """

    pair: str
    timeframe: str
    path: Path
    first: pd.Timestamp | None
    last: pd.Timestamp | None


@dataclass(frozen=True)
class Requirement:
    """The candles a run needs.

    :param start: first candle of the requested timerange (None: no timerange given).
    :param startup_candles: candles before a candle its features read.
    :param train_candles: candles of FreqAI's training window before ``start`` (0 without FreqAI).
    :param timeframe_minutes: the strategy timeframe in minutes.
    :param timerange: the timerange as given, for messages.
    """

    start: pd.Timestamp | None
    startup_candles: int
    train_candles: int
    timeframe_minutes: int
    timerange: str = ""

    @property
    def first_needed(self) -> pd.Timestamp | None:
        """The first candle the run reads (None when no timerange bounds it)."""
        if self.start is None:
            return None
        candles = self.startup_candles + self.train_candles
        return self.start - pd.Timedelta(minutes=candles * self.timeframe_minutes)

    @property
    def lead(self) -> pd.Timedelta:
        """How long before ``start`` the data must begin."""
        candles = self.startup_candles + self.train_candles
        return pd.Timedelta(minutes=candles * self.timeframe_minutes)

    def why(self) -> str:
        parts = []
        if self.train_candles:
            parts.append(f"a training window of {self.train_candles} candles")
        parts.append(f"{self.startup_candles} startup candles")
        return " + ".join(parts)


def train_candles(train_period_days: float, timeframe_minutes: int) -> int:
    """Candles in FreqAI's training window (as FreqTrade counts them)."""
    return int(train_period_days * 24 * 60 / timeframe_minutes)


def _at(moment: pd.Timestamp) -> str:
    return moment.strftime(TIME_FORMAT)


def coverage_problem(data: CandleFile, need: Requirement, datadir: Path) -> str | None:
    """One line naming what is missing and how to supply it offline, or None when covered."""
    where = f"{data.pair} {data.timeframe} in {datadir}"
    if data.first is None or data.last is None:
        return (
            f"offline mode: no candles for {where} (expected {data.path.name}); copy that file "
            "into the folder (freqtrade download-data makes it where there is network), or "
            "choose pairs that have candles there"
        )
    span = f"candles {_at(data.first)} .. {_at(data.last)}"
    needed = need.first_needed
    if need.start is not None and need.start > data.last:
        return (
            f"offline mode: {where} has {span}, but --timerange {need.timerange} starts after "
            f"the last one; choose a timerange within them or add newer candles to {data.path}"
        )
    if need.start is not None and needed is not None and needed < data.first:
        earliest = (data.first + need.lead).ceil("D")
        return (
            f"offline mode: {where} has {span}, but --timerange {need.timerange} needs candles "
            f"from {_at(needed)} ({need.why()} before {_at(need.start)}); start the timerange on "
            f"or after {earliest.strftime('%Y%m%d')} or add older candles to {data.path}"
        )
    return None
