"""Sliced entries, stops, fills and the kill switch's halt, without FreqTrade
(``itb_ext.strategy.positions``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from itb_ext.config.risk import RiskConfig
from itb_ext.config.risk_controls import KillSwitchConfig, TwapConfig
from itb_ext.risk.kill_switch import RECORDED, Halt, recorded_halt
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.state import MemoryStore
from itb_ext.risk.twap import ChildOrder, TwapPlan, twap_plan
from itb_ext.strategy.positions import (
    Account,
    entry_plan_key,
    entry_plan_value,
    fill_price,
    first_slice,
    halt_beyond_limits,
    is_sliced,
    next_slice,
    plan_of_new_trade,
    stoploss,
)

OPEN = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
TWAP = TwapConfig(enabled=True, above_stake=100.0, children=3, candles=6)


def test_a_large_stake_is_entered_in_three_slices_two_candles_apart() -> None:
    assert first_slice(300.0, TWAP) == pytest.approx(100.0)
    assert first_slice(90.0, TWAP) == 90.0  # at or below above_stake: one order
    assert is_sliced(300.0, TWAP) and not is_sliced(90.0, TWAP)
    plan = twap_plan(300.0, TWAP)
    assert plan == TwapPlan(
        300.0, (ChildOrder(0, 100.0), ChildOrder(2, 100.0), ChildOrder(4, 100.0))
    )

    def due(filled: int, hours: float, last_fill: float | None = None) -> float | None:
        last = None if last_fill is None else OPEN + timedelta(hours=last_fill)
        return next_slice(plan, filled, OPEN, last, OPEN + timedelta(hours=hours), 60)

    # children at candles 0, 2 and 4 (6 candles / 3 children)
    assert due(1, 1.5) is None
    assert due(1, 2) == pytest.approx(100.0)
    assert due(2, 3.9) is None
    assert due(2, 4) == pytest.approx(100.0)
    assert due(3, 10) is None  # all filled
    assert next_slice(None, 1, OPEN, None, OPEN + timedelta(hours=5), 60) is None
    # back from a restart at 7:30 with child 1 filled at 0:10: child 2 at once, nothing after
    assert due(1, 7.5, last_fill=1 / 6) == pytest.approx(100.0)
    # child 2 filled at 7:31: child 3 waits for 9:00 (candle 9), two candles after candle 7
    assert due(2, 8.9, last_fill=7.52) is None
    assert due(2, 9.0, last_fill=7.52) == pytest.approx(100.0)


def test_the_plan_recorded_before_the_first_order_belongs_to_the_trade_opened_next() -> None:
    assert entry_plan_key("BTC/USDT") == "itb_twap:BTC/USDT"
    long_pair = "A-VERY-LONG-TOKEN-NAME-ON-SOME-EXCHANGE/USDT:USDT"
    key = entry_plan_key(long_pair)  # 58 characters: too long for the database's 50
    assert len(key) == len("itb_twap:") + 32 and key.startswith("itb_twap:")
    assert entry_plan_key(long_pair) != entry_plan_key(long_pair + "X")
    record = entry_plan_value(300.0, OPEN)
    plan = TwapPlan(300.0, (ChildOrder(0, 100.0), ChildOrder(2, 100.0), ChildOrder(4, 100.0)))
    assert plan_of_new_trade(record, OPEN + timedelta(seconds=2), 60, TWAP) == plan
    assert plan_of_new_trade(record, OPEN - timedelta(seconds=30), 60, TWAP) == plan  # clocks
    # a record older than a candle was an entry never placed: nobody's plan
    assert plan_of_new_trade(record, OPEN + timedelta(minutes=61), 60, TWAP) is None
    assert plan_of_new_trade(record, OPEN - timedelta(minutes=2), 60, TWAP) is None
    assert plan_of_new_trade(None, OPEN, 60, TWAP) is None
    assert plan_of_new_trade("{not json", OPEN, 60, TWAP) is None


def test_backtested_fills_move_against_the_trade_live_fills_do_not() -> None:
    risk = RiskPolicy(RiskConfig(backtest_slippage_bps=10.0))
    assert fill_price(risk, 100.0, buying=True, backtesting=True) == pytest.approx(100.1)
    assert fill_price(risk, 100.0, buying=False, backtesting=True) == pytest.approx(99.9)
    assert fill_price(risk, 100.0, buying=True, backtesting=False) == 100.0
    off = RiskPolicy(RiskConfig(enabled=False, backtest_slippage_bps=10.0))
    assert fill_price(off, 100.0, buying=True, backtesting=True) == 100.0


def test_a_fixed_atr_stop_is_measured_on_the_entry_signal_candle() -> None:
    stop = {"atr_multiple": 2.0, "trailing": False}
    risk = RiskPolicy(RiskConfig.model_validate({"stop": stop, "regime": None}))
    frame = pd.DataFrame(
        {
            "date": pd.date_range(OPEN - timedelta(hours=2), periods=4, freq="1h"),
            "risk_atr": [1.0, 2.0, 5.0, 9.0],
            "close": [100.0] * 4,
        }
    )
    # opened at 10:00: the signal candle is 09:00 (ATR 2), stop 100 - 2 * 2 = 96; at 98 the stop
    # is 1 - 96 / 98 below the rate
    stop = stoploss(risk, frame, OPEN, 98.0, 100.0, False)
    assert stop == pytest.approx(-(1 - 96 / 98))
    assert stoploss(risk, frame.iloc[:0], OPEN, 98.0, 100.0, False) is None
    assert stoploss(risk, None, OPEN, 98.0, 100.0, False) is None


def test_the_kill_switch_halts_once_the_daily_loss_passes_its_limit(tmp_path: Path) -> None:
    path, store = tmp_path / "bot.halt.json", MemoryStore()
    cfg = KillSwitchConfig(enabled=True, max_daily_loss=0.05, max_drawdown=0.5)
    now = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    yesterday = now - timedelta(days=1)
    # 1000 -> 1100 yesterday; today 1100 - 40 - 20 open = 1040: a 5.45 % daily loss
    losing = Account(1000.0, ((yesterday, 100.0), (now - timedelta(hours=1), -40.0)), -20.0)
    halt = Halt(since="2024-03-01 15:00 UTC", reason="daily loss 5.5 % beyond the limit of 5.0 %")
    assert halt_beyond_limits(cfg, store, path, losing, now) == (halt, RECORDED)
    assert recorded_halt(store) == halt
    calm = Account(1000.0, ((yesterday, 100.0), (now - timedelta(hours=1), -40.0)), -10.0)
    other = MemoryStore()
    assert halt_beyond_limits(cfg, other, path, calm, now) is None  # 4.5 %
    assert other.values == {}
    assert list(tmp_path.iterdir()) == []
