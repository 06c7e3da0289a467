"""A signal bot (producer, FreqAI) feeding a trading bot (consumer, no FreqAI) on the replay.

Two ``freqtrade trade`` processes run ITBStrategy against one replay exchange and clock: the
producer trains ITBClassifier (the cut-down sample of test_itb_live.py) and publishes its
analysed dataframe through FreqTrade's message websocket; the consumer follows it through
``external_message_consumer`` and trades ITB's rules on the producer's probabilities. Checked
through the bots' REST APIs (analysed dataframes), SQLite databases and the consumer's Telegram.

A scripted producer (no model) publishes scores out of range and untrusted candles on a fixed
pattern: the consumer neither enters nor exits on them, and says so once per refused candle.
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.freqtrade.itb_live_helpers import (
    BUY_THRESHOLD,
    MODEL_PATH,
    PAIR,
    PROBABILITIES,
    SELL_THRESHOLD,
    freqai_section,
    itb_section,
)
from tests.support.bot import ROOT, BotProcess
from tests.support.fake_telegram import FakeTelegram
from tests.support.replay_exchange import DEFAULT_MARKETS, ReplayExchange, SimClock

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

START = datetime(2019, 5, 1, 15, 0, tzinfo=UTC)
SPEED = 900  # one hourly candle every 4 real seconds
HOUR_MS = 3_600_000
PRODUCER_NAME = "itb-producer"
PAUSED = re.compile(r"ITB BTC/USDT: no scores from producer 'itb-producer'.*entries paused")
RESUMED = re.compile(r"ITB BTC/USDT: scores from producer 'itb-producer' again; entries resume")


def analysed(bot: BotProcess) -> pd.DataFrame:
    """The bot's analysed dataframe from ``/api/v1/pair_candles``, indexed by candle date."""
    try:
        answer = bot.pair_candles(PAIR, limit=300)
    except OSError:
        return pd.DataFrame()
    frame = pd.DataFrame(answer.get("data") or [], columns=answer.get("columns") or [])
    if not frame.empty:
        frame.index = pd.to_datetime(frame["__date_ts"], unit="ms", utc=True)
    return frame


def newest_ms(bot: BotProcess) -> int:
    frame = analysed(bot)
    return int(frame["__date_ts"].iloc[-1]) if not frame.empty else 0


def signal_candle(open_date: str) -> pd.Timestamp:
    """The candle whose close made the bot enter at ``open_date`` (a database time, UTC)."""
    return pd.Timestamp(open_date).tz_localize("UTC").floor("1h") - pd.Timedelta(hours=1)


def bots(tmp: Path, exchange: ReplayExchange, telegram: FakeTelegram) -> tuple[BotProcess, ...]:
    strategies = tmp / "strategies"
    strategies.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", strategies)
    common: dict[str, Any] = {
        "strategy": "ITBStrategy",
        "strategy_path": strategies,
        "pairs": (PAIR,),
        "run_speed": SPEED,
    }
    producer = BotProcess(
        tmp / "producer",
        exchange,
        extra_args=("--freqaimodel-path", str(MODEL_PATH)),
        config_overrides={
            "bot_name": PRODUCER_NAME,
            "freqaimodel": "ITBClassifier",
            "freqai": freqai_section(),
            "itb": itb_section(),
        },
        **common,
    )
    consumer = BotProcess(
        tmp / "consumer",
        exchange,
        telegram=telegram,
        config_overrides={
            "bot_name": "itb-consumer",
            "itb": itb_section(),
            "external_message_consumer": {
                "enabled": True,
                "producers": [
                    {
                        "name": PRODUCER_NAME,
                        "host": "127.0.0.1",
                        "port": producer.api_port,
                        "ws_token": producer.build_config()["api_server"]["ws_token"],
                    }
                ],
                # real seconds: reconnect quickly once the producer is back
                "sleep_time": 1,
                "wait_timeout": 5,
                "ping_timeout": 2,
            },
            "process_only_new_candles": False,
        },
        **common,
    )
    return producer, consumer


def check_consumer_trades(producer_frame: pd.DataFrame, consumer: BotProcess) -> int:
    """Every consumer trade entered on a candle the producer scored and signalled; return count."""
    trades = consumer.trades()
    candles = [signal_candle(t["open_date"]) for t in trades]
    assert len(candles) == len(set(candles)), candles  # one entry per signal candle
    for trade, candle in zip(trades, candles, strict=True):
        published = producer_frame.loc[candle]
        assert published["do_predict"] == 1, (trade["id"], candle)
        assert float(published["trade_score"]) >= BUY_THRESHOLD, (trade["id"], candle)
        assert published["enter_long"] == 1, (trade["id"], candle)
        assert trade["enter_tag"] == "itb_buy"
    orders = consumer.orders()
    assert len({o["order_id"] for o in orders}) == len(orders)
    for trade in trades:
        sides = [o["ft_order_side"] for o in orders if o["ft_trade_id"] == trade["id"]]
        assert sides.count("buy") == 1 and sides.count("sell") <= 1, (trade["id"], sides)
    return len(trades)


