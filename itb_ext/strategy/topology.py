"""Signal bot and trading bots: a producer trains and publishes scores, consumers trade on them.

A bot's role comes from FreqTrade's ``external_message_consumer`` section:

* **producer** (the default, also a bot on its own): FreqAI trains and predicts; FreqTrade's
  message websocket publishes the analysed dataframe (model probabilities, ``do_predict``,
  ``trade_score``) to whoever subscribes.
* **consumer** (``external_message_consumer.enabled``): FreqAI is off; the probabilities come
  from the one configured producer, and ITB's rules turn them into this bot's own signals.

A consumer uses a score only on the candle it was computed for, so a producer that stops
publishing leaves the newer candles without scores, and therefore without entries. It trusts a
candle only when its scores are in range: model probabilities in [0, 1], the producer's
``trade_score`` in [-1, 1]; anything else (``inf``, ``1e9``) makes the candle untrusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from itb_ext.errors import ConfigError

Role = Literal["producer", "consumer"]

#: Candles the producer's newest score may lag behind the consumer's newest candle before the
#: producer counts as gone. One candle of lag is normal: the producer analyses each new candle
#: a moment after the consumer does.
GONE_AFTER_CANDLES = 2

#: The range of a model probability, and of the combined ``trade_score`` a producer publishes.
PROBABILITY_RANGE = (0.0, 1.0)
COMBINED_RANGE = (-1.0, 1.0)
COMBINED_COLUMN = "trade_score"


@dataclass(frozen=True)
class Topology:
    """A bot's place in a producer/consumer set-up.

    :param role: ``producer`` (trains, publishes) or ``consumer`` (trades on a producer's scores).
    :param producer: the name of the consumer's producer (None for a producer).
    """

    role: Role
    producer: str | None = None

    @property
    def is_consumer(self) -> bool:
        return self.role == "consumer"


def topology_of(config: Mapping[str, Any]) -> Topology:
    """The role of the bot a FreqTrade config describes.

    :raises ConfigError: a consumer that also enables FreqAI, or follows not exactly one producer.
    """
    consumer = config.get("external_message_consumer") or {}
    if not consumer.get("enabled", False):
        return Topology("producer")
    if (config.get("freqai") or {}).get("enabled", False):
        raise ConfigError(
            "freqai.enabled: a consumer (external_message_consumer.enabled) trades on its "
            "producer's scores and trains nothing; set freqai.enabled to false"
        )
    producers = consumer.get("producers") or []
    if len(producers) != 1:
        raise ConfigError(
            "external_message_consumer.producers: an ITB consumer follows exactly one producer "
            f"(got {len(producers)})"
        )
    return Topology("consumer", str(producers[0].get("name", "default")))


@dataclass(frozen=True)
class RefusedScore:
    """The newest producer score out of its range.

    :param column: its column; :param value: the value sent; :param candle: its candle.
    :param low: :param high: the range it is outside of.
    :param candles: how many candles received had a score out of range.
    """

    column: str
    value: float
    candle: pd.Timestamp
    low: float
    high: float
    candles: int


def _score_ranges(producer: pd.DataFrame, columns: Sequence[str]) -> dict[str, tuple[float, float]]:
    ranges = {c: PROBABILITY_RANGE for c in columns}
    if COMBINED_COLUMN in producer.columns and COMBINED_COLUMN not in ranges:
        ranges[COMBINED_COLUMN] = COMBINED_RANGE
    return ranges


def _out_of_range(producer: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per producer row and score column: True where a value is present and out of range
    (a missing score is no score, not a bad one)."""
    flags = {}
    for column, (low, high) in _score_ranges(producer, columns).items():
        if column not in producer.columns:
            continue
        values = pd.to_numeric(producer[column], errors="coerce").astype("float64")
        flags[column] = values.notna() & ~values.between(low, high)
    return pd.DataFrame(flags, index=producer.index, dtype=bool)


def refused_score(producer: pd.DataFrame, columns: Sequence[str]) -> RefusedScore | None:
    """The newest out-of-range score in the producer's analysed dataframe, or None.

    :param columns: the model probability columns (the producer's ``trade_score`` is checked
        too when it publishes one).
    """
    if producer.empty or "date" not in producer.columns:
        return None
    bad = _out_of_range(producer, columns)
    rows = bad.any(axis=1)
    if not rows.any():
        return None
    newest = rows[rows].index[-1]
    column = str(bad.columns[bad.loc[newest].to_numpy()][0])
    low, high = _score_ranges(producer, columns)[column]
    value = float(pd.to_numeric(producer.loc[newest, column], errors="coerce"))
    candle = pd.Timestamp(producer.loc[newest, "date"])
    return RefusedScore(column, value, candle, low, high, int(rows.sum()))


def producer_scores(
    candles: pd.DataFrame, producer: pd.DataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """The producer's score columns and ``do_predict``, aligned on the consumer's candles.

    Row t gets the producer's values of candle t and nothing else: a candle the producer has
    not analysed (yet) has missing scores and ``do_predict`` 0, so no signal is ever taken from
    an older candle's score. A candle with a score out of range (see :func:`refused_score`)
    gets no scores and ``do_predict`` 0 as well.

    :param candles: the consumer's candles (a ``date`` column).
    :param producer: the producer's analysed dataframe (``date`` and the score columns; may be
        empty, or lack the score columns before the producer has a model).
    :param columns: the model probability columns.
    :return: ``columns`` plus ``do_predict``, indexed like ``candles``.
    """
    wanted = [*columns, "do_predict"]
    if producer.empty or "date" not in producer.columns:
        published = pd.DataFrame(columns=wanted, index=pd.DatetimeIndex([], tz="UTC"))
    else:
        refused = _out_of_range(producer, columns).any(axis=1)
        published = producer.assign(do_predict=producer.get("do_predict", 0))
        present = [c for c in wanted if c in published.columns]
        published.loc[refused, present] = np.nan
        published = published.drop_duplicates("date", keep="last").set_index("date")
        published = published.reindex(columns=wanted)
    dates = pd.DatetimeIndex(candles["date"])
    aligned = published.reindex(dates)
    out = pd.DataFrame(
        {c: aligned[c].to_numpy(dtype="float64") for c in columns}, index=candles.index
    )
    do_predict = aligned["do_predict"].to_numpy(dtype="float64")
    out["do_predict"] = np.nan_to_num(do_predict, nan=0.0).astype("int64")
    return out


@dataclass(frozen=True)
class ProducerState:
    """How current the producer's scores are, seen from the consumer's newest candle.

    :param newest: the producer's newest scored candle (None when nothing arrived yet).
    :param lag: candles between that and the consumer's newest candle (None without scores).
    :param gone: whether the producer counts as gone (entries pause).
    """

    newest: pd.Timestamp | None
    lag: int | None
    gone: bool


def producer_state(
    candle: pd.Timestamp, scored: pd.Series, timeframe_minutes: int
) -> ProducerState:
    """Whether the producer still publishes, from the dates it has scored.

    :param candle: the consumer's newest candle (open time).
    :param scored: dates of the candles the producer scored (any order).
    :param timeframe_minutes: the candle length.
    """
    if scored.empty:
        return ProducerState(None, None, True)
    newest = pd.Timestamp(scored.max())
    lag = int((candle - newest) // pd.Timedelta(minutes=timeframe_minutes))
    return ProducerState(newest, lag, lag >= GONE_AFTER_CANDLES)


def producer_state_of(
    candles: pd.DataFrame, producer: pd.DataFrame, timeframe_minutes: int
) -> ProducerState:
    """:func:`producer_state` at the consumer's newest candle, from the producer's analysed
    dataframe (which may be empty, without a ``date`` column)."""
    scored = producer["date"] if "date" in producer.columns else pd.Series([], dtype=object)
    return producer_state(pd.Timestamp(candles["date"].iloc[-1]), scored, timeframe_minutes)


def with_producer_scores(
    candles: pd.DataFrame, producer: pd.DataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """``candles`` with the producer's score columns and ``do_predict`` (see
    :func:`producer_scores`) in place of their own."""
    scores = producer_scores(candles, producer, columns)
    return pd.concat([candles.drop(columns=scores.columns, errors="ignore"), scores], axis=1)
