"""ITBStrategy's entry and exit columns from the model scores, long and (futures) short."""

from __future__ import annotations

from typing import Any

import pandas as pd
from freqtrade.configuration.load_config import load_from_files
from freqtrade.enums import RunMode

from tests.freqtrade.strategy_helpers import ROOT, RecordingProvider, load_strategy_class


def make_strategy(**overrides: Any) -> Any:
    config = load_from_files([str(ROOT / "user_data" / "config.demo-stationary.json")])
    config.update(overrides)
    config["runmode"] = RunMode.BACKTEST
    strategy = load_strategy_class()(config)
    strategy.dp = RecordingProvider(RunMode.BACKTEST)
    strategy.ft_load_hyper_params(False)  # what FreqTrade does at bot start
    return strategy


def scored(
    strategy: Any, up: list[float], down: list[float], do_predict: list[int]
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=len(up), freq="1h", tz="UTC"),
            "close": 100.0,
            "do_predict": do_predict,
        }
    )
    for algo in ("svc", "lc", "gb"):
        frame[f"high_30_{algo}"] = up
        frame[f"low_30_{algo}"] = down
    return frame


def signals(strategy: Any, frame: pd.DataFrame) -> pd.DataFrame:
    frame = strategy.populate_entry_trend(frame, {"pair": "BTC/USD"})
    return strategy.populate_exit_trend(frame, {"pair": "BTC/USD"})


def column(frame: pd.DataFrame, name: str) -> list[int]:
    if name not in frame:
        return [0] * len(frame)
    return frame[name].fillna(0).astype(int).tolist()


def test_spot_enters_long_on_buy_levels_and_exits_on_sell_levels() -> None:
    strategy = make_strategy()
    assert strategy.can_short is False
    # trade_score = up - down: +0.125, +0.0625, -0.125, +0.125 (untrusted), 0.0
    frame = signals(
        strategy,
        scored(
            strategy, [0.5, 0.5, 0.375, 0.625, 0.5], [0.375, 0.4375, 0.5, 0.5, 0.5], [1, 1, 1, 0, 1]
        ),
    )
    assert frame["trade_score"].tolist() == [0.125, 0.0625, -0.125, 0.125, 0.0]
    assert column(frame, "enter_long") == [1, 0, 0, 0, 0]  # +0.125 untrusted at row 3
    assert column(frame, "exit_long") == [0, 0, 1, 0, 0]
    assert column(frame, "enter_short") == [0, 0, 0, 0, 0]
    assert frame["buy_threshold"].iloc[0] == 0.08 and frame["sell_threshold"].iloc[0] == -0.08


def test_futures_also_enter_short_on_sell_levels_and_cover_on_buy_levels() -> None:
    strategy = make_strategy(trading_mode="futures", margin_mode="isolated")
    assert strategy.can_short is True
    frame = signals(
        strategy, scored(strategy, [0.5, 0.375, 0.375, 0.5], [0.375, 0.5, 0.5, 0.5], [1, 1, 0, 1])
    )
    assert column(frame, "enter_short") == [0, 1, 0, 0]  # row 2 is a sell level but untrusted
    assert column(frame, "exit_short") == [1, 0, 0, 0]
    assert column(frame, "enter_long") == [1, 0, 0, 0]
    assert column(frame, "exit_long") == [0, 1, 0, 0]  # nor does an untrusted row exit


def test_an_untrusted_candle_sets_no_exit_signal() -> None:
    strategy = make_strategy(trading_mode="futures", margin_mode="isolated")
    # trade_score -0.125 (a sell level) on every row; +0.125 (a buy level) on the last two
    frame = scored(
        strategy, [0.375, 0.375, 0.375, 0.5, 0.5], [0.5] * 3 + [0.375] * 2, [1, 0, -1, 1, 0]
    )
    frame = signals(strategy, frame)
    assert column(frame, "exit_long") == [1, 0, 0, 0, 0]
    assert column(frame, "exit_short") == [0, 0, 0, 1, 0]
    assert frame["exit_tag"].fillna("").tolist() == ["itb_sell", "", "", "itb_buy", ""]


def test_hyperopt_parameters_change_the_signals() -> None:
    strategy = make_strategy()
    frame = scored(strategy, [0.5, 0.5], [0.375, 0.4375], [1, 1])
    assert column(signals(strategy, frame.copy()), "enter_long") == [1, 0]
    strategy.buy_threshold.value = 0.05
    assert column(signals(strategy, frame.copy()), "enter_long") == [1, 1]
    strategy.combine_mode.value = "relative"  # (u - d) / (u + d) = 0.142..., 0.0666...
    strategy.buy_threshold.value = 0.1
    assert column(signals(strategy, frame.copy()), "enter_long") == [1, 0]