def test_consumer_trades_on_producer_scores_pauses_without_them_and_resumes(
    tmp_path: Path,
) -> None:
    clock = SimClock(tmp_path / "simclock", start=START, speed=60)
    exchange = ReplayExchange(clock, DEFAULT_MARKETS, balances={"USDT": 1000})
    telegram = FakeTelegram()
    exchange.start()
    telegram.start()
    producer, consumer = bots(tmp_path, exchange, telegram)
    started = time.monotonic()
    try:
        producer.start()
        consumer.start()
        producer.wait_ready(120)
        consumer.wait_ready(120)
        assert "Starting training" not in consumer.log_text()  # the consumer trains nothing
        producer.wait_for_log(r"Done training BTC/USDT", 120)
        clock.set_speed(SPEED)

        # 1. The consumer enters on the candle the producer signals, with the producer's scores.
        consumer.wait_for(lambda: consumer.trades(), 150, what="a consumer trade")
        consumer.wait_for(
            lambda: (analysed(producer).get("do_predict", pd.Series()) == 1).sum() >= 4,
            60,
            what="4 scored candles",
        )
        consumer.wait_for(
            lambda: newest_ms(consumer) >= newest_ms(producer) > 0, 30, what="both up to date"
        )
        published, traded = analysed(producer), analysed(consumer)
        assert check_consumer_trades(published, consumer) >= 1
        common = published.index.intersection(traded.index)
        # the newest candle's score may still be on its way to the consumer
        common = common[published.loc[common, "do_predict"] == 1][:-1]
        assert len(common) >= 3
        for column in (*PROBABILITIES, "trade_score"):
            pd.testing.assert_series_equal(
                traded.loc[common, column].astype(float),
                published.loc[common, column].astype(float),
                check_names=False,
            )
        print(f"consumer: first trade after {time.monotonic() - started:.0f}s")

        # 2. Producer killed: the consumer pauses and says so; no entry without a fresh score.
        last_published = newest_ms(producer)
        published_before = analysed(producer)
        mark = len(telegram.texts())
        producer.kill()
        telegram.wait_for_message(PAUSED, 60, start=mark)
        paused_at = newest_ms(consumer)
        consumer.wait_for(
            lambda: newest_ms(consumer) >= paused_at + 2 * HOUR_MS, 60, what="2 candles paused"
        )
        frame = analysed(consumer)
        unscored = frame[frame["__date_ts"] > last_published]
        assert len(unscored) >= 3
        assert (unscored["do_predict"] == 0).all() and unscored[list(PROBABILITIES)].isna().all(
            axis=None
        )
        assert (unscored["enter_long"].fillna(0) == 0).all()
        assert all(
            signal_candle(t["open_date"]).value // 10**6 <= last_published
            for t in consumer.trades()
        )
        assert not RESUMED.search("\n".join(telegram.texts(mark)))

        # 3. Producer restarted: scores flow again, entries resume, nothing is ordered twice.
        clock.set_speed(120)  # the restart takes real seconds
        producer.start()
        producer.wait_ready(120)
        producer.wait_for_log(r"Set existing queue from trained timestamps", 60)
        clock.set_speed(SPEED)
        telegram.wait_for_message(RESUMED, 90, start=mark)
        assert "Starting training" not in producer.log_text()  # the saved model is reused
        resumed_at = newest_ms(consumer)
        consumer.wait_for(
            lambda: newest_ms(consumer) >= resumed_at + 3 * HOUR_MS, 60, what="3 more candles"
        )
        consumer.wait_for(
            lambda: newest_ms(consumer) <= newest_ms(producer), 30, what="producer caught up"
        )
        published, traded = analysed(producer), analysed(consumer)
        after = traded.index[traded["__date_ts"] > resumed_at][:-1]
        assert len(after) >= 2
        assert (traded.loc[after, "do_predict"] == 1).all()
        pd.testing.assert_series_equal(
            traded.loc[after, "trade_score"].astype(float),
            published.loc[after, "trade_score"].astype(float),
            check_names=False,
        )
        trades = check_consumer_trades(published_before.combine_first(published), consumer)
        texts = telegram.texts(mark)
        assert [bool(PAUSED.search(t)) for t in texts].count(True) == 1  # told once
        assert [bool(RESUMED.search(t)) for t in texts].count(True) == 1
        print(f"consumer: {trades} trades, {time.monotonic() - started:.0f}s in all")
    finally:
        consumer.kill()
        producer.kill()
        exchange.stop()
        telegram.stop()
        clock.close()


