"""Trading metrics after fees: marked-to-market daily equity, ratios and buy-and-hold."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from itb_ext.evaluation.metrics import (
    Trade,
    buy_and_hold_trades,
    daily_closes,
    equity_curve,
    metrics,
    period_days,
)

UTC = "UTC"


def day(d: int) -> pd.Timestamp:
    return pd.Timestamp("2019-01-01", tz=UTC) + pd.Timedelta(days=d)


def test_daily_closes_take_the_last_finished_candle() -> None:
    candles = pd.DataFrame(
        {
            "date": pd.date_range("2019-01-01", periods=4, freq="12h", tz=UTC),
            "close": [1.0, 2.0, 3.0, 4.0],
        }
    )
    # the 12:00 candle of day 0 ends at midnight: it is the close known at day 1 00:00
    closes = daily_closes(candles, pd.DatetimeIndex([day(0), day(1), day(2), day(3)]))
    assert closes.isna().tolist() == [True, False, False, False]
    assert closes.tolist()[1:] == [2.0, 4.0, 4.0]


def test_equity_is_marked_to_market_while_a_trade_is_open() -> None:
    days = pd.DatetimeIndex([day(d) for d in range(4)])
    closes = {"BTC/USD": pd.Series([100.0, 110.0, 90.0, 95.0], index=days)}
    trade = Trade("BTC/USD", day(0), day(2), 10.0, 100.0, -105.0, -0.105, 1.0)
    equity = equity_curve([trade], closes, days, 1000.0)
    # open on day 0 and day 1: 10 * (price - 100) - entry fee; closed from day 2: profit_abs
    assert equity.tolist() == [999.0, 1099.0, 895.0, 895.0]


def test_metrics_from_equity_and_trades() -> None:
    equity = pd.Series([100.0, 110.0, 99.0, 121.0])
    out = metrics(equity, [0.10, -0.05, 0.20])
    daily = np.array([0.1, -0.1, 22 / 99])
    assert out["return_%"] == pytest.approx(21.0)
    assert out["sharpe"] == pytest.approx(daily.mean() / daily.std() * math.sqrt(365))
    assert out["max_drawdown_%"] == pytest.approx(10.0)
    assert out["calmar"] == pytest.approx((1.21 ** (365 / 3) - 1) / 0.10)
    assert out["win_rate_%"] == pytest.approx(200 / 3)
    assert out["profit_factor"] == pytest.approx(0.30 / 0.05)
    assert out["avg_trade_%"] == pytest.approx(25 / 3)
    assert out["trades"] == 3


def test_no_trades_no_losses() -> None:
    out = metrics(pd.Series([100.0, 100.0, 100.0]), [])
    assert out["return_%"] == 0.0 and out["sharpe"] == 0.0 and out["trades"] == 0
    assert math.isnan(out["win_rate_%"]) and math.isnan(out["profit_factor"])


def test_buy_and_hold_pays_both_fees() -> None:
    dates = pd.date_range("2019-01-01", periods=48, freq="1h", tz=UTC)
    frame = pd.DataFrame({"date": dates, "open": 100.0, "close": 100.0})
    frame.loc[47, "close"] = 200.0
    rising = frame.copy()
    trades = buy_and_hold_trades(
        {"A/USD": frame, "B/USD": rising}, (day(0), day(2)), 1000.0, fee=0.01
    )
    assert len(trades) == 2
    # stake 500: 1 % entry fee, 4.95 coins, doubled, 1 % exit fee
    assert trades[0].amount == pytest.approx(4.95)
    assert trades[0].profit_ratio == pytest.approx(4.95 * 200 * 0.99 / 500 - 1)
    days = period_days((day(0), day(2)))
    closes = {p: daily_closes(frame, days) for p in ("A/USD", "B/USD")}
    equity = equity_curve(trades, closes, days, 1000.0)
    assert equity.iloc[0] == pytest.approx(990.0)
    assert equity.iloc[-1] == pytest.approx(1000.0 + 2 * (4.95 * 200 * 0.99 - 500))
