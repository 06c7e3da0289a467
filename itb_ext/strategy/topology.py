"""Signal bot and trading bots: a producer trains and publishes scores, consumers trade on them.

A bot's role comes from FreqTrade's ``external_message_consumer`` section:

* **producer** (the default, also a bot on its own): FreqAI trains and predicts; FreqTrade's
  message websocket publishes the analysed dataframe (model probabilities, ``do_predict``,
  ``trade_score``) to whoever subscribes.
* **consumer** (``external_message_consumer.enabled``): FreqAI is off; the probabilities come
  from the one configured producer, and ITB's rules turn them into this bot's own signals.

A consumer uses a score only on the candle it was computed for, so a producer that stops
publishing leaves the newer candles without scores, and therefore without entries.
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


def producer_scores(
    candles: pd.DataFrame, producer: pd.DataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """The producer's score columns and ``do_predict``, aligned on the consumer's candles.

    Row t gets the producer's values of candle t and nothing else: a candle the producer has
    not analysed (yet) has missing scores and ``do_predict`` 0, so no signal is ever taken from
    an older candle's score.

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
        published = producer.drop_duplicates("date", keep="last").set_index("date")
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
