"""The report's tables on a small synthetic backtest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.evaluation import metrics
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


def test_trading_section_marks_the_trades_daily_after_fees(setup: ITBSetup) -> None:
    data = synthetic(setup, levels=False)
    dates, close = data.candles["date"], data.candles["close"]
    fee = 0.001
    trades = pd.DataFrame(
        {
            "pair": "BTC/USD",
            "open_date": [dates[250], dates[350]],
            "close_date": [dates[300], dates[380]],
            "amount": [2.0, 1.0],
            "open_rate": [close[250], close[350]],
            "close_rate": [close[300], close[380]],
            "stake_amount": [2.0 * close[250], close[350]],
            "fee_open": fee,
            "profit_abs": [50.0, -20.0],
            "profit_ratio": [0.05, -0.02],
        }
    )
    backtest = BacktestResult(trades, 1000.0, fee, dates[200], dates[399], timeframe="1h")
    report = build_report(setup, [data], backtest, fee=fee)
    equity = report.equity.set_index("date")["strategy"]
    # marks at the midnights from the first candle's day to the day after the last candle
    assert equity.index[0] == pd.Timestamp("2024-01-09", tz="UTC")
    assert equity.index[-1] == pd.Timestamp("2024-01-18", tz="UTC")
    assert equity.iloc[0] == 1000.0 and equity.iloc[-1] == 1030.0
    # 2024-01-12 00:00 lies inside the first trade: marked at the close of the 23:00 candle
    inside = pd.Timestamp("2024-01-12", tz="UTC")
    last_close = close[dates == inside - pd.Timedelta(hours=1)].iloc[0]
    entry_fee = 2.0 * close[250] * fee
    assert equity[inside] == pytest.approx(1000.0 + 2.0 * (last_close - close[250]) - entry_fee)
    strategy = report.trading.set_index("curve").loc["strategy"]
    assert strategy["return_%"] == pytest.approx(3.0)
    assert strategy["win_rate_%"] == 50.0
    assert strategy["profit_factor"] == pytest.approx(0.05 / 0.02)
    hold = report.trading.set_index("curve").loc["buy_and_hold"]
    # bought at the open of the first candle, sold at the close of the last (candle 399)
    opens = data.candles["open"]
    expected = 100 * ((1 - fee) / (1 + fee) * close[399] / opens[200] - 1)
    assert hold["return_%"] == pytest.approx(expected)
    assert "buy_and_hold after fees of 0.10% per side" in summary_text(report)
