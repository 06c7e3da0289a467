"""The report's tables on a small synthetic backtest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.evaluation import report_metrics as metrics
from itb_ext.evaluation.report import PairData, build_report, summary_text
from itb_ext.evaluation.stored import BacktestResult
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup() -> ITBSetup:
    section = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    return ITBSetup.from_freqtrade_config({"itb": section})


def synthetic(setup: ITBSetup, levels: bool) -> PairData:
    rng = np.random.default_rng(5)
    dates = pd.date_range("2024-01-01", periods=600, freq="1h", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates))))
    candles = pd.DataFrame(
        {
            "date": dates,
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1.0,
        }
    )
    predicted = dates[200:400]
    preds = pd.DataFrame({"date": predicted, "do_predict": 1})
    for column in setup.score_columns:
        preds[column] = rng.random(len(predicted))
    preds["window"] = np.where(predicted < dates[300], dates[200], dates[300])
    if levels:
        preds["buy_threshold"] = np.where(predicted < dates[300], 0.1, 0.2)
        preds["sell_threshold"] = -0.1
    return PairData("BTC/USD", candles, preds)


def test_quality_per_window_and_overall_and_the_levels_in_force(setup: ITBSetup) -> None:
    data = synthetic(setup, levels=True)
    report = build_report(setup, [data], None, fee=0.001)
    q = report.quality
    assert sorted(q["window"].unique()) == ["2024-01-09", "2024-01-13", "all"]
    assert len(q) == 3 * len(setup.score_columns)
    labels = setup.label_frame(data.candles).assign(date=data.candles["date"])
    joined = data.predictions.merge(labels, on="date")
    first = joined[joined["window"] == joined["window"].min()]
    known = first["high_30"].notna()
    row = q[(q["window"] == "2024-01-09") & (q["model"] == "high_30_lc")].iloc[0]
    assert row["candles"] == known.sum()
    assert row["auc"] == metrics.roc_auc(
        first.loc[known, "high_30"].astype(bool), first.loc[known, "high_30_lc"]
    )
    assert report.levels["buy_threshold"].tolist() == [0.1] * 100 + [0.2] * 100
    assert "no stored models" in report.notes[0]
    assert "no backtest result" in report.notes[1]
    assert "mean out-of-sample AUC over 6 models" in summary_text(report)


def test_fixed_levels_come_from_the_config(setup: ITBSetup) -> None:
    report = build_report(setup, [synthetic(setup, levels=False)], None, fee=0.001)
    assert set(report.levels["buy_threshold"]) == {0.08}
    assert set(report.levels["sell_threshold"]) == {-0.08}


def test_trading_section_books_the_trades_after_fees(setup: ITBSetup) -> None:
    data = synthetic(setup, levels=False)
    dates = data.candles["date"]
    trades = pd.DataFrame(
        {
            "close_date": [dates[250], dates[350]],
            "profit_abs": [50.0, -20.0],
            "profit_ratio": [0.05, -0.02],
        }
    )
    backtest = BacktestResult(trades, 1000.0, 0.001, dates[200], dates[399])
    report = build_report(setup, [data], backtest, fee=0.001)
    assert report.equity["strategy"].iloc[-1] == 1030.0
    strategy = report.trading.set_index("curve").loc["strategy"]
    assert strategy["return_%"] == pytest.approx(3.0)
    assert strategy["win_rate_%"] == 50.0
    hold = report.trading.set_index("curve").loc["buy_and_hold"]
    closes = data.candles.set_index("date")["close"]
    expected = 100 * (closes[dates[399]] / closes[dates[200]] * 0.999**2 - 1)
    assert hold["return_%"] == pytest.approx(expected)
