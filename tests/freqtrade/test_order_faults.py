"""Faults on the order endpoints, end to end: ``freqtrade trade`` (live mode, the stop on the
exchange) with ITBStrategy's callbacks on a scripted signal against the replay exchange and the
fake Telegram.

* An entry that times out on the bot but is executed on the exchange leaves a position without a
  trade record, without a stop and outside the kill switch's count, and FreqTrade would enter
  again on its next loop. The ITB exchange check must find the unexplained holdings, place no
  second entry, pause entries and say so; then resume when the holdings agree again (a person
  sold them) or, with ``on_mismatch: "flatten"``, sell them itself.
* Flattening under faults: with 500s and 429s on order placement and cancels, ``/forceexit all``
  and the kill switch must retry until the account is flat, cancel every open order and sell
  nothing twice.

Every test checks the exchange's side: its orders, fills and balances.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ReplaySession
from tests.support.exchange import ExchangeOrder
from tests.support.invariants import FLATTEN_PREFIX, holding, is_protected, lot, open_trades
from tests.support.scripted import order_bot

pytestmark = [pytest.mark.usefixtures("freqtrade_installed")]

ccxt = pytest.importorskip("ccxt")

FEE = Decimal("0.001")
ENTRY_POST = {"path": "/api/v3/order", "method": "POST", "params": {"side": "BUY"}}


def placed(session: ReplaySession, side: str, pair: str = "BTC/USDT") -> list[ExchangeOrder]:
    """Orders of one side on the exchange (stops excluded), oldest first."""
    return [
        o
        for o in session.exchange.orders()
        if o.side == side and o.symbol == pair and not o.is_stop
    ]


def run_candles(session: ReplaySession, hours: float) -> None:
    target = session.clock.now() + timedelta(hours=hours)
    session.bot.wait_for(lambda: session.clock.now() >= target, 60, what=f"{hours} candles")


def global_locks(session: ReplaySession) -> list[dict[str, Any]]:
    return [lock for lock in session.bot.api("/api/v1/locks")["locks"] if lock["pair"] == "*"]


# Entries on the candles of hours 0 mod 4 (the first at 17:00), exits on hours 3 mod 4.
SIGNAL = {"cycle": 4, "hold": 1, "stoploss": -0.05, "ccxt_timeout_ms": 1500}


def test_an_entry_executed_behind_a_timeout_pauses_entries_until_the_holdings_agree(
    tmp_path: Path,
) -> None:
    risk = {"reconcile": {"lost_order_wait_seconds": 5}}
    with order_bot(tmp_path, risk=risk, **SIGNAL) as session:
        bot, exchange, telegram = session.bot, session.exchange, session.telegram
        assert telegram is not None
        exchange.stall_next(1, seconds=3, execute_first=True, **ENTRY_POST)
        message = telegram.wait_for_message(r"ITB exchange check: the exchange disagrees", 90)
        (lost,) = placed(session, "BUY")
        assert lost.status == "FILLED"
        orphan = lost.executed * (1 - FEE)
        assert holding(exchange, "BTC") == pytest.approx(float(orphan), abs=1e-12)
        assert bot.trades() == []  # FreqTrade never learnt of it
        assert f"BTC: the exchange holds {float(orphan):.8g}, the open trades explain 0" in (
            message.text
        )
        assert "Entries paused" in message.text
        assert [lock["reason"] for lock in global_locks(session)] == [
            "ITB exchange check: holdings differ from the open trades"
        ]
        # The next entry signals come and go: no second entry is placed.
        run_candles(session, 5)
        assert len(placed(session, "BUY")) == 1 and bot.trades() == []

        # A person sells the lost position; the holdings agree, entries resume.
        mark = len(telegram.messages)
        person = ccxt.binance(
            {**exchange.ccxt_config(), "apiKey": exchange.api_key, "secret": exchange.api_secret}
        )
        person.create_order(
            "BTC/USDT", "market", "sell", float(lot(exchange, "BTC/USDT", float(orphan)))
        )
        telegram.wait_for_message(r"holdings agree with the open trades again", 60, start=mark)
        assert global_locks(session) == []
        bot.wait_for(lambda: len(placed(session, "BUY")) == 2, 60, what="the next entry")
        bot.wait_for(lambda: open_trades(bot.trades()), 30, what="its trade")
        print(f"lost entry: {orphan} BTC found, entries paused, resumed once sold")


def test_a_late_executed_entry_is_flattened_and_never_entered_twice(tmp_path: Path) -> None:
    # A plain stall: the exchange places the order 1.5 s after the bot gave up on it, when the
    # price has moved on; a market entry, so that it fills whatever the price then is.
    risk = {
        "reconcile": {
            "on_mismatch": "flatten",
            "lost_order_wait_seconds": 10,
            "flatten_wait_seconds": 5,
        }
    }
    market = {"order_types": {"entry": "market"}, "entry_pricing": {"price_side": "other"}}
    with order_bot(tmp_path, risk=risk, overrides=market, **SIGNAL) as session:
        bot, exchange, telegram = session.bot, session.exchange, session.telegram
        assert telegram is not None
        exchange.stall_next(1, seconds=3, **ENTRY_POST)
        telegram.wait_for_message(r"ITB exchange check: the exchange disagrees", 90)
        flattening = telegram.wait_for_message(r"ITB exchange check, flattening: sold", 30)
        telegram.wait_for_message(r"holdings agree with the open trades again", 60)
        lost = placed(session, "BUY")[0]
        sells = placed(session, "SELL")
        assert len(sells) == 1 and sells[0].client_order_id.startswith(FLATTEN_PREFIX)
        (sell,) = sells
        orphan = lost.executed * (1 - FEE)
        assert (sell.type, sell.status) == ("MARKET", "FILLED")
        assert sell.executed == lot(exchange, "BTC/USDT", float(orphan))
        assert f"sold {float(sell.executed):.8g} BTC at market" in flattening.text
        assert holding(exchange, "BTC") * exchange.price("BTC/USDT") < 1
        # The signal's next entry is the bot's second buy ever: the lost one was not repeated
        # (it arrived on the exchange after the bot had given up, so the bot waited).
        buys_before = [o for o in placed(session, "BUY") if o.created_ms < sell.created_ms]
        assert buys_before == [lost]
        bot.wait_for(lambda: bot.trades(), 90, what="a trade after the flattening")
        print(f"late entry: {orphan} BTC flattened by one market sell")


# ---------------------------------------------------------------------------- flattening


def btc_held_and_eth_resting(session: ReplaySession) -> bool:
    """A BTC trade with its stop on the exchange and an ETH entry order resting."""
    trades = {t["pair"]: t for t in open_trades(session.bot.trades())}
    btc, eth = trades.get("BTC/USDT"), trades.get("ETH/USDT")
    resting = [o for o in session.exchange.open_orders("ETH/USDT") if o.side == "BUY"]
    return bool(btc and eth and is_protected(session.exchange, btc) and resting)


def assert_flat_and_sold_once(session: ReplaySession) -> None:
    """Nothing open anywhere; BTC sold once, all of it; ETH never filled, never sold."""
    exchange = session.exchange
    assert open_trades(session.bot.trades()) == []
    assert [o for o in session.bot.orders() if o["ft_is_open"]] == []
    assert exchange.open_orders() == []
    assert holding(exchange, "BTC") * exchange.price("BTC/USDT") < 1
    assert holding(exchange, "ETH") == 0
    (buy,) = placed(session, "BUY")
    sold = [o for o in placed(session, "SELL") if o.executed > 0]
    assert len(sold) == 1 and sold[0].executed == lot(
        exchange, "BTC/USDT", float(buy.executed * (1 - FEE))
    )
    (eth,) = placed(session, "BUY", "ETH/USDT")
    assert eth.status == "CANCELED" and eth.executed == 0
    assert placed(session, "SELL", "ETH/USDT") == []
    stops = [o for o in exchange.orders() if o.is_stop]
    assert stops and all(o.status == "CANCELED" and o.executed == 0 for o in stops)
    assert exchange.balances()["USDT"][1] == 0


def flatten_bot(tmp_path: Path, risk: dict[str, Any]) -> Any:
    # While exits fail the trade has no stop for a while: no exit for that meanwhile.
    risk = {**risk, "reconcile": {"stop_grace_seconds": 36_000}}
    return order_bot(
        tmp_path,
        risk=risk,
        hold=0,
        stoploss=-0.05,
        pairs=("BTC/USDT", "ETH/USDT"),
        overrides={
            "max_open_trades": 2,
            "unfilledtimeout": {"entry": 6000, "exit": 10, "unit": "minutes"},
        },
    )


def enter_btc_and_rest_eth(session: ReplaySession) -> None:
    bot = session.bot
    bot.force_enter("BTC/USDT")
    bot.wait_for(
        lambda: [t for t in open_trades(bot.trades()) if is_protected(session.exchange, t)],
        60,
        what="BTC with its stop",
    )
    bot.force_enter("ETH/USDT", price=round(session.exchange.price("ETH/USDT") * 0.95, 2))
    bot.wait_for(lambda: btc_held_and_eth_resting(session), 60, what="a position + an order")


def inject_order_faults(session: ReplaySession) -> None:
    """500s on the next exit placements, 429s on the next cancels."""
    exchange = session.exchange
    exits = {"path": "/api/v3/order", "method": "POST", "params": {"side": "SELL", "type": "LIMIT"}}
    exchange.fail_next(3, status=500, **exits)
    exchange.fail_next(1, status=429, retry_after=1, **exits)
    exchange.fail_next(3, status=429, retry_after=1, path="/api/v3/order", method="DELETE")


def test_forceexit_all_retries_through_500s_and_429s_until_flat(tmp_path: Path) -> None:
    with flatten_bot(tmp_path, {"kill_switch": {"enabled": False}}) as session:
        bot, exchange, telegram = session.bot, session.exchange, session.telegram
        assert telegram is not None
        enter_btc_and_rest_eth(session)
        inject_order_faults(session)
        telegram.send_user_message("/forceexit all")
        bot.wait_for(lambda: not open_trades(bot.trades()), 90, what="every trade closed")
        bot.wait_for(lambda: not exchange.open_orders(), 30, what="no open order")
        assert exchange.faults_pending() == 0  # every fault met a request
        assert_flat_and_sold_once(session)
        failed = [r for r in exchange.requests_to("/api/v3/order", "POST") if r.fault]
        assert len(failed) == 4
        (closed,) = [t for t in bot.trades() if t["pair"] == "BTC/USDT"]
        assert closed["exit_reason"] == "force_exit"
        print(f"/forceexit all: flat after {len(failed)} failed exits and 3 refused cancels")


def test_the_kill_switch_flattens_through_500s_429s_and_a_timed_out_exit(tmp_path: Path) -> None:
    # A 300 USDT position pays 0.6 USDT of fees in and out: 0.06 % of the wallet, beyond 0.03 %,
    # so the kill switch trips as soon as the entry has filled.
    risk = {"kill_switch": {"max_daily_loss": 0.0003, "max_drawdown": 0.5}}
    risk["reconcile"] = {"stop_grace_seconds": 36_000}
    with order_bot(tmp_path, risk=risk, hold=0, stoploss=-0.05, ccxt_timeout_ms=1500) as session:
        bot, exchange = session.bot, session.exchange
        exits = {
            "path": "/api/v3/order",
            "method": "POST",
            "params": {"type": "LIMIT", "side": "SELL"},
        }
        exchange.fail_next(2, status=500, **exits)
        exchange.fail_next(1, status=429, retry_after=1, **exits)
        exchange.stall_next(1, seconds=3, execute_first=True, **exits)  # sold, the bot not told
        exchange.fail_next(2, status=429, retry_after=1, path="/api/v3/order", method="DELETE")
        bot.force_enter("BTC/USDT")
        bot.wait_for(lambda: bot.trades() and not open_trades(bot.trades()), 120, what="flat")
        bot.wait_for(lambda: not exchange.open_orders(), 30, what="no open order")
        assert exchange.faults_pending() == 0
        (trade,) = bot.trades()
        # The kill switch is the only exit here (no signal, a stop 5 % away); its exit that
        # timed out was executed, and FreqTrade found it on the exchange instead of selling again.
        assert trade["exit_reason"] == "sold_on_exchange"
        (buy,) = placed(session, "BUY")
        sold = [o for o in placed(session, "SELL") if o.executed > 0]
        # The timed-out exit was executed; the bot found it instead of selling again.
        assert len(sold) == 1 and sold[0].executed == lot(
            exchange, "BTC/USDT", float(buy.executed * (1 - FEE))
        )
        refused = [r for r in exchange.requests_to("/api/v3/order", "POST") if r.status != 200]
        assert all(r.params.get("side") == "SELL" for r in refused)
        assert holding(exchange, "BTC") * exchange.price("BTC/USDT") < 1
        stops = [o for o in exchange.orders() if o.is_stop]
        assert all(o.status == "CANCELED" and o.executed == 0 for o in stops)
        print(f"kill switch: flat after {len(refused)} refused exits, sold once")
