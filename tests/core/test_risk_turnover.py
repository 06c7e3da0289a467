"""Turnover controls: the minimum holding time, threshold hysteresis and candle lengths."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.risk import ProtectionsConfig, RiskConfig, SizingConfig
from itb_ext.errors import ConfigError
from itb_ext.evaluation.metrics import Trade
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.timeframes import (
    candle_length,
    candles_held,
    candles_per_year,
    typical_candle_length,
)
from itb_ext.risk.turnover import check_threshold_hysteresis, exit_allowed
from itb_ext.simulate.risk import simulate_with_risk

HOLD_3 = RiskConfig(min_hold_candles=3)

# --- minimum holding time -----------------------------------------------------------------------


@pytest.mark.parametrize("held", [0, 1, 2])
def test_an_exit_signal_waits_for_the_minimum_holding_time(held: int) -> None:
    assert not exit_allowed(held, "exit_signal", HOLD_3)
    assert not exit_allowed(held, "itb_sell", HOLD_3, signal_tags=("itb_sell", "itb_buy"))
    assert not RiskPolicy(HOLD_3).exit_allowed(held, "itb_buy", ("itb_sell", "itb_buy"))


@pytest.mark.parametrize(
    "reason",
    [
        "stop_loss",
        "trailing_stop_loss",
        "stoploss_on_exchange",
        "kill_switch",
        "force_exit",
        "emergency_exit",
        "roi",
    ],
)
def test_protective_exits_are_never_held_back(reason: str) -> None:
    assert exit_allowed(0, reason, HOLD_3, signal_tags=("itb_sell",))


def test_exit_signal_goes_ahead_once_held_long_enough_or_when_off() -> None:
    assert exit_allowed(3, "exit_signal", HOLD_3)
    assert exit_allowed(10, "itb_sell", HOLD_3, signal_tags=("itb_sell",))
    assert exit_allowed(0, "exit_signal", RiskConfig())  # default 0 = off
    assert exit_allowed(0, "exit_signal", RiskConfig(enabled=False, min_hold_candles=3))
    # an exit tag the strategy did not declare is not taken for a signal
    assert exit_allowed(0, "itb_sell", HOLD_3)


def test_candles_held_counts_whole_candles_since_the_entry() -> None:
    opened = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    hour = candle_length("1h")
    assert candles_held(opened, opened, hour) == 0
    assert candles_held(opened, datetime(2024, 5, 1, 12, 59, tzinfo=UTC), hour) == 2
    assert candles_held(opened, datetime(2024, 5, 1, 13, 0, tzinfo=UTC), hour) == 3
    assert candles_held(opened, datetime(2024, 5, 1, 9, 0, tzinfo=UTC), hour) == 0
    assert candles_held(opened, datetime(2024, 5, 2, 10, 0, tzinfo=UTC), candle_length("4h")) == 6


# --- candle lengths -----------------------------------------------------------------------------


def test_candle_length_of_freqtrade_timeframes() -> None:
    assert candle_length("5m") == timedelta(minutes=5)
    assert candle_length("4h") == timedelta(hours=4)
    assert candle_length("1d") == timedelta(days=1)
    assert candle_length("1w") == timedelta(days=7)
    assert candle_length("1M") == timedelta(days=30)
    assert candles_per_year(candle_length("1h")) == 365 * 24
    assert candles_per_year(candle_length("5m")) == 365 * 24 * 12


@pytest.mark.parametrize("bad", ["", "1", "h", "0h", "1.5h", "1H", "15 m"])
def test_a_bad_timeframe_is_one_line_naming_it(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        candle_length(bad)
    assert str(err.value).startswith(f"timeframe {bad!r} is not")
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError):
        RiskPolicy(RiskConfig(), timeframe=bad)


def test_typical_candle_length_is_the_median_step() -> None:
    hours = pd.Series(
        pd.to_datetime(
            [
                "2024-01-01 00:00",
                "2024-01-01 01:00",
                "2024-01-01 03:00",
                "2024-01-01 04:00",
                "2024-01-01 05:00",
            ],
            utc=True,
        )
    )
    assert typical_candle_length(hours) == timedelta(hours=1)
    assert typical_candle_length(hours.iloc[:1]) is None


# --- hysteresis ---------------------------------------------------------------------------------


def test_long_only_levels_with_a_gap_pass() -> None:
    check_threshold_hysteresis(0.08, -0.08, long_only=True)
    check_threshold_hysteresis(0.0, None, long_only=True)  # a missing level never fires
    check_threshold_hysteresis(0.02, 0.05, long_only=False)  # shorts: left to the rule


@pytest.mark.parametrize(("buy", "sell"), [(0.05, 0.05), (0.02, 0.05), (-0.1, 0.0)])
def test_long_only_buy_level_not_above_sell_level_is_refused(buy: float, sell: float) -> None:
    with pytest.raises(ConfigError) as err:
        check_threshold_hysteresis(buy, sell, long_only=True)
    message = str(err.value)
    assert message.startswith(
        f"itb: buy_signal_threshold ({buy}) must be above sell_signal_threshold ({sell})"
    )
    assert "\n" not in message


def test_hysteresis_names_the_keys_the_levels_came_from() -> None:
    with pytest.raises(ConfigError, match=r"^itb: buy_threshold \(0.01\) must be above "):
        check_threshold_hysteresis(
            0.01, 0.03, long_only=True, keys=("buy_threshold", "sell_threshold")
        )


# --- the risk simulation ------------------------------------------------------------------------


def rising_bars(n: int = 8) -> pd.DataFrame:
    close = 100.0 + np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close + 0.5,
            "low": close - 0.5,
            "close": close,
        }
    )


def flags(n: int, *rows: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(rows)] = True
    return out


def plain_risk(**changes: object) -> RiskConfig:
    base = RiskConfig(
        stop=None,
        regime=None,
        protections=ProtectionsConfig(daily_loss_limit=None),
        backtest_slippage_bps=0,
    )
    return base.model_copy(update=changes)


def rows_of(bars: pd.DataFrame, trade: Trade) -> tuple[int, int]:
    """The candles a trade was opened and closed on."""
    dates = list(bars["date"])
    return dates.index(trade.open_date), dates.index(trade.close_date)


def test_simulation_holds_an_exit_signal_for_the_minimum_holding_time() -> None:
    # buy on row 0 -> entry at row 1's open; sell signals from row 1 on -> exit at row 2's open,
    # or with a 3-candle minimum at row 4's open (row 1 + 3 candles)
    n = 8
    bars = rising_bars(n)
    buy, sell = flags(n, 0), flags(n, 1, 2, 3, 4, 5, 6)
    (free,) = simulate_with_risk(bars, buy, sell, plain_risk(), fee=0.0).trades
    assert (*rows_of(bars, free), free.exit_reason) == (1, 2, "exit_signal")
    risk = plain_risk(min_hold_candles=3)
    (held,) = simulate_with_risk(bars, buy, sell, risk, fee=0.0).trades
    assert (*rows_of(bars, held), held.exit_reason) == (1, 4, "exit_signal")
    assert held.close_rate == 104.0
    # a signal that is gone by then is not taken later: the trade runs to the end
    (late,) = simulate_with_risk(bars, buy, flags(n, 1), risk, fee=0.0).trades
    assert (rows_of(bars, late)[1], late.exit_reason) == (n - 1, "force_exit")


def test_simulation_sizes_to_the_volatility_target() -> None:
    # hourly closes whose log returns alternate +-0.01: over 2 returns the deviation is 0.01,
    # 0.01 * sqrt(8760) = 0.936 a year; a 0.1 target stakes 10.7 % of 99 % of the wallet
    n = 6
    close = 100 * np.exp(np.cumsum([0.0, 0.01, -0.01, 0.01, -0.01, 0.01]))
    candles = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
        }
    )
    sizing = SizingConfig(mode="volatility_target", target_volatility=0.1, volatility_window=2)
    risk = plain_risk(sizing=sizing)
    buy, sell = flags(n, 1, 3), flags(n, 2)
    first, second = simulate_with_risk(candles, buy, sell, risk, fee=0.0, wallet=10_000).trades
    assert first.stake_amount == pytest.approx(0.99 * 10_000 * 0.02)  # row 1: no volatility yet
    equity = 0.99 * (10_000 + first.profit_abs)
    assert rows_of(candles, second)[0] == 4
    assert second.stake_amount == pytest.approx(equity * 0.1 / (0.01 * math.sqrt(8760)))
    assert second.stake_amount / equity == pytest.approx(0.1069, abs=1e-4)
