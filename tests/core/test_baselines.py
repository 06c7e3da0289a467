"""Baselines: the daily trend gate by hand and without look-ahead, the reversal score against a
hand-written EWM, and the three baselines' trades."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from itb_ext.errors import ConfigError
from itb_ext.evaluation.baselines import (
    ReversalRule,
    all_baselines,
    buy_and_hold,
    daily_trend_gate,
    reversal_in_gate,
    reversal_score,
    trend_gate_alone,
)
from itb_ext.evaluation.rule_backtest import Costs, RuleLevels

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def frame(closes: np.ndarray, step: str = "1h", opens: np.ndarray | None = None) -> pd.DataFrame:
    c = np.asarray(closes, dtype="float64")
    o = np.r_[c[0], c[:-1]] if opens is None else np.asarray(opens, dtype="float64")
    return pd.DataFrame(
        {
            "date": pd.date_range(T0, periods=len(c), freq=step),
            "open": o,
            "high": np.maximum(o, c),
            "low": np.minimum(o, c),
            "close": c,
        }
    )


def random_walk(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return frame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))))


# 12h candles over five days; daily closes 10, 12, 11, 13, 14; means of two: -, 11, 11.5, 12, 13.5
HALF_DAYS = frame(np.array([9, 10, 11, 12, 12, 11, 12, 13, 13, 14.0]), step="12h")
HALF_DAY_GATE = [False, False, False, True, True, False, False, True, True, True]


def test_the_gate_uses_only_days_complete_at_each_candle_close() -> None:
    # candle 1 closes at Jan 2 00:00: day 1 is complete but its mean of two is not yet known;
    # candle 3 closes at Jan 3 00:00: 12 > (10 + 12) / 2 opens the gate, and so on
    assert daily_trend_gate(HALF_DAYS, window=2).tolist() == HALF_DAY_GATE


def test_the_gate_never_reads_later_candles() -> None:
    candles = random_walk(24 * 40, seed=5)
    full = daily_trend_gate(candles)
    assert full[: 24 * 20 - 1].sum() == 0  # closed until 20 days are complete
    assert full.any() and not full.all()
    for cut in (24 * 21 - 1, 24 * 25, 24 * 30 + 7, 24 * 40 - 1):
        assert (daily_trend_gate(candles.iloc[:cut]) == full[:cut]).all()
    changed = candles.copy()
    changed.loc[24 * 30 :, ["open", "high", "low", "close"]] *= 3.0
    assert (daily_trend_gate(changed)[: 24 * 30] == full[: 24 * 30]).all()


def test_the_gate_rejects_a_bad_window() -> None:
    with pytest.raises(ConfigError, match="window"):
        daily_trend_gate(HALF_DAYS, window=0)


def ewm_std_by_hand(x: np.ndarray, span: int) -> float:
    """pandas' adjusted, bias-corrected EWM standard deviation at the last point of ``x``."""
    alpha = 2 / (span + 1)
    w = (1 - alpha) ** np.arange(len(x))[::-1]
    mean = (w * x).sum() / w.sum()
    biased = (w * (x - mean) ** 2).sum() / w.sum()
    return math.sqrt(biased * w.sum() ** 2 / (w.sum() ** 2 - (w**2).sum()))


def test_the_reversal_score_is_the_fall_in_units_of_its_spread() -> None:
    closes = np.array([100, 102, 101, 99, 103, 104, 100, 98.0])
    score = reversal_score(frame(closes), horizon=2, span=3)
    # sigma needs 3 log returns (row 3 on); the move needs the close 2 rows back
    assert np.isnan(score[:3]).all()
    log_c = np.log(closes)
    returns = np.diff(log_c)
    for t in range(3, 8):
        sigma = ewm_std_by_hand(returns[:t], span=3)
        expected = -(log_c[t] - log_c[t - 2]) / (sigma * math.sqrt(2))
        assert score[t] == pytest.approx(expected, rel=1e-12)


def test_the_reversal_score_is_nan_on_a_flat_price() -> None:
    assert np.isnan(reversal_score(frame(np.full(300, 50.0)))).all()


def test_buy_and_hold_buys_the_first_open_and_sells_the_last_close() -> None:
    candles = frame(np.array([101.0, 104, 99, 120]), opens=np.array([100.0, 101, 104, 99]))
    result = buy_and_hold(candles, Costs(fee=0.001, slippage=0.002))
    assert len(result.trades) == 1
    r = 120 * 0.998 * 0.999 / (100 * 1.002 * 1.001) - 1
    assert result.trades["return"].iloc[0] == pytest.approx(r, rel=1e-12)
    assert result.trades["entry_time"].iloc[0] == T0
    assert result.exposure == 1.0
    assert result.total_return == pytest.approx(r, rel=1e-12)


def test_the_gate_alone_is_long_while_the_gate_is_open() -> None:
    result = trend_gate_alone(HALF_DAYS, Costs(0, 0), window=2)
    half = pd.Timedelta(hours=12)
    # open from candle 3's close (fill 4) to candle 5's close (fill 6); again from 7 to the end
    assert result.trades["entry_time"].tolist() == [T0 + 4 * half, T0 + 8 * half]
    assert result.trades["exit_time"].tolist() == [T0 + 6 * half, T0 + 10 * half]
    assert result.trades["exit_reason"].tolist() == ["signal", "end"]
    # bought at the open 12 (close of candle 3), sold at 11; bought at 13, sold at the last close 14
    assert result.trade_returns == pytest.approx([11 / 12 - 1, 14 / 13 - 1])


def test_the_reversal_rule_trades_only_inside_the_gate() -> None:
    candles = random_walk(24 * 120, seed=11)
    rule = ReversalRule(levels=RuleLevels(buy_level=1.0, sell_level=0.0))
    result = reversal_in_gate(candles, Costs(), rule)
    assert len(result.trades) >= 3
    gate = daily_trend_gate(candles)
    score = reversal_score(candles)
    rows = {t: i for i, t in enumerate(candles["date"])}
    for _, trade in result.trades.iterrows():
        signal = rows[trade["entry_time"]] - 1
        assert gate[signal] and score[signal] >= 1.0
        if trade["exit_reason"] == "signal":
            out = rows[trade["exit_time"]] - 1
            assert (not gate[out]) or score[out] <= 0.0
            held = range(signal + 1, out)
            assert all(gate[k] and score[k] > 0.0 for k in held)


def test_all_baselines_run_with_the_same_costs() -> None:
    candles = random_walk(24 * 60, seed=2)
    costs = Costs(fee=0.002, slippage=0.001)
    baselines = all_baselines(candles, costs)
    first_open, last_close = candles["open"].iloc[0], candles["close"].iloc[-1]
    r = last_close * 0.999 * 0.998 / (first_open * 1.001 * 1.002) - 1
    assert baselines.buy_and_hold.trade_returns == pytest.approx([r], rel=1e-12)
    assert (baselines.trend_gate.trades["entry_price"] / 1.001).isin(candles["open"]).all()
    sharpes = baselines.sharpes()
    assert list(sharpes) == ["buy-and-hold", "the trend gate", "the reversal rule"]
    assert sharpes["buy-and-hold"] == baselines.buy_and_hold.sharpe
    assert math.isfinite(sharpes["buy-and-hold"])