SCRIPTED_PRODUCER = """
import numpy as np
from pandas import DataFrame
from freqtrade.strategy import IStrategy

UP = ("high_30_lc", "high_30_gb")
DOWN = ("low_30_lc", "low_30_gb")


class ScriptedProducer(IStrategy):
    \"\"\"Publishes model-like scores on a 4-candle pattern (by the candle's hour): a buy level,
    a score of 1e9 (inf would travel as null: the websocket's JSON has no inf), a sell level
    FreqAI would not trust (do_predict 0), a trusted sell level.\"\"\"

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 10.0}
    stoploss = -0.2
    process_only_new_candles = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        phase = (dataframe["date"].dt.hour % 4).to_numpy()
        up = np.select([phase == 0, phase == 1], [0.6, 1e9], 0.4)
        for column in UP:
            dataframe[column] = up
        for column in DOWN:
            dataframe[column] = np.where(phase == 0, 0.4, 0.6)
        dataframe["do_predict"] = np.where(phase == 2, 0, 1)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
"""
REFUSED = re.compile(
    r"ITB BTC/USDT: producer 'scripted' sent high_30_(lc|gb) = 1000000000\.0 for (\S+ \S+), "
    r"outside \[0, 1\]"
)


def phase(candle: pd.Timestamp) -> int:
    return candle.hour % 4


def test_the_consumer_refuses_out_of_range_scores_and_exits_only_on_trusted_candles(
    tmp_path: Path,
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", strategies)
    (strategies / "ScriptedProducer.py").write_text(SCRIPTED_PRODUCER)
    clock = SimClock(tmp_path / "simclock", start=START, speed=60)
    exchange = ReplayExchange(clock, DEFAULT_MARKETS, balances={"USDT": 1000})
    telegram = FakeTelegram()
    exchange.start()
    telegram.start()
    common: dict[str, Any] = {"strategy_path": strategies, "pairs": (PAIR,), "run_speed": SPEED}
    producer = BotProcess(
        tmp_path / "producer",
        exchange,
        strategy="ScriptedProducer",
        config_overrides={"bot_name": "scripted"},
        **common,
    )
    consumer = BotProcess(
        tmp_path / "consumer",
        exchange,
        strategy="ITBStrategy",
        telegram=telegram,
        config_overrides={
            "bot_name": "itb-consumer",
            "itb": itb_section(),
            "max_open_trades": 1,
            "external_message_consumer": {
                "enabled": True,
                "producers": [
                    {
                        "name": "scripted",
                        "host": "127.0.0.1",
                        "port": producer.api_port,
                        "ws_token": producer.build_config()["api_server"]["ws_token"],
                    }
                ],
                "sleep_time": 1,
                "wait_timeout": 5,
                "ping_timeout": 2,
            },
            "process_only_new_candles": False,
        },
        **common,
    )
    try:
        producer.start()
        consumer.start()
        producer.wait_ready(120)
        consumer.wait_ready(120)
        clock.set_speed(SPEED)

        def closed_on_a_signal() -> list[dict[str, Any]]:  # exit reason: the exit tag
            trades = consumer.trades()
            return [t for t in trades if not t["is_open"] and t["exit_reason"] == "itb_sell"]

        consumer.wait_for(lambda: len(closed_on_a_signal()) >= 2, 240, what="two signal exits")
        frame = analysed(consumer)
        texts = telegram.texts()
    finally:
        consumer.kill()
        producer.kill()
        exchange.stop()
        telegram.stop()
        clock.close()

    # The consumer's view of each candle since the producer started (the newest two may still
    # wait for the producer's scores).
    seen = frame[frame.index >= START].iloc[:-2]
    phases = seen.index.map(phase)
    refused = seen[phases == 1]
    assert len(refused) >= 2
    assert (refused["do_predict"] == 0).all() and refused["high_30_lc"].isna().all()
    assert (refused["enter_long"].fillna(0) == 0).all() and (
        refused["exit_long"].fillna(0) == 0
    ).all()
    untrusted_sell = seen[phases == 2]
    assert (untrusted_sell["trade_score"] <= SELL_THRESHOLD).all()
    assert (untrusted_sell["exit_long"].fillna(0) == 0).all()  # a sell level, not trusted
    assert (seen.loc[phases == 3, "exit_long"] == 1).all()
    assert (seen.loc[phases == 0, "enter_long"] == 1).all()

    # Trades: entered on buy candles only, left on trusted sell candles only.
    orders = consumer.orders()
    for trade in consumer.trades():
        assert phase(signal_candle(trade["open_date"])) == 0, trade
        if trade["exit_reason"] == "itb_sell":
            sell = [
                o
                for o in orders
                if o["ft_trade_id"] == trade["id"] and o["ft_order_side"] == "sell"
            ]
            assert phase(signal_candle(sell[0]["order_date"])) == 3, (trade, sell)

    # Told once per refused candle, not on every analysis of it.
    told = [REFUSED.search(t) for t in texts]
    candles = [m.group(2) for m in told if m]
    assert candles and len(candles) == len(set(candles)), candles
    print(f"consumer: {len(candles)} refused candles told, {len(closed_on_a_signal())} exits")
