"""The operator's messages: each told once when its state changes (``itb_ext.strategy.alerts``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from itb_ext.config.notifications import ScoreBand, ScoreNotificationConfig
from itb_ext.config.risk_controls import ModelHealthConfig
from itb_ext.risk.kill_switch import RECORDED, Halt, Recording
from itb_ext.strategy.alerts import Alert, Alerts
from itb_ext.strategy.setup import ITBSetup
from itb_ext.strategy.topology import ProducerState, RefusedScore

ROOT = Path(__file__).resolve().parents[2]
HEALTH = ModelHealthConfig(enabled=True, min_auc=0.55, period=6)
BANDS = ScoreNotificationConfig(
    positive_bands=(ScoreBand(edge=0.1, text="BUY ZONE"),),
    negative_bands=(ScoreBand(edge=-0.1, text="SELL ZONE"),),
)


def texts(messages: tuple[Alert, ...]) -> list[str]:
    return [m.text for m in messages]


def test_a_training_failure_is_told_once_and_again_after_a_success() -> None:
    alerts = Alerts("1h", 60)
    failed = alerts.training("BTC/USDT", "DataError: no rows")
    assert failed == (
        Alert(
            "⚠️ ITB BTC/USDT: model training failed (DataError: no rows); entries use the last "
            "good model or stay paused.",
            logging.ERROR,
            always_send=True,
        ),
    )
    assert alerts.training("BTC/USDT", "DataError: no rows") == ()
    assert texts(alerts.training("ETH/USDT", "DataError: no rows"))  # another pair
    assert alerts.training("BTC/USDT", None) == ()
    assert alerts.training("BTC/USDT", "DataError: no rows") == failed


def test_untrusted_predictions_pause_and_resume_once_each() -> None:
    alerts = Alerts("1h", 60)
    assert alerts.predictions("BTC/USDT", 1) == ()  # a start counts as trusted
    paused = alerts.predictions("BTC/USDT", np.int64(0))
    assert paused == (
        Alert(
            "⚠️ ITB BTC/USDT: no trusted prediction (do_predict=0); entries paused.",
            logging.WARNING,
            always_send=True,
        ),
    )
    assert alerts.predictions("BTC/USDT", -1.0) == ()
    assert alerts.predictions("BTC/USDT", 1) == (
        Alert(
            "ITB BTC/USDT: predictions trusted again, entries resume.",
            logging.INFO,
            always_send=False,
        ),
    )
    assert texts(Alerts("1h", 60).predictions("BTC/USDT", -1.0)) == [
        "⚠️ ITB BTC/USDT: no trusted prediction (do_predict=-1); entries paused."
    ]


def test_a_silent_producer_and_its_return_are_told_once() -> None:
    alerts = Alerts("1h", 60)
    newest = pd.Timestamp("2024-03-01 10:00", tz="UTC")
    assert alerts.producer("BTC/USDT", "p1", ProducerState(newest, 1, False)) == ()
    gone = alerts.producer("BTC/USDT", "p1", ProducerState(newest, 3, True))
    assert gone == (
        Alert(
            "⚠️ ITB BTC/USDT: no scores from producer 'p1' (newest 2024-03-01 10:00:00+00:00); "
            "entries paused.",
            logging.WARNING,
        ),
    )
    assert alerts.producer("BTC/USDT", "p1", ProducerState(newest, 4, True)) == ()
    assert texts(alerts.producer("BTC/USDT", "p1", ProducerState(newest, 0, False))) == [
        "ITB BTC/USDT: scores from producer 'p1' again; entries resume."
    ]
    assert texts(Alerts("1h", 60).producer("ETH/USDT", "p1", ProducerState(None, None, True))) == [
        "⚠️ ITB ETH/USDT: no scores from producer 'p1' (nothing received yet); entries paused."
    ]


def test_score_messages_follow_the_band_changes() -> None:
    alerts = Alerts("1h", 60)

    def told(score: float) -> list[str]:
        messages = alerts.score(
            "ETH/USDT",
            price=2000.0,
            score=score,
            secondary=None,
            close_minutes=61,  # no band frequency: only changes are told
            cfg=BANDS,
        )
        assert all(m.level == logging.DEBUG and m.always_send for m in messages)
        return texts(messages)

    assert told(0.0) == ["Ξ 2,000.0 Indicator: +0.00    1h"]  # the first score after a start
    assert told(0.05) == []
    assert told(0.12) == [" Ξ 2,000.0 Indicator: +0.12 ↑   BUY ZONE 1h"]
    assert told(float("nan")) == []  # no score: the band is kept
    assert told(0.15) == []
    assert told(-0.2) == [" Ξ 2,000.0 Indicator: -0.20 ↑   SELL ZONE 1h"]


def test_model_health_pause_and_resume_quote_the_figures() -> None:
    alerts = Alerts("1h", 60)
    assert alerts.model_health("BTC/USDT", paused=False, auc=0.6, hit_rate=0.5, cfg=HEALTH) == ()
    assert alerts.model_health("BTC/USDT", paused=True, auc=0.514, hit_rate=0.456, cfg=HEALTH) == (
        Alert(
            "⚠️ ITB BTC/USDT: live model quality below the floor for 6 candles (AUC 0.51, hit "
            "rate 0.46; floor AUC 0.55); entries paused.",
            logging.WARNING,
        ),
    )
    assert alerts.model_health("BTC/USDT", paused=True, auc=0.5, hit_rate=0.5, cfg=HEALTH) == ()
    assert alerts.model_health("BTC/USDT", paused=False, auc=0.6049, hit_rate=0.61, cfg=HEALTH) == (
        Alert(
            "ITB BTC/USDT: live model quality back above the floor (AUC 0.60, hit rate 0.61); "
            "entries resume.",
            logging.INFO,
        ),
    )


def test_an_entry_refusal_is_told_once_per_reason_and_utc_day() -> None:
    alerts = Alerts("1h", 60)
    morning = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    evening = datetime(2024, 3, 1, 23, 59, tzinfo=UTC)
    next_day = datetime(2024, 3, 2, 0, 0, tzinfo=UTC)
    assert alerts.entry_refused(None, morning) == ()
    assert alerts.entry_refused("daily loss limit 3 % reached", morning) == (
        Alert("ITB: daily loss limit 3 % reached.", logging.WARNING),
    )
    assert alerts.entry_refused("daily loss limit 3 % reached", evening) == ()
    assert texts(alerts.entry_refused("high volatility", evening)) == ["ITB: high volatility."]
    assert texts(alerts.entry_refused("daily loss limit 3 % reached", next_day)) == [
        "ITB: daily loss limit 3 % reached."
    ]


def test_the_kill_switch_tells_its_halt_once_and_a_cleared_halt_at_start_up() -> None:
    alerts = Alerts("1h", 60)
    clear = "itb-ext clear-halt --db-url 'sqlite:////bot/tradesv3.sqlite'"
    halt = Halt(since="2024-03-01 15:00 UTC", reason="daily loss 6.0 % (limit 5.0 %)")
    halted = alerts.kill_switch(halt, clear)
    assert halted == (
        Alert(
            "🛑 ITB kill switch: daily loss 6.0 % (limit 5.0 %) (since 2024-03-01 15:00 UTC). No "
            "new entries; every position is exited and open entry orders are cancelled. To "
            "resume, run itb-ext clear-halt --db-url 'sqlite:////bot/tradesv3.sqlite' and send "
            "/reload_config.",
            logging.ERROR,
        ),
    )
    assert alerts.kill_switch(halt, clear) == ()
    restarted = Alerts("1h", 60).kill_switch(halt, clear, at_start=True)
    assert restarted[0].text.startswith("🛑 ITB kill switch still in force at start-up: daily")
    assert Alerts("1h", 60).kill_switch(None, clear, at_start=True) == ()
    assert Alerts("1h", 60).kill_switch(None, clear, at_start=True, cleared=True) == (
        Alert(
            "ITB kill switch cleared: entries allowed again; losses count from now on.",
            logging.WARNING,
        ),
    )


def test_a_halt_the_database_refused_is_told_once_and_its_late_recording_too() -> None:
    alerts = Alerts("1h", 60)
    assert alerts.halt_recording(None) == () and alerts.halt_recording(RECORDED) == ()
    in_file = Recording(False, Path("/bot/tradesv3.sqlite.halt.json"), "OperationalError: locked")
    assert alerts.halt_recording(in_file) == (
        Alert(
            "⚠️ ITB kill switch: the trade database refused the halt (OperationalError: "
            "locked); it is kept in /bot/tradesv3.sqlite.halt.json instead, and moved into the "
            "database at the next start. The bot stays halted.",
            logging.ERROR,
        ),
    )
    assert alerts.halt_recording(in_file) == ()
    nowhere = Recording(False, None, "OperationalError: disk full", "cannot write (No space)")
    assert alerts.halt_recording(nowhere) == (
        Alert(
            "🛑 ITB kill switch: the halt could not be recorded (trade database: "
            "OperationalError: disk full; halt file: cannot write (No space)). The bot stays "
            "halted while it runs and retries the database every iteration; after a restart the "
            "kill switch's exits in the trade history halt it again.",
            logging.ERROR,
        ),
    )
    assert alerts.halt_recording(nowhere) == ()
    assert texts(alerts.halt_recording(RECORDED)) == [
        "ITB kill switch: the halt is now recorded in the trade database."
    ]
    assert alerts.halt_recording(RECORDED) == ()


def test_refused_producer_scores_are_told_once_per_candle() -> None:
    alerts = Alerts("1h", 60)
    candle = pd.Timestamp("2024-03-01 15:00", tz="UTC")
    refused = RefusedScore("high_30_lc", float("inf"), candle, 0.0, 1.0, 1)
    assert alerts.producer_scores("BTC/USDT", "signals", None) == ()
    assert alerts.producer_scores("BTC/USDT", "signals", refused) == (
        Alert(
            "⚠️ ITB BTC/USDT: producer 'signals' sent high_30_lc = inf for 2024-03-01 "
            "15:00:00+00:00, outside [0, 1]; such candles are not trusted (no entry, no exit "
            "signal).",
            logging.WARNING,
        ),
    )
    assert alerts.producer_scores("BTC/USDT", "signals", refused) == ()  # the same candle
    later = RefusedScore("trade_score", 1e9, candle + pd.Timedelta(hours=1), -1.0, 1.0, 2)
    assert texts(alerts.producer_scores("BTC/USDT", "signals", later)) == [
        "⚠️ ITB BTC/USDT: producer 'signals' sent trade_score = 1000000000.0 for 2024-03-01 "
        "16:00:00+00:00, outside [-1, 1] (2 candles received have such scores); such candles "
        "are not trusted (no entry, no exit signal)."
    ]
    assert alerts.producer_scores("ETH/USDT", "signals", refused) != ()  # per pair


def setup_with(bands: dict | None) -> ITBSetup:
    section = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    section["score_notification_model"] = bands
    section["risk"] = {"model_health": {"enabled": True, "min_auc": 0.55, "period": 6}}
    return ITBSetup.from_freqtrade_config({"itb": section})


def test_the_newest_candle_is_told_in_order_failure_trust_score_health() -> None:
    candles = pd.DataFrame(
        {
            "date": pd.date_range("2024-03-01", periods=2, freq="1h", tz="UTC"),
            "close": [0.5, 0.25],
            "do_predict": [1, 0],
            "trade_score": [0.0, -0.15],
            "health_pause": [0, 1],
            "health_auc": [0.7, 0.5],
            "health_hit_rate": [0.6, 0.4],
        }
    )
    bands = {
        "positive_bands": [{"edge": 0.1, "text": "BUY ZONE"}],
        "negative_bands": [{"edge": -0.1, "text": "SELL ZONE"}],
    }
    told = Alerts("1h", 60).for_candle(setup_with(bands), candles, "ETH/USDT", "ValueError: x")
    assert texts(told) == [
        "⚠️ ITB ETH/USDT: model training failed (ValueError: x); entries use the last good "
        "model or stay paused.",
        "⚠️ ITB ETH/USDT: no trusted prediction (do_predict=0); entries paused.",
        " Ξ 0.25000 Indicator: -0.15    SELL ZONE 1h",
        "⚠️ ITB ETH/USDT: live model quality below the floor for 6 candles (AUC 0.50, hit rate "
        "0.40; floor AUC 0.55); entries paused.",
    ]


def test_a_candle_without_do_predict_counts_as_untrusted_and_without_bands_as_silent() -> None:
    candles = pd.DataFrame({"date": [pd.Timestamp("2024-03-01", tz="UTC")], "close": [1.0]})
    told = Alerts("1h", 60).for_candle(setup_with(None), candles, "BTC/USDT", None)
    assert texts(told) == ["⚠️ ITB BTC/USDT: no trusted prediction (do_predict=0); entries paused."]
