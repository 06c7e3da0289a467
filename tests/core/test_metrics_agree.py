"""The demo, the report and the comparison table print the same buy-and-hold for the same
candles and period: each figure is taken from the code path that prints it, and checked against
a computation by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from itb_ext.demo import compare
from itb_ext.demo import run as demo
from itb_ext.evaluation.report import trading_tables
from itb_ext.evaluation.stored import BacktestResult

FEE = 0.001
BALANCE = 10_000.0
START = pd.Timestamp("2019-03-01 00:00", tz="UTC")
# the last backtested candle (FreqTrade's backtest_end): 5 days of hourly candles
END = pd.Timestamp("2019-03-05 23:00", tz="UTC")


def candles(seed: int) -> pd.DataFrame:
    """Hourly candles from a day before the period to a day after it."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(START - pd.Timedelta(days=1), END + pd.Timedelta(days=1), freq="1h")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates))))
    opens = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.001, len(dates)))
    return pd.DataFrame({"date": dates, "open": opens, "close": close})


@pytest.fixture
def pairs() -> dict[str, pd.DataFrame]:
    return {"BTC/USD": candles(1), "ETH/USD": candles(2)}


def by_hand(pairs: dict[str, pd.DataFrame]) -> tuple[float, float]:
    """Return and Sharpe of equal stakes bought at the first open and sold at the last close,
    marked at each midnight at the close of the candle that ends then."""
    stake = BALANCE / len(pairs)
    midnights = pd.date_range("2019-03-02", "2019-03-05", freq="D", tz="UTC")
    marks = np.zeros(len(midnights))
    proceeds = 0.0
    for frame in pairs.values():
        indexed = frame.set_index("date")
        amount = stake / (indexed.loc[START, "open"] * (1 + FEE))
        marks += amount * indexed.loc[midnights - pd.Timedelta(hours=1), "close"].to_numpy()
        proceeds += amount * indexed.loc[END, "close"] * (1 - FEE)
    # 03-01 the cash before buying; 03-02..03-05 the positions; 03-06 00:00 after the sale
    equity = np.r_[BALANCE, marks, proceeds]
    daily = equity[1:] / equity[:-1] - 1
    return 100 * (proceeds / BALANCE - 1), daily.mean() / daily.std(ddof=1) * math.sqrt(365)


def test_demo_report_and_comparison_print_the_same_buy_and_hold(
    pairs: dict[str, pd.DataFrame],
) -> None:
    backtest = BacktestResult(pd.DataFrame(), BALANCE, FEE, START, END, timeframe="1h")
    period = backtest.period

    shown_by_demo = demo.buy_and_hold_table(pairs, period, FEE, BALANCE)
    demo_row = shown_by_demo.set_index("pairs").loc[demo.ALL_PAIRS]
    _, trading = trading_tables(pairs, backtest, FEE)
    report_row = trading.set_index("curve").loc["buy_and_hold"]
    comparison_row = compare.comparison_table({}, pairs, period, FEE, BALANCE).iloc[-1]

    expected_return, expected_sharpe = by_hand(pairs)
    for row in (demo_row, report_row, comparison_row):
        assert row["return_%"] == pytest.approx(expected_return, rel=1e-12)
        assert row["sharpe"] == pytest.approx(expected_sharpe, rel=1e-12)
    assert demo_row["return_%"] == report_row["return_%"] == comparison_row["return_%"]
    assert demo_row["sharpe"] == report_row["sharpe"] == comparison_row["sharpe"]


def test_every_buy_and_hold_line_says_after_fees_and_the_fee(
    pairs: dict[str, pd.DataFrame],
) -> None:
    from itb_ext.evaluation.report import trading_heading

    backtest = BacktestResult(pd.DataFrame(), BALANCE, FEE, START, END, timeframe="1h")
    table = compare.comparison_table({}, pairs, backtest.period, FEE, BALANCE)
    for line in (
        demo.buy_and_hold_heading(FEE),
        trading_heading(FEE),
        compare.to_markdown(table).splitlines()[-1],
    ):
        assert "after fees" in line and "0.10% per side" in line, line
