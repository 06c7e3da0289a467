"""ITBStrategy's trades as plain numbers: what the risk rules and the kill switch read from
FreqTrade's trade store (the database live, the backtest's lists otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from freqtrade.persistence import LocalTrade, Trade
from freqtrade.wallets import Wallets

from itb_ext.risk.limits import utc_day_start
from itb_ext.risk.rules import EntryContext
from itb_ext.strategy.positions import Account

#: The newest analysed close of a pair, or None before its first analysis.
NewestClose = Callable[[str], float | None]


def closed_profit_ratios() -> list[float]:
    """Profit ratios of the closed trades, oldest close first (Kelly sizing)."""
    oldest = datetime.min.replace(tzinfo=UTC)
    closed = sorted(Trade.get_trades_proxy(is_open=False), key=lambda t: t.close_date_utc or oldest)
    return [float(t.close_profit or 0.0) for t in closed]


def account(wallets: Wallets | None, newest_close: NewestClose) -> Account:
    """The account as the kill switch reads it (no wallets: a zero starting balance).

    :param newest_close: the price open trades are valued at.
    """
    realised = tuple(
        (t.close_date_utc, float(t.close_profit_abs or 0.0))
        for t in Trade.get_trades_proxy(is_open=False)
        if t.close_date_utc is not None
    )
    unrealised = sum(_open_profit(t, newest_close) for t in Trade.get_trades_proxy(is_open=True))
    return Account(wallets.get_starting_balance() if wallets else 0.0, realised, unrealised)


def entry_context(now: datetime, equity: float, candle: Mapping[str, Any]) -> EntryContext:
    """What the entry rules of ``itb.risk`` read for an entry at ``now``.

    :param equity: the wallet's value; :param candle: the pair's newest analysed candle.
    """
    return EntryContext(now, equity, profits_on_day(now), candle)


def profits_on_day(now: datetime) -> tuple[float, ...]:
    """Absolute profits of the trades closed since midnight UTC (the daily loss limit)."""
    day = utc_day_start(now)
    # FreqTrade filters close_date > argument; a trade closed at midnight belongs to the day.
    closed = Trade.get_trades_proxy(is_open=False, close_date=day - timedelta(seconds=1))
    return tuple(
        float(t.close_profit_abs or 0.0)
        for t in closed
        if t.close_date_utc is not None and t.close_date_utc >= day
    )


def _open_profit(trade: LocalTrade, newest_close: NewestClose) -> float:
    if not trade.amount:
        return 0.0
    close = newest_close(trade.pair)
    return 0.0 if close is None else float(trade.calc_profit(close))
