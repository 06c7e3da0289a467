"""Partial fills of an entry, an exit and a TWAP child, end to end: ``freqtrade trade`` (live
mode, the stop on the exchange) with ITBStrategy's callbacks on a scripted signal against the
replay exchange, which fills only part of the chosen order and never the rest, so FreqTrade's
``unfilledtimeout`` cancels it.

Expected amounts come from the exchange's own fills (what was bought less the 0.1 % commission
taken in BTC, what was sold), never from the bot's figures: the trade's amount, its stop order
and its exits must match them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ReplaySession
from tests.support.exchange import ExchangeOrder
from tests.support.invariants import holding, is_protected, lot, open_trades, stops_of
from tests.support.scripted import order_bot

pytestmark = [pytest.mark.usefixtures("freqtrade_installed")]

FEE = Decimal("0.001")
PAIR = "BTC/USDT"


def orders(session: ReplaySession, side: str, stop: bool = False) -> list[ExchangeOrder]:
    return [o for o in session.exchange.orders() if o.side == side and o.is_stop == stop]


def net_bought(session: ReplaySession) -> Decimal:
    """BTC received from every buy fill: executed quantity less the commission."""
    return sum((o.executed * (1 - FEE) for o in orders(session, "BUY")), Decimal(0))


def sold(session: ReplaySession) -> Decimal:
    return sum((o.executed for o in session.exchange.orders() if o.side == "SELL"), Decimal(0))


def the_trade(session: ReplaySession) -> dict[str, Any]:
    (trade,) = session.bot.trades()
    return dict(trade)


def settled_and_protected(session: ReplaySession) -> dict[str, Any] | None:
    """The open trade once no order of it but its stop is open, its amount is what the
    exchange holds (in lots) and the stop covers it."""
    trades = open_trades(session.bot.trades())
    if len(trades) != 1 or (trades[0]["amount"] or 0) <= 0:
        return None
    busy = [o for o in session.bot.orders() if o["ft_is_open"] and o["ft_order_side"] != "stoploss"]
    exchange, trade = session.exchange, dict(trades[0])
    agrees = lot(exchange, PAIR, trade["amount"]) == lot(exchange, PAIR, holding(exchange, "BTC"))
    return trade if not busy and agrees and is_protected(exchange, trade) else None


def assert_trade_matches_the_fills(session: ReplaySession, trade: dict[str, Any]) -> None:
    """Trade amount = what the fills left on the account (FreqTrade may round it down to the
    lot size); one stop sells all of it (in lots)."""
    held = net_bought(session) - sold(session)
    assert holding(session.exchange, "BTC") == pytest.approx(float(held), abs=1e-8)
    step = Decimal(session.exchange.markets[PAIR].step_size)
    assert 0 <= held - Decimal(repr(trade["amount"])) < step
    (stop,) = stops_of(session.exchange, trade)
    assert stop.quantity == lot(session.exchange, PAIR, float(held))


def test_a_partly_filled_entry_keeps_what_was_filled_and_its_stop_covers_that(
    tmp_path: Path,
) -> None:
    with order_bot(tmp_path, stoploss=-0.02, hold=0, telegram=False) as session:
        bot, exchange = session.bot, session.exchange
        exchange.partial_next(fraction=0.4, side="BUY")  # the rest never fills
        bot.force_enter(PAIR)
        trade = bot.wait_for(lambda: settled_and_protected(session), 60, what="the partial entry")
        (buy,) = orders(session, "BUY")
        assert buy.status == "CANCELED"  # FreqTrade's unfilledtimeout cancelled the rest
        assert buy.executed == (buy.quantity * Decimal("0.4")).quantize(Decimal("0.00001"))
        assert_trade_matches_the_fills(session, trade)
        assert trade["stake_amount"] == pytest.approx(float(buy.quote_executed) * 0.999, rel=1e-3)
        stop = stops_of(exchange, trade)[0]
        print(f"partial entry: {buy.executed} of {buy.quantity} BTC, stop {stop.quantity}")


def test_a_partly_filled_exit_leaves_the_rest_protected_and_sells_it_later(
    tmp_path: Path,
) -> None:
    # Entries at hours 0 mod 4, exits at hours 3 mod 4: one entry, then an exit signal.
    with order_bot(tmp_path, stoploss=-0.05, cycle=4, hold=1, telegram=False) as session:
        bot, exchange = session.bot, session.exchange
        bot.wait_for(lambda: settled_and_protected(session), 90, what="an entry with its stop")
        exchange.partial_next(fraction=0.5, side="SELL", order_type="LIMIT")
        bot.wait_for(
            lambda: [o for o in orders(session, "SELL") if o.status == "CANCELED"],
            90,
            what="the exit partly filled and its rest cancelled",
        )
        trade = bot.wait_for(lambda: settled_and_protected(session), 30, what="the rest's stop")
        (half,) = orders(session, "SELL")
        assert half.executed > 0 and half.executed < half.quantity
        assert_trade_matches_the_fills(session, trade)

        # The next exit signal sells the rest; nothing is sold twice.
        bot.wait_for(lambda: not open_trades(bot.trades()), 120, what="the rest sold")
        assert sold(session) == lot(exchange, PAIR, float(net_bought(session)))
        assert holding(exchange, "BTC") < 1e-5
        exits = [o for o in bot.orders() if o["ft_order_side"] == "sell" and o["filled"]]
        assert sum(o["filled"] for o in exits) == pytest.approx(float(sold(session)), abs=1e-12)
        assert exchange.open_orders() == []
        print(f"partial exit: {half.executed} then {sold(session) - half.executed} BTC")


TWAP = {"enabled": True, "above_stake": 100.0, "children": 3, "candles": 3}


def test_a_partly_filled_twap_child_grows_the_position_by_its_fill(tmp_path: Path) -> None:
    with order_bot(tmp_path, risk={"twap": TWAP}, stoploss=-0.02, telegram=False) as session:
        bot, exchange = session.bot, session.exchange
        bot.wait_for(lambda: settled_and_protected(session), 60, what="the first child")
        exchange.partial_next(fraction=0.5, side="BUY")  # the second child: half, never the rest
        bot.wait_for(
            lambda: [o for o in orders(session, "BUY") if o.status == "CANCELED"],
            90,
            what="the second child partly filled and cancelled",
        )
        trade = bot.wait_for(lambda: settled_and_protected(session), 30, what="its stop")
        first, second = orders(session, "BUY")[:2]
        assert first.status == "FILLED" and second.executed == second.quantity / 2
        assert_trade_matches_the_fills(session, trade)
        # The third child comes and the stop covers all three fills.
        bot.wait_for(
            lambda: len(orders(session, "BUY")) == 3 and settled_and_protected(session),
            90,
            what="the third child with its stop",
        )
        assert_trade_matches_the_fills(session, settled_and_protected(session) or {})
        stops = orders(session, "SELL", stop=True)
        assert [o.is_open for o in stops] == [False] * (len(stops) - 1) + [True]
        assert all(o.executed == 0 for o in stops)
        print(f"partial child: {second.executed} of {second.quantity}; {len(stops)} stops")
