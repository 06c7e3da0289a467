"""The one reader of a FreqTrade backtest result and of FreqAI's stored predictions, on files
written here in FreqTrade's layout."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from itb_ext.errors import DataError
from itb_ext.evaluation.stored import (
    read_backtest_result,
    read_backtest_stats,
    read_window_predictions,
)

TRADE = {
    "pair": "BTC/USD",
    "open_date": "2019-01-02 05:00:00+00:00",
    "close_date": "2019-01-03 07:00:00+00:00",
    "amount": 0.5,
    "open_rate": 4000.0,
    "close_rate": 4100.0,
    "stake_amount": 2000.0,
    "fee_open": 0.001,
    "profit_abs": 45.9,
    "profit_ratio": 0.0229,
    "exit_reason": "exit_signal",
}


def strategy_stats(trades: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "trades": trades,
        "starting_balance": 10_000.0,
        "backtest_start": "2019-01-01 00:00:00",
        "backtest_end": "2019-02-01 00:00:00",
        "pairlist": ["BTC/USD"],
        "timeframe": "1h",
    }


def write_result(folder: Path, strategies: dict[str, Any]) -> Path:
    """A backtest result as FreqTrade exports it: a zip holding ``<name>.json``, named by
    ``.last_result.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    name = "backtest-result-2024-01-01_00-00-00"
    with zipfile.ZipFile(folder / f"{name}.zip", "w") as bundle:
        bundle.writestr(f"{name}.json", json.dumps({"strategy": strategies}))
    (folder / ".last_result.json").write_text(json.dumps({"latest_backtest": f"{name}.zip"}))
    return folder / f"{name}.zip"


def test_result_of_the_newest_backtest_in_a_folder(tmp_path: Path) -> None:
    short = {**TRADE, "close_date": "2019-01-02 09:00:00+00:00", "is_short": True}
    archive = write_result(tmp_path, {"ITBStrategy": strategy_stats([TRADE, short])})
    result = read_backtest_result(tmp_path)
    assert read_backtest_result(archive).trades.equals(result.trades)
    assert result.starting_balance == 10_000.0 and result.fee == 0.001
    # FreqTrade backtests the end candle too: the period ends one candle after it
    assert result.period == (
        pd.Timestamp("2019-01-01", tz="UTC"),
        pd.Timestamp("2019-02-01 01:00", tz="UTC"),
    )
    first, second = result.closed_trades()  # in closing order
    assert first.amount == -0.5 and second.amount == 0.5
    assert second.close_date == pd.Timestamp("2019-01-03 07:00", tz="UTC")
    assert second.entry_fee == pytest.approx(2.0)
    assert (second.close_rate, second.exit_reason) == (4100.0, "exit_signal")
    assert read_backtest_stats(tmp_path)["strategy"]["ITBStrategy"]["timeframe"] == "1h"


def test_the_only_strategy_or_a_named_one(tmp_path: Path) -> None:
    write_result(tmp_path / "one", {"FreqaiExampleStrategy": strategy_stats([])})
    assert read_backtest_result(tmp_path / "one", strategy=None).closed_trades() == []
    write_result(tmp_path / "two", {"A": strategy_stats([]), "B": strategy_stats([TRADE])})
    assert len(read_backtest_result(tmp_path / "two", strategy="B").trades) == 1
    with pytest.raises(DataError, match="2 strategies in the result, name one"):
        read_backtest_result(tmp_path / "two", strategy=None)
    with pytest.raises(DataError, match="no result of strategy ITBStrategy"):
        read_backtest_result(tmp_path / "two")


def test_missing_or_broken_results_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no backtest result in this folder"):
        read_backtest_stats(tmp_path)
    broken = tmp_path / "broken.zip"
    broken.write_text("not a zip")
    with pytest.raises(DataError, match="not a FreqTrade backtest result"):
        read_backtest_stats(broken)


def test_window_predictions_keep_the_newest_window_of_each_candle(tmp_path: Path) -> None:
    folder = tmp_path / "backtesting_predictions"
    folder.mkdir()
    dates = pd.date_range("2019-01-01", periods=3, freq="1h", tz="UTC")
    first = pd.Timestamp("2018-12-01", tz="UTC")
    second = pd.Timestamp("2019-01-01 02:00", tz="UTC")
    pd.DataFrame({"date": dates, "p": [0.1, 0.2, 0.3]}).to_feather(
        folder / f"cb_btc_{int(first.timestamp())}_prediction.feather"
    )
    pd.DataFrame({"date": dates[2:], "p": [0.9]}).to_feather(
        folder / f"cb_btc_{int(second.timestamp())}_prediction.feather"
    )
    frame = read_window_predictions(tmp_path, "BTC/USD")
    assert frame["p"].tolist() == [0.1, 0.2, 0.9]
    assert frame["window"].tolist() == [first, first, second]
    with pytest.raises(DataError, match="no stored predictions for ETH/USD"):
        read_window_predictions(tmp_path, "ETH/USD")
