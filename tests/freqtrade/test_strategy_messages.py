"""ITBStrategy's messages in dry-run/live: score bands, paused and resumed entries, failures."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from freqtrade.configuration.load_config import load_from_files
from freqtrade.enums import RunMode

from tests.freqtrade.strategy_helpers import ROOT, RecordingProvider, load_strategy_class


class ModelState:
    def __init__(self) -> None:
        self.training_failures: dict[str, str] = {}


@pytest.fixture
def strategy() -> Any:
    config = load_from_files([str(ROOT / "user_data" / "config.demo-stationary.json")])
    config["runmode"] = RunMode.DRY_RUN
    strat = load_strategy_class()(config)
    strat.dp = RecordingProvider(RunMode.DRY_RUN)
    strat.freqai = ModelState()
    return strat


def candles(strategy: Any, up: list[float], do_predict: list[int]) -> pd.DataFrame:
    n = len(up)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "close": [0.5] * n,
            "do_predict": do_predict,
        }
    )
    for column in strategy.itb.score_columns:
        frame[column] = 0.5
    for algo in ("svc", "lc", "gb"):
        frame[f"high_30_{algo}"] = up
    return frame


def run_candles(strategy: Any, frame: pd.DataFrame) -> list[str]:
    for i in range(1, len(frame) + 1):
        strategy.populate_entry_trend(frame.iloc[:i].copy(), {"pair": "ETH/USD"})
    sent: list[str] = strategy.dp.sent
    return sent


def test_score_bands_are_announced_on_every_band_change(strategy: Any) -> None:
    # trade_score = up - 0.5: 0.0, +0.03 (weak), +0.05 (strong), +0.10 (BUY ZONE), -0.10 (SELL ZONE)
    frame = candles(strategy, [0.5, 0.53, 0.55, 0.6, 0.4], [1, 1, 1, 1, 1])
    sent = run_candles(strategy, frame)
    assert sent == [
        "Ξ 0.50000 Indicator: +0.00    1h",
        "〉 Ξ 0.50000 Indicator: +0.03 ↑   weak 1h",
        "〉〉 Ξ 0.50000 Indicator: +0.05 ↑   strong 1h",
        "*〉〉〉📈 Ξ 0.50000 Indicator: +0.10 ↑   BUY ZONE 1h*",
        "*〈〈〈📉 Ξ 0.50000 Indicator: -0.10 ↑   SELL ZONE 1h*",
    ]


def test_untrusted_predictions_pause_entries_and_say_so_once(strategy: Any) -> None:
    frame = candles(strategy, [0.6, 0.6, 0.6, 0.6], [1, 0, 0, 1])
    entries = []
    for i in range(1, len(frame) + 1):
        out = strategy.populate_entry_trend(frame.iloc[:i].copy(), {"pair": "ETH/USD"})
        entries.append(out["enter_long"].iloc[-1] == 1)
    assert entries == [True, False, False, True]
    warnings = [m for m in strategy.dp.sent if "entries" in m]
    assert warnings == [
        "⚠️ ITB ETH/USD: no trusted prediction (do_predict=0); entries paused.",
        "ITB ETH/USD: predictions trusted again, entries resume.",
    ]


def test_a_failed_training_is_announced_once(strategy: Any) -> None:
    strategy.freqai.training_failures["ETH/USD"] = "DataError: training: no row has all features"
    run_candles(strategy, candles(strategy, [0.5, 0.5], [1, 1]))
    failures = [m for m in strategy.dp.sent if "training failed" in m]
    assert failures == [
        "⚠️ ITB ETH/USD: model training failed (DataError: training: no row has all features); "
        "entries use the last good model or stay paused."
    ]


def test_no_messages_outside_dry_run_and_live(strategy: Any) -> None:
    strategy.dp = RecordingProvider(RunMode.BACKTEST)
    run_candles(strategy, candles(strategy, [0.6, 0.4], [1, 0]))
    assert strategy.dp.sent == []
