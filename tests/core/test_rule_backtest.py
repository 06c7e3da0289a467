"""The rule backtest: exact trades and equity on tiny frames computed by hand, and agreement with
a plain candle-by-candle loop on random signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation.rule_backtest import (
    Costs,
    Holding,
    RuleLevels,
    backtest_rules,
    candle_grid,
    simulate_rules,
    threshold_signals,
)

T0 = pd.Timestamp("2024-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def frame(opens: list[float], closes: list[float], step: str = "1h", start: str = "2024-01-01"):
    o = np.asarray(opens, dtype="float64")
    c = np.asarray(closes, dtype="float64")
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=len(o), freq=step, tz="UTC"),
            "open": o,
            "high": np.maximum(o, c),
            "low": np.minimum(o, c),
            "close": c,
        }
    )


def flags(n: int, rows: list[int]) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return out


OPENS = [100.0, 100.0, 104.0, 110.0, 108.0, 107.0]
CLOSES = [100.0, 103.0, 106.0, 109.0, 107.0, 106.0]
COSTS = Costs(fee=0.01, slippage=0.02)


def test_a_signal_fills_at_the_next_open_with_fee_and_slippage_on_both_sides() -> None:
    result = backtest_rules(frame(OPENS, CLOSES), flags(6, [0]), flags(6, [2]), COSTS)
    trades = result.trades
    assert len(trades) == 1
    # buy at open[1] = 100 plus 2 % = 102, sell at open[3] = 110 less 2 % = 107.8, 1 % fees
    assert trades["entry_price"].iloc[0] == pytest.approx(102.0)
    assert trades["exit_price"].iloc[0] == pytest.approx(107.8)
    r = 107.8 * 0.99 / (102.0 * 1.01) - 1.0
    assert trades["return"].iloc[0] == pytest.approx(r, rel=1e-12)
    assert trades["entry_time"].iloc[0] == T0 + HOUR
    assert trades["exit_time"].iloc[0] == T0 + 3 * HOUR
    assert trades["exit_reason"].iloc[0] == "signal"
    # cash 1 buys 1 / 103.02 units (entry fee included); marked at each close while held
    expected = [1.0, 103.0 / 103.02, 106.0 / 103.02, 1 + r, 1 + r, 1 + r]
    assert result.equity.to_numpy() == pytest.approx(expected, rel=1e-12)
    assert list(result.equity.index) == [T0 + (k + 1) * HOUR for k in range(6)]
    assert result.exposure == pytest.approx(2 / 6)
    assert result.trades_per_year == pytest.approx(365 * 24 / 6)
    assert result.total_return == pytest.approx(r, rel=1e-12)


def test_entries_in_a_position_with_an_exit_or_before_the_last_candle_are_ignored() -> None:
    # row 1: already in; row 3: exit on the same candle; row 4: would fill on the last candle
    entry = flags(6, [0, 1, 3, 4])
    exit_ = flags(6, [2, 3])
    result = backtest_rules(frame(OPENS, CLOSES), entry, exit_, COSTS)
    assert result.trades["entry_time"].tolist() == [T0 + HOUR]
    assert result.trades["exit_time"].tolist() == [T0 + 3 * HOUR]


def test_an_exit_signal_on_a_candle_with_an_entry_signal_is_ignored() -> None:
    entry = flags(6, [0, 2])
    exit_ = flags(6, [2, 3])
    result = backtest_rules(frame(OPENS, CLOSES), entry, exit_, COSTS)
    assert result.trades["exit_time"].tolist() == [T0 + 4 * HOUR]  # the exit of row 3


def test_a_position_open_at_the_end_is_closed_at_the_last_close() -> None:
    result = backtest_rules(frame(OPENS, CLOSES), flags(6, [1]), flags(6, [5]), COSTS)
    trade = result.trades.iloc[0]
    assert trade["entry_price"] == pytest.approx(104.0 * 1.02)
    assert trade["exit_price"] == pytest.approx(106.0 * 0.98)
    assert trade["exit_reason"] == "end"
    assert trade["exit_time"] == T0 + 6 * HOUR  # the last candle's close
    r = 106.0 * 0.98 * 0.99 / (104.0 * 1.02 * 1.01) - 1.0
    assert trade["return"] == pytest.approx(r, rel=1e-12)
    assert result.equity.iloc[-1] == pytest.approx(1 + r, rel=1e-12)
    assert result.exposure == pytest.approx(4 / 6)  # candles 2..5


def test_a_stake_fraction_keeps_the_rest_in_cash_and_a_minimum_hold_delays_the_exit() -> None:
    stake = np.array([0.5, 1.0, 1.0, 1.0, 1.0, 1.0])
    result = backtest_rules(
        frame(OPENS, CLOSES),
        flags(6, [0]),
        flags(6, [1, 2, 3]),
        COSTS,
        stake=stake,
        min_hold=3,
    )
    trade = result.trades.iloc[0]
    # entered at open[1]; the exit fill must be >= 3 candles later: the signal of row 3 -> open[4]
    assert trade["exit_time"] == T0 + 4 * HOUR
    assert trade["stake"] == 0.5
    r = 108.0 * 0.98 * 0.99 / (102.0 * 1.01) - 1.0
    assert trade["return"] == pytest.approx(r, rel=1e-12)
    units = 0.5 / 103.02
    expected = [1.0, 0.5 + units * 103, 0.5 + units * 106, 0.5 + units * 109, 1 + 0.5 * r]
    assert result.equity.to_numpy()[:5] == pytest.approx(expected, rel=1e-12)
    assert result.equity_returns == pytest.approx([0.5 * r])


def test_a_zero_stake_skips_the_entry() -> None:
    stake = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    result = backtest_rules(frame(OPENS, CLOSES), flags(6, [0]), flags(6, []), COSTS, stake=stake)
    assert len(result.trades) == 0
    assert (result.equity == 1.0).all()
    assert result.exposure == 0.0


def test_entering_at_the_start_buys_at_the_first_open() -> None:
    never = flags(6, [])
    result = backtest_rules(frame(OPENS, CLOSES), never, never, COSTS, enter_at_start=True)
    trade = result.trades.iloc[0]
    assert trade["entry_time"] == T0
    assert trade["entry_price"] == pytest.approx(102.0)
    assert trade["return"] == pytest.approx(106 * 0.98 * 0.99 / (102 * 1.01) - 1, rel=1e-12)
    assert result.exposure == 1.0


def test_daily_equity_is_the_equity_at_midnight_utc() -> None:
    # 6h candles: closes at 06, 12, 18, 00 (Jan 2), 06, 12, 18, 00 (Jan 3)
    opens = [100.0, 100, 110, 120, 130, 120, 110, 100]
    closes = [100.0, 110, 120, 130, 120, 110, 100, 100]
    result = backtest_rules(frame(opens, closes, "6h"), flags(8, [0]), flags(8, [5]), Costs(0, 0))
    days = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    assert list(result.daily_equity.index) == list(days)
    # bought at 100 (open of row 1), sold at 110 (open of row 6)
    assert result.daily_equity.to_numpy() == pytest.approx([1.0, 1.3, 1.1])
    assert result.daily_returns == pytest.approx([0.3, 1.1 / 1.3 - 1])


def test_daily_equity_starts_at_the_first_midnight_after_the_first_open() -> None:
    candles = frame([100.0] * 8, [100.0] * 8, "6h", start="2024-01-01 06:00")
    grid = candle_grid(candles)
    # closes at 12, 18, 00 (Jan 2) ... 00 (Jan 3) and 06 (Jan 3)
    assert list(grid.days) == list(pd.date_range("2024-01-02", periods=2, freq="D", tz="UTC"))
    assert grid.day_rows.tolist() == [2, 6]


def reference_loop(opens, closes, entry, exit_, stake, min_hold, fee, slip):
    """Candle by candle: fills at the open, marking at the close, decisions at the close."""
    n = len(opens)
    equity, position, trades, curve = 1.0, None, [], []
    pending_entry, pending_exit = None, False
    for k in range(n):
        if position is not None and pending_exit:
            price = opens[k] * (1 - slip)
            equity = position["cash"] + position["units"] * price * (1 - fee)
            trades.append((position["row"], k, equity / position["before"] - 1))
            position = None
        elif position is None and pending_entry is not None:
            paid = opens[k] * (1 + slip)
            units = equity * pending_entry / (paid * (1 + fee))
            position = {
                "row": k,
                "cash": equity * (1 - pending_entry),
                "units": units,
                "before": equity,
            }
        pending_entry, pending_exit = None, False
        if k == n - 1 and position is not None:
            price = closes[k] * (1 - slip)
            equity = position["cash"] + position["units"] * price * (1 - fee)
            trades.append((position["row"], k, equity / position["before"] - 1))
            position = None
        if position is None:
            curve.append(equity)
            if entry[k] and not exit_[k] and stake[k] > 0 and k + 1 <= n - 2:
                pending_entry = stake[k]
        else:
            curve.append(position["cash"] + position["units"] * closes[k])
            if exit_[k] and not entry[k] and k + 1 - position["row"] >= min_hold:
                pending_exit = True
    return trades, np.array(curve)


@pytest.mark.parametrize("seed", range(6))
def test_the_trade_loop_agrees_with_a_candle_by_candle_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opens = np.r_[100.0, closes[:-1]] * np.exp(rng.normal(0, 0.002, n))
    entry = rng.random(n) < 0.1
    exit_ = rng.random(n) < 0.2
    stake = rng.choice([0.0, 0.3, 1.0], size=n, p=[0.2, 0.4, 0.4])
    min_hold = int(rng.integers(0, 6))
    costs = Costs(fee=0.001, slippage=0.0005)
    grid = candle_grid(frame(list(opens), list(closes)))
    path = simulate_rules(grid, entry, exit_, costs, Holding(stake, min_hold))
    trades, curve = reference_loop(opens, closes, entry, exit_, stake, min_hold, 0.001, 0.0005)
    assert len(trades) > 5
    assert path.entry_rows.tolist() == [t[0] for t in trades]
    assert path.exit_rows.tolist() == [t[1] for t in trades]
    assert path.returns * path.stakes == pytest.approx([t[2] for t in trades], rel=1e-9)
    assert path.equity == pytest.approx(curve, rel=1e-12)


def test_threshold_signals_open_inside_the_gate_and_close_outside_it() -> None:
    score = np.array([0.5, 0.1, np.nan, -0.2, 0.6])
    gate = np.array([True, True, True, False, False])
    entry, exit_ = threshold_signals(score, gate, RuleLevels(buy_level=0.5, sell_level=-0.1))
    assert entry.tolist() == [True, False, False, False, False]
    assert exit_.tolist() == [False, False, False, True, True]
    entry, _ = threshold_signals(score, None, RuleLevels(buy_level=0.5, sell_level=-0.1))
    assert entry.tolist() == [True, False, False, False, True]


def test_bad_input_is_named_in_one_line() -> None:
    candles = frame(OPENS, CLOSES)
    with pytest.raises(DataError, match="entry signal has shape"):
        backtest_rules(candles, flags(5, []), flags(6, []), COSTS)
    with pytest.raises(DataError, match="must be booleans"):
        backtest_rules(candles, np.full(6, np.nan), flags(6, []), COSTS)
    with pytest.raises(DataError, match="stake must be a fraction"):
        backtest_rules(candles, flags(6, []), flags(6, []), COSTS, stake=np.full(6, 1.5))
    with pytest.raises(ConfigError, match="min_hold"):
        backtest_rules(candles, flags(6, []), flags(6, []), COSTS, min_hold=-1)
    with pytest.raises(ConfigError, match="fee must be a fraction"):
        Costs(fee=-0.001)
    with pytest.raises(ConfigError, match="buy_level"):
        RuleLevels(buy_level=float("nan"), sell_level=0.0)
    with pytest.raises(DataError, match="at least 2 candles"):
        candle_grid(candles.iloc[:1])
    with pytest.raises(DataError, match="missing column 'open'"):
        candle_grid(candles.drop(columns="open"))
