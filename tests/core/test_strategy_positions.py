"""Sliced entries, stops, fills and the kill switch's halt, without FreqTrade
(``itb_ext.strategy.positions``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from itb_ext.config.risk import RiskConfig
from itb_ext.config.risk_controls import KillSwitchConfig, TwapConfig
from itb_ext.risk.kill_switch import Halt, read_halt
from itb_ext.risk.policy import RiskPolicy
from itb_ext.strategy.positions import (
    Account,
    fill_price,
    first_slice,
    halt_beyond_limits,
    next_slice,
    stoploss,
)

OPEN = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
TWAP = TwapConfig(enabled=True, above_stake=100.0, children=3, candles=6)


def test_a_large_stake_is_entered_in_three_slices_two_candles_apart() -> None:
    assert first_slice(300.0, TWAP) == pytest.approx(100.0)
    assert first_slice(90.0, TWAP) == 90.0  # at or below above_stake: one order

    def due(filled: int, hours: float) -> float | None:
        return next_slice(300.0, TWAP, filled, OPEN, OPEN + timedelta(hours=hours), 60)

    # children at candles 0, 2 and 4 (6 candles / 3 children)
    assert due(1, 1.5) is None
    assert due(1, 2) == pytest.approx(100.0)
    assert due(2, 3.9) is None
    assert due(2, 4) == pytest.approx(100.0)
    assert due(3, 10) is None  # all filled
    assert next_slice(None, TWAP, 1, OPEN, OPEN + timedelta(hours=5), 60) is None


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
    path = tmp_path / "bot.halt.json"
    cfg = KillSwitchConfig(enabled=True, max_daily_loss=0.05, max_drawdown=0.5)
    now = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    yesterday = now - timedelta(days=1)
    # 1000 -> 1100 yesterday; today 1100 - 40 - 20 open = 1040: a 5.45 % daily loss
    losing = Account(1000.0, ((yesterday, 100.0), (now - timedelta(hours=1), -40.0)), -20.0)
    halt = halt_beyond_limits(cfg, path, losing, now)
    assert halt == Halt(
        since="2024-03-01 15:00 UTC", reason="daily loss 5.5 % beyond the limit of 5.0 %"
    )
    assert read_halt(path) == halt
    calm = Account(1000.0, ((yesterday, 100.0), (now - timedelta(hours=1), -40.0)), -10.0)
    other = tmp_path / "other.halt.json"
    assert halt_beyond_limits(cfg, other, calm, now) is None  # 4.5 %
    assert not other.exists()
