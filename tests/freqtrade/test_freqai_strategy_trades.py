"""What ITBStrategy reads of FreqTrade's trades (``itb_ext.adapters.freqai_strategy``), on
backtest trades (FreqTrade's in-memory lists with aware dates, no database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freqtrade.persistence import LocalTrade, Trade

from itb_ext.adapters import freqai_strategy as trades

MIDNIGHT = datetime(2024, 3, 2, tzinfo=UTC)


def closed(at: datetime, profit: float, ratio: float) -> LocalTrade:
    return LocalTrade(
        pair="BTC/USD",
        stake_amount=100.0,
        amount=1.0,
        open_rate=100.0,
        open_date=at - timedelta(hours=5),
        fee_open=0.0,
        fee_close=0.0,
        exchange="bitfinex",
        is_open=False,
        close_date=at,
        close_profit=ratio,
        close_profit_abs=profit,
    )


def opened(pair: str, amount: float) -> LocalTrade:
    return LocalTrade(
        pair=pair,
        stake_amount=100.0,
        amount=amount,
        open_rate=100.0,
        open_date=MIDNIGHT,
        fee_open=0.0,
        fee_close=0.0,
        exchange="bitfinex",
        is_open=True,
    )


@pytest.fixture(autouse=True)
def backtest_trades(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Trade, "use_db", False)
    LocalTrade.bt_trades = [
        closed(MIDNIGHT + timedelta(hours=3), -4.0, -0.04),
        closed(MIDNIGHT - timedelta(hours=1), 10.0, 0.1),  # yesterday
        closed(MIDNIGHT, -2.0, -0.02),  # at midnight: today's
    ]
    LocalTrade.bt_trades_open = [opened("BTC/USD", 2.0), opened("ETH/USD", 0.0)]
    yield
    LocalTrade.reset_trades()


def test_profit_ratios_come_oldest_close_first() -> None:
    assert trades.closed_profit_ratios() == [0.1, -0.02, -0.04]


def test_the_days_profits_start_at_midnight_utc() -> None:
    assert sorted(trades.profits_on_day(MIDNIGHT + timedelta(hours=9))) == [-4.0, -2.0]


def test_the_account_values_open_trades_at_the_newest_close() -> None:
    closes = {"BTC/USD": 103.0, "ETH/USD": 50.0}
    account = trades.account(None, closes.get)
    assert account.starting_balance == 0.0
    assert sorted(p for _, p in account.realised) == [-4.0, -2.0, 10.0]
    # 2 BTC bought at 100 are worth 103 (no fees); the unfilled ETH entry counts nothing
    assert account.unrealised == pytest.approx(6.0)
    assert trades.account(None, lambda pair: None).unrealised == 0.0


def test_an_entry_context_carries_the_days_profits() -> None:
    now = MIDNIGHT + timedelta(hours=9)
    context = trades.entry_context(now, 950.0, {"close": 1.0})
    assert (context.time, context.equity) == (now, 950.0)
    assert sorted(context.profits_today) == [-4.0, -2.0]
    assert context.candle == {"close": 1.0}
