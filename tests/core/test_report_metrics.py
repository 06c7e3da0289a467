"""Exact values of the report's statistics on tiny hand-computed inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from itb_ext.evaluation import report_metrics as m


def test_roc_auc_counts_ordered_pairs_and_ties_half() -> None:
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4, 0.4>0.1) = 3.5/4
    assert m.roc_auc([1, 0, 1, 0], [0.8, 0.4, 0.4, 0.1]) == 0.875
    assert m.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert math.isnan(m.roc_auc([1, 1], [0.1, 0.2]))


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


def test_drawdown_return_and_calmar() -> None:
    equity = [100.0, 120.0, 90.0, 130.0]
    assert m.drawdown(equity).tolist() == [0.0, 0.0, 0.25, 0.0]
    assert m.max_drawdown(equity) == 0.25
    assert m.total_return(equity) == pytest.approx(0.3)
    assert m.annual_growth([100.0, 121.0], 2.0) == pytest.approx(0.1)
    assert m.calmar_ratio([100.0, 80.0, 121.0], 2.0) == pytest.approx(0.1 / 0.2)
    assert math.isnan(m.calmar_ratio([100.0, 110.0], 1.0))


def test_sharpe_ratio() -> None:
    # mean 0.01, sample deviation 0.01 -> 1.0 per period, x sqrt(4)
    assert m.sharpe_ratio([0.0, 0.01, 0.02], 4) == pytest.approx(2.0)
    assert math.isnan(m.sharpe_ratio([0.01], 365))
    assert math.isnan(m.sharpe_ratio([0.01, 0.01], 365))


def test_trade_statistics() -> None:
    profits = [0.02, -0.01, 0.03, -0.02]
    assert m.win_rate(profits) == 0.5
    assert m.profit_factor(profits) == pytest.approx(0.05 / 0.03)
    assert m.average_trade(profits) == pytest.approx(0.005)
    assert m.profit_factor([0.01]) == math.inf
    assert math.isnan(m.win_rate([]))


def test_equity_books_each_profit_at_the_trade_close() -> None:
    dates = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    equity = m.equity_from_trades(
        dates,
        pd.to_datetime(["2024-01-01 01:00", "2024-01-01 02:30"], utc=True),
        [10.0, -5.0],
        100.0,
    )
    assert equity.tolist() == [100.0, 110.0, 110.0, 105.0]


def test_buy_and_hold_splits_the_stake_and_pays_two_fees() -> None:
    closes = pd.DataFrame({"A": [10.0, 20.0, 10.0], "B": [4.0, 2.0, 4.0]})
    equity = m.buy_and_hold_equity(closes, 100.0, fee=0.1)
    assert equity.tolist() == pytest.approx([100.0, 81.0 * 1.25, 81.0])


def test_trading_metrics_of_a_curve() -> None:
    dates = pd.date_range("2024-01-01", periods=3, freq="1D", tz="UTC")
    equity = pd.Series([100.0, 110.0, 99.0], index=dates)
    out = m.trading_metrics(equity, [0.1, -0.1])
    assert out["return_%"] == pytest.approx(-1.0)
    assert out["max_drawdown_%"] == pytest.approx(10.0)
    assert out["sharpe"] == pytest.approx(
        np.mean([0.1, -0.1]) / np.std([0.1, -0.1], ddof=1) * math.sqrt(365)
    )
    assert out["win_rate_%"] == 50.0
    assert out["profit_factor"] == pytest.approx(1.0)


def test_permutation_importance_finds_the_feature_the_model_reads() -> None:
    from itb_ext.evaluation.importance import permutation_importance

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    y = (X["signal"] > 0).to_numpy()

    def predict(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"up": 1 / (1 + np.exp(-frame["signal"]))}, index=frame.index)

    drops = permutation_importance(predict, X, {"up": y}, seed=1)
    assert drops["noise"] == 0.0
    assert drops["signal"] > 0.4  # a perfect model falls to chance


def test_missing_candles_are_filled_flat_at_the_previous_close() -> None:
    from itb_ext.evaluation.stored import fill_missing_candles

    candles = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 02:00"], utc=True),
            "open": [1.0, 3.0],
            "high": [2.0, 4.0],
            "low": [0.5, 2.5],
            "close": [1.5, 3.5],
            "volume": [10.0, 20.0],
        }
    )
    full = fill_missing_candles(candles, "1h")
    assert full["date"].dt.hour.tolist() == [0, 1, 2]
    assert full.iloc[1][["open", "high", "low", "close", "volume"]].tolist() == [
        1.5,
        1.5,
        1.5,
        1.5,
        0.0,
    ]
