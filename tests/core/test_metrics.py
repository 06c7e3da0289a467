"""The one set of metric definitions, on tiny hand-computed inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score

from itb_ext.errors import DataError
from itb_ext.evaluation import metrics as m

UTC = "UTC"


def day(d: int) -> pd.Timestamp:
    return pd.Timestamp("2019-01-01", tz=UTC) + pd.Timedelta(days=d)


# --- model skill ------------------------------------------------------------------------------


def test_roc_auc_counts_ordered_pairs_and_ties_half() -> None:
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4, 0.4>0.1) = 3.5/4
    assert m.roc_auc([1, 0, 1, 0], [0.8, 0.4, 0.4, 0.1]) == 0.875
    assert m.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert math.isnan(m.roc_auc([1, 1], [0.1, 0.2]))
    assert math.isnan(m.roc_auc([], []))


def test_auc_from_ranks_gives_one_auc_per_row_and_skips_uncounted_rows() -> None:
    # row 0: the four scores above; row 1: the last entry is not counted (ranked above all)
    scores = np.array([[0.8, 0.4, 0.4, 0.1], [0.9, 0.2, 0.5, np.inf]])
    positive = np.array([[True, False, True, False], [True, False, False, False]])
    out = m.auc_from_ranks(rankdata(scores, axis=1), positive, np.array([4, 3]))
    # row 1: the positive 0.9 beats both counted negatives 0.2 and 0.5
    assert out.tolist() == [0.875, 1.0]
    lonely = m.auc_from_ranks(rankdata([[0.1, 0.2]], axis=1), np.array([[True, True]]), 2)
    assert np.isnan(lonely).all()


def test_average_precision_by_hand() -> None:
    # descending: 0.9(+) 0.8(-) 0.7(+) 0.1(-): precisions at the positives 1/1 and 2/3
    assert m.average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(
        (1.0 + 2 / 3) / 2, abs=1e-15
    )
    assert math.isnan(m.average_precision([0, 0], [0.1, 0.2]))


def test_auc_and_average_precision_agree_with_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.3
    s = np.round(rng.random(300), 1)  # many ties
    assert m.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert m.average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_brier_score() -> None:
    assert m.brier_score([1, 0], [0.5, 0.25]) == (0.25 + 0.0625) / 2


def test_reliability_curve_bins_and_leaves_out_empty_ones() -> None:
    table = m.reliability_curve([1, 0, 0, 1, 1], [0.05, 0.1, 0.15, 0.95, 1.0], bins=2)
    assert table["count"].tolist() == [3, 2]
    assert table["mean_predicted"].tolist() == pytest.approx([0.1, 0.975])
    assert table["observed"].tolist() == pytest.approx([1 / 3, 1.0])
    table = m.reliability_curve([1, 0], [0.05, 0.06], bins=10)
    assert table["bin_low"].tolist() == [0.0]


def test_forward_return_up_and_directional_auc() -> None:
    close = [10.0, 11.0, 10.5, 10.5, 12.0]
    up = m.forward_return_up(close, 1)
    assert up.tolist() == [True, False, pd.NA, True, pd.NA]
    # scores rank the two up moves above the one down move
    assert m.directional_auc([0.5, -0.2, 9.0, 0.1, 9.0], close, 1) == 1.0
    assert m.directional_auc([-0.5, 0.2, 0.0, -0.1, 0.0], close, 1) == 0.0


# --- equity and ratios ------------------------------------------------------------------------


def test_drawdown_return_and_calmar() -> None:
    equity = [100.0, 120.0, 90.0, 130.0]
    assert m.drawdown(equity).tolist() == [0.0, 0.0, 0.25, 0.0]
    assert m.max_drawdown(equity) == 0.25
    assert m.total_return(equity) == pytest.approx(0.3)
    assert m.annual_growth([100.0, 121.0], 2.0) == pytest.approx(0.1)
    assert m.annual_growth([100.0, 0.0], 2.0) == -1.0
    assert m.calmar_ratio([100.0, 80.0, 121.0], 2.0) == pytest.approx(0.1 / 0.2)
    assert math.isnan(m.calmar_ratio([100.0, 110.0], 1.0))


def test_sharpe_ratio_uses_the_sample_deviation_and_is_nan_when_flat() -> None:
    # mean 0.01, sample deviation 0.01 -> 1.0 per period, x sqrt(4)
    assert m.sharpe_ratio([0.0, 0.01, 0.02], 4) == pytest.approx(2.0)
    assert math.isnan(m.sharpe_ratio([0.01], 365))
    assert math.isnan(m.sharpe_ratio([0.01, 0.01], 365))
    assert math.isnan(m.sharpe_ratio([0.0, 0.0, 0.0], 365))


def test_sortino_ratio_divides_by_the_downside_deviation() -> None:
    # mean 0.01; downside sqrt((0 + 0.01^2 + 0 + 0) / 4) = 0.005
    returns = [0.02, -0.01, 0.03, 0.0]
    assert m.sortino_ratio(returns, 4) == pytest.approx(0.01 / 0.005 * 2)
    assert math.isnan(m.sortino_ratio([0.01, 0.02], 365))  # no losing period
    assert math.isnan(m.sortino_ratio([-0.01], 365))


def test_trade_statistics_and_their_empty_cases() -> None:
    profits = [0.02, -0.01, 0.03, -0.02]
    assert m.win_rate(profits) == 0.5
    assert m.profit_factor(profits) == pytest.approx(0.05 / 0.03)
    assert m.average_trade(profits) == pytest.approx(0.005)
    assert m.profit_factor([0.01]) == math.inf
    assert math.isnan(m.profit_factor([]))
    assert math.isnan(m.win_rate([]))
    assert math.isnan(m.average_trade([]))


def test_closed_trade_equity_starts_with_the_balance() -> None:
    assert m.closed_trade_equity([100.0, -150.0], 1000.0).tolist() == [1000.0, 1100.0, 950.0]
    assert m.closed_trade_equity([], 5.0).tolist() == [5.0]


def test_trading_metrics_of_a_daily_curve() -> None:
    equity = pd.Series([100.0, 110.0, 99.0, 121.0], index=pd.date_range(day(0), periods=4))
    out = m.trading_metrics(equity, [0.10, -0.05, 0.20])
    daily = np.array([0.1, -0.1, 22 / 99])
    assert out["return_%"] == pytest.approx(21.0)
    assert out["sharpe"] == pytest.approx(daily.mean() / daily.std(ddof=1) * math.sqrt(365))
    assert out["sortino"] == pytest.approx(daily.mean() / math.sqrt(0.01 / 3) * math.sqrt(365))
    assert out["max_drawdown_%"] == pytest.approx(10.0)
    assert out["calmar"] == pytest.approx((1.21 ** (365 / 3) - 1) / 0.10)
    assert out["win_rate_%"] == pytest.approx(200 / 3)
    assert out["profit_factor"] == pytest.approx(0.30 / 0.05)
    assert out["average_trade_%"] == pytest.approx(25 / 3)
    assert out["trades"] == 3


def test_a_flat_account_without_trades_has_no_ratios() -> None:
    out = m.trading_metrics(pd.Series([100.0] * 3, index=pd.date_range(day(0), periods=3)), [])
    assert out["return_%"] == 0.0 and out["trades"] == 0
    for name in ("sharpe", "sortino", "calmar", "win_rate_%", "profit_factor", "average_trade_%"):
        assert math.isnan(out[name]), name


def test_trading_metrics_refuse_equity_not_marked_daily() -> None:
    hourly = pd.Series([1.0, 2.0], index=pd.date_range(day(0), periods=2, freq="1h"))
    with pytest.raises(DataError, match="marked once a day"):
        m.trading_metrics(hourly, [])


# --- daily marking and buy-and-hold -----------------------------------------------------------


def test_daily_closes_take_the_last_finished_candle() -> None:
    candles = pd.DataFrame(
        {"date": pd.date_range(day(0), periods=4, freq="12h"), "close": [1.0, 2.0, 3.0, 4.0]}
    )
    # the 12:00 candle of day 0 ends at midnight: it is the close known at day 1 00:00
    closes = m.daily_closes(candles, pd.DatetimeIndex([day(0), day(1), day(2), day(3)]))
    assert closes.isna().tolist() == [True, False, False, False]
    assert closes.tolist()[1:] == [2.0, 4.0, 4.0]


def test_equity_is_marked_to_market_while_a_trade_is_open() -> None:
    days = pd.DatetimeIndex([day(d) for d in range(5)])
    closes = {"BTC/USD": pd.Series([100.0, 100.0, 110.0, 90.0, 95.0], index=days)}
    trade = m.Trade("BTC/USD", day(1), day(3), 10.0, 100.0, -105.0, -0.105, 1.0)
    equity = m.equity_curve([trade], closes, days, 1000.0)
    # open on days 1 and 2: 10 * (price - 100) - entry fee; closed from day 3: profit_abs
    assert equity.tolist() == [1000.0, 999.0, 1099.0, 895.0, 895.0]


def test_the_first_mark_is_the_balance_before_any_fill() -> None:
    days = pd.DatetimeIndex([day(0), day(1)])
    closes = {"BTC/USD": pd.Series([100.0, 120.0], index=days)}
    trade = m.Trade("BTC/USD", day(0), day(1), 10.0, 100.0, 190.0, 0.19, 1.0)
    assert m.equity_curve([trade], closes, days, 1000.0).tolist() == [1000.0, 1190.0]


def hourly(start: pd.Timestamp, opens: list[float], closes: list[float]) -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(opens), freq="1h")
    return pd.DataFrame({"date": dates, "open": opens, "close": closes})


def test_buy_and_hold_buys_the_first_open_sells_the_last_close_and_pays_both_fees() -> None:
    # 48 hourly candles over two days; candles outside the period are ignored
    opens = [50.0] * 24 + [100.0] + [100.0] * 47 + [70.0] * 24
    closes = [50.0] * 24 + [100.0] * 23 + [150.0] + [100.0] * 23 + [200.0] + [70.0] * 24
    frame = hourly(day(-1), opens, closes)
    period = (day(0), day(2))
    fee, slip = 0.01, 0.001
    account = m.buy_and_hold({"A/USD": frame}, period, 1000.0, fee, slip)
    (trade,) = account.trades
    entry, exit_ = 100.0 * (1 + slip), 200.0 * (1 - slip)
    amount = 1000.0 / (entry * (1 + fee))  # the whole stake, its entry fee included
    assert (trade.open_rate, trade.close_rate) == (pytest.approx(entry), pytest.approx(exit_))
    assert trade.amount == pytest.approx(amount)
    assert trade.profit_ratio == pytest.approx((1 - fee) / (1 + fee) * exit_ / entry - 1)
    assert (trade.open_date, trade.close_date) == (day(0), day(2))
    # midnights 0, 1, 2: the balance; the position at day 0's last close (150); the sale
    assert account.equity.index.tolist() == [day(0), day(1), day(2)]
    sold = amount * exit_ * (1 - fee)
    assert account.equity.tolist() == pytest.approx([1000.0, amount * 150.0, sold])


def test_buy_and_hold_of_two_pairs_stakes_them_equally() -> None:
    rising = hourly(day(0), [100.0] * 24, [100.0] * 23 + [200.0])
    flat = hourly(day(0), [10.0] * 24, [10.0] * 24)
    account = m.buy_and_hold({"A": rising, "B": flat}, (day(0), day(1)), 1000.0, 0.0)
    assert account.equity.tolist() == pytest.approx([1000.0, 500.0 * 2 + 500.0])
    assert [t.profit_ratio for t in account.trades] == pytest.approx([1.0, 0.0])
    assert account.metrics()["return_%"] == pytest.approx(50.0)


def test_buy_and_hold_without_candles_in_the_period_is_a_data_error() -> None:
    frame = hourly(day(0), [1.0] * 3, [1.0] * 3)
    with pytest.raises(DataError, match="A/USD: no candles between"):
        m.buy_and_hold({"A/USD": frame}, (day(5), day(6)), 1000.0, 0.001)
