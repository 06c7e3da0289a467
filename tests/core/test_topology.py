"""Producer/consumer roles, score alignment and producer liveness on tiny frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from itb_ext.errors import ConfigError
from itb_ext.strategy.topology import (
    RefusedScore,
    producer_scores,
    producer_state,
    producer_state_of,
    refused_score,
    topology_of,
    with_producer_scores,
)

PRODUCER = {"name": "signals", "host": "127.0.0.1", "port": 8080, "ws_token": "t"}


def consumer_config(**extra: object) -> dict:
    return {
        "external_message_consumer": {"enabled": True, "producers": [PRODUCER]},
        "freqai": {"enabled": False},
        **extra,
    }


def test_a_bot_without_external_message_consumer_is_a_producer() -> None:
    assert topology_of({"freqai": {"enabled": True}}).role == "producer"
    disabled = {"external_message_consumer": {"enabled": False, "producers": [PRODUCER]}}
    assert topology_of(disabled).role == "producer"


def test_a_consumer_follows_its_named_producer() -> None:
    topology = topology_of(consumer_config())
    assert topology.role == "consumer" and topology.is_consumer
    assert topology.producer == "signals"


def test_a_consumer_must_not_train() -> None:
    with pytest.raises(ConfigError, match=r"^freqai.enabled: a consumer .* set freqai.enabled"):
        topology_of(consumer_config(freqai={"enabled": True}))


def test_a_consumer_follows_exactly_one_producer() -> None:
    config = consumer_config()
    config["external_message_consumer"]["producers"] = [PRODUCER, {**PRODUCER, "name": "b"}]
    with pytest.raises(ConfigError, match=r"exactly one producer \(got 2\)"):
        topology_of(config)


def dates(*hours: int) -> pd.Series:
    return pd.Series([pd.Timestamp("2019-05-01", tz="UTC") + pd.Timedelta(hours=h) for h in hours])


def test_scores_are_taken_from_the_same_candle_only() -> None:
    candles = pd.DataFrame({"date": dates(0, 1, 2, 3), "close": [1.0, 2.0, 3.0, 4.0]})
    producer = pd.DataFrame(
        {
            "date": dates(0, 1, 2),
            "high_30_lc": [0.1, 0.2, 0.3],
            "do_predict": [0, 1, 1],
            "trade_score": [0.9, 0.9, 0.9],  # the consumer computes its own
        }
    )
    out = producer_scores(candles, producer, ["high_30_lc", "low_30_lc"])
    assert list(out.columns) == ["high_30_lc", "low_30_lc", "do_predict"]
    assert out.index.equals(candles.index)
    # candle 3 has no score of its own: it never borrows candle 2's
    np.testing.assert_array_equal(out["high_30_lc"], [0.1, 0.2, 0.3, np.nan])
    assert out["low_30_lc"].isna().all()  # the producer has no such model
    assert out["do_predict"].tolist() == [0, 1, 1, 0]


def test_a_republished_candle_takes_the_newest_values() -> None:
    candles = pd.DataFrame({"date": dates(0, 1)})
    producer = pd.DataFrame(
        {"date": dates(0, 1, 1), "s": [0.1, 0.2, 0.25], "do_predict": [1, 1, 1]}
    )
    assert producer_scores(candles, producer, ["s"])["s"].tolist() == [0.1, 0.25]


def test_a_score_out_of_range_makes_its_candle_untrusted_without_scores() -> None:
    candles = pd.DataFrame({"date": dates(0, 1, 2, 3, 4, 5, 6)})
    producer = pd.DataFrame(
        {
            "date": dates(0, 1, 2, 3, 4, 5, 6),
            "up": [0.0, np.inf, 1e9, -0.001, 0.3, np.nan, 1.0],
            "down": [1.0, 0.5, 0.5, 0.5, 1.0000001, 0.2, 0.5],
            "do_predict": [1] * 7,
            "trade_score": [-1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        }
    )
    out = producer_scores(candles, producer, ["up", "down"])
    # the ends of [0, 1] are in range; a missing score is no score, not a bad one
    assert out["do_predict"].tolist() == [1, 0, 0, 0, 0, 1, 1]
    np.testing.assert_array_equal(out["up"], [0.0, np.nan, np.nan, np.nan, np.nan, np.nan, 1.0])
    np.testing.assert_array_equal(out["down"], [1.0, np.nan, np.nan, np.nan, np.nan, 0.2, 0.5])
    assert refused_score(producer, ["up", "down"]) == RefusedScore(
        "down", 1.0000001, dates(4)[0], 0.0, 1.0, 4
    )


def test_a_combined_score_out_of_range_is_refused_too() -> None:
    candles = pd.DataFrame({"date": dates(0, 1, 2)})
    producer = pd.DataFrame(
        {
            "date": dates(0, 1, 2),
            "up": [0.5, 0.5, 0.5],
            "do_predict": [1, 1, 1],
            "trade_score": [1.5, -np.inf, 0.25],
        }
    )
    assert producer_scores(candles, producer, ["up"])["do_predict"].tolist() == [0, 0, 1]
    refused = refused_score(producer, ["up"])
    assert refused == RefusedScore("trade_score", -np.inf, dates(1)[0], -1.0, 1.0, 2)
    assert refused_score(producer.iloc[2:], ["up"]) is None
    assert refused_score(pd.DataFrame(), ["up"]) is None


def test_no_producer_data_means_no_scores_and_no_trust() -> None:
    candles = pd.DataFrame({"date": dates(0, 1)})
    out = producer_scores(candles, pd.DataFrame(), ["s"])
    assert out["s"].isna().all() and out["do_predict"].tolist() == [0, 0]


def test_the_producer_is_gone_after_two_candles_without_a_score() -> None:
    now = dates(5)[0]
    assert producer_state(now, dates(3, 4, 5), 60).lag == 0
    waiting = producer_state(now, dates(3, 4), 60)
    assert (waiting.lag, waiting.gone) == (1, False)  # the newest candle's score is on its way
    gone = producer_state(now, dates(2, 3), 60)
    assert (gone.lag, gone.gone, gone.newest) == (2, True, dates(3)[0])
    nothing = producer_state(now, pd.Series([], dtype=object), 60)
    assert nothing.gone and nothing.newest is None and nothing.lag is None


def test_the_producer_state_is_read_at_the_newest_consumer_candle() -> None:
    dates = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    consumer = pd.DataFrame({"date": dates})
    producer = pd.DataFrame({"date": dates[:2]})
    state = producer_state_of(consumer, producer, 60)
    assert (state.newest, state.lag, state.gone) == (dates[1], 2, True)
    assert producer_state_of(consumer, pd.DataFrame(), 60).newest is None


def test_producer_scores_replace_the_consumer_columns_of_the_same_name() -> None:
    dates = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    consumer = pd.DataFrame({"date": dates, "close": [1.0, 2.0], "up_lc": [9.0, 9.0]})
    producer = pd.DataFrame({"date": dates[1:], "up_lc": [0.25], "do_predict": [1]})
    out = with_producer_scores(consumer, producer, ["up_lc"])
    assert list(out.columns) == ["date", "close", "up_lc", "do_predict"]
    np.testing.assert_array_equal(out["up_lc"], [np.nan, 0.25])
    assert out["do_predict"].tolist() == [0, 1]
