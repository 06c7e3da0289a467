"""The stop on the exchange, end to end: ``freqtrade trade`` (live mode, the shipped live
``order_types``: a stop-limit order on the exchange) with ITBStrategy's callbacks on a scripted
signal (``ScriptedOrders``), against the replay exchange and the fake Telegram.

Each test reads the exchange's side (its open orders, fills and balances), not only the bot's.
FreqTrade itself places the stop after the entry, re-places it after an exchange-side cancel and
after a restart, and re-sizes it after each TWAP child; the ITB exchange check adds what
FreqTrade lacks: a trade whose stop cannot be placed (500s, or a reject that FreqTrade answers by
retrying) is exited or entries pause, and Telegram is told.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ReplaySession
from tests.support.invariants import holding, is_protected, lot, open_trades, stops_of
from tests.support.scripted import order_bot

pytestmark = [pytest.mark.usefixtures("freqtrade_installed")]

STOPLOSS = -0.02
LIMIT_RATIO = 0.99  # FreqTrade's default stoploss_on_exchange_limit_ratio
STOP_POST = {"path": "/api/v3/order", "method": "POST", "params": {"type": "STOP_LOSS_LIMIT"}}


def held_trade(session: ReplaySession) -> dict[str, Any] | None:
    """The open trade once its entry has filled."""
    filled = [t for t in open_trades(session.bot.trades()) if (t["amount"] or 0) > 0]
    settled = [t for t in filled if not any(o["ft_is_open"] for o in entry_orders(session, t))]
    return dict(settled[0]) if settled else None


def entry_orders(session: ReplaySession, trade: dict[str, Any]) -> list[dict[str, Any]]:
    orders = session.bot.orders()
    return [o for o in orders if o["ft_trade_id"] == trade["id"] and o["ft_order_side"] == "buy"]


def protected_trade(session: ReplaySession) -> dict[str, Any] | None:
    trade = held_trade(session)
    return trade if trade is not None and is_protected(session.exchange, trade) else None


def run_candles(session: ReplaySession, hours: float) -> None:
    target = session.clock.now() + timedelta(hours=hours)
    session.bot.wait_for(lambda: session.clock.now() >= target, 60, what=f"{hours} candles")


def assert_stop_covers(session: ReplaySession, trade: dict[str, Any]) -> None:
    """One stop-limit sell on the exchange for the trade's whole amount at the strategy's stop:
    ``stoploss`` below the entry price; with TWAP children below the highest average entry
    price after a child, since FreqTrade moves the stop up to the new average after a child
    fills and never down."""
    exchange = session.exchange
    (stop,) = stops_of(exchange, trade)
    assert (stop.type, stop.side, stop.status) == ("STOP_LOSS_LIMIT", "SELL", "NEW")
    assert stop.quantity == lot(exchange, trade["pair"], trade["amount"])
    # The exchange holds what the trade holds: the stop sells all of it but the sub-lot rest.
    assert stop.quantity == lot(exchange, trade["pair"], holding(exchange, "BTC"))
    buys = [o for o in exchange.orders() if o.side == "BUY" and o.symbol == trade["pair"]]
    averages = [
        sum(o.quote_executed for o in buys[:k]) / sum(o.executed for o in buys[:k])
        for k in range(1, len(buys) + 1)
    ]
    entry = float(max(averages))
    assert float(stop.stop_price) == pytest.approx(entry * (1 + STOPLOSS), abs=0.011)
    assert float(stop.price) == pytest.approx(float(stop.stop_price) * LIMIT_RATIO, abs=0.011)


def test_one_stop_per_trade_replaced_after_an_exchange_cancel_and_a_kill_9(tmp_path: Path) -> None:
    with order_bot(tmp_path, stoploss=STOPLOSS, telegram=False) as session:
        bot, exchange = session.bot, session.exchange
        trade = bot.wait_for(lambda: protected_trade(session), 60, what="a trade with its stop")
        assert_stop_covers(session, trade)
        first = stops_of(exchange, trade)[0]

        # The exchange cancels the stop: the bot places a new one.
        exchange.cancel_on_exchange(first.order_id)
        bot.wait_for(lambda: protected_trade(session), 30, what="the stop placed again")
        second = stops_of(exchange, trade)[0]
        assert second.order_id != first.order_id
        assert_stop_covers(session, trade)

        # kill -9 and a restart: the stop stays the only one.
        bot.kill()
        bot.start()
        bot.wait_ready(90)
        run_candles(session, 2)
        assert [s.order_id for s in stops_of(exchange, trade)] == [second.order_id]
        assert_stop_covers(session, trade)

        # kill -9, the stop disappears while the bot is down: the restarted bot places one.
        bot.kill()
        exchange.cancel_on_exchange(second.order_id, status="EXPIRED")
        bot.start()
        bot.wait_ready(90)
        bot.wait_for(lambda: protected_trade(session), 30, what="a stop after the restart")
        assert_stop_covers(session, trade)
        assert [t["id"] for t in open_trades(bot.trades())] == [trade["id"]]
        stops = [o for o in exchange.orders() if o.is_stop]
        assert [o.status for o in stops] == ["CANCELED", "EXPIRED", "NEW"]
        print(f"exchange stop: {len(stops)} stop orders, one open, {stops[-1].quantity} BTC")


TWAP = {"enabled": True, "above_stake": 100.0, "children": 3, "candles": 3}


def test_after_each_twap_child_one_stop_covers_the_whole_position(tmp_path: Path) -> None:
    with order_bot(tmp_path, risk={"twap": TWAP}, stoploss=STOPLOSS, telegram=False) as session:
        bot, exchange = session.bot, session.exchange
        seen: dict[int, Decimal] = {}

        def child_covered() -> bool:
            trade = protected_trade(session)
            if trade is None:
                return False
            entries = [o for o in entry_orders(session, trade) if o["status"] == "closed"]
            seen[len(entries)] = stops_of(exchange, trade)[0].quantity
            return len(entries) == 3

        bot.wait_for(child_covered, 90, what="three children, each with its stop")
        trade = held_trade(session)
        assert trade is not None
        assert_stop_covers(session, trade)
        bought = [o for o in exchange.orders() if o.side == "BUY"]
        assert len(bought) == 3 and all(o.status == "FILLED" for o in bought)
        net = sum(o.executed for o in bought) * Decimal("0.999")
        assert stops_of(exchange, trade)[0].quantity == lot(exchange, "BTC/USDT", float(net))
        # Each stop covered the position of its time: it grew with every child.
        assert sorted(seen) == [1, 2, 3] and seen[1] < seen[2] < seen[3]
        stops = [o for o in exchange.orders() if o.is_stop]
        assert [o.status for o in stops[:-1]] == ["CANCELED"] * (len(stops) - 1)
        assert stops[-1].is_open and stops[-1].executed == 0
        print(f"TWAP stops: {len(stops)} placed, covering {[str(q) for q in seen.values()]}")


def unprotected_exit(tmp_path: Path, fault: str) -> None:
    """The stop placement keeps failing: after the grace the trade is exited and Telegram told."""
    risk = {"reconcile": {"stop_grace_seconds": 3600}}
    with order_bot(tmp_path, risk=risk, stoploss=STOPLOSS, hold=0) as session:
        bot, exchange, telegram = session.bot, session.exchange, session.telegram
        assert telegram is not None
        if fault == "500":
            exchange.fail_next(10_000, status=500, **STOP_POST)
        else:
            exchange.reject_next(10_000, reason=fault, order_type="STOP_LOSS_LIMIT")
        trade_id = bot.force_enter("BTC/USDT")["trade_id"]
        message = telegram.wait_for_message(r"has had no stop on the exchange", 60)
        assert f"trade {trade_id} (BTC/USDT)" in message.text and "exiting it" in message.text
        bot.wait_for(lambda: not open_trades(bot.trades()), 60, what="the trade exited")
        (trade,) = bot.trades()
        assert trade["exit_reason"] == "unprotected"
        stop_posts = [
            r for r in exchange.requests_to("/api/v3/order", "POST")
            if r.params.get("type") == "STOP_LOSS_LIMIT"
        ]  # fmt: skip
        assert len(stop_posts) >= 3 and all(r.status >= 400 for r in stop_posts)  # retried
        # On the exchange: bought once, sold once, the whole lot; nothing open, no stop.
        buys = [o for o in exchange.orders() if o.side == "BUY"]
        sells = [o for o in exchange.orders() if o.side == "SELL"]
        assert len(buys) == 1 and len(sells) == 1 and sells[0].status == "FILLED"
        assert sells[0].executed == lot(exchange, "BTC/USDT", float(buys[0].executed) * 0.999)
        assert exchange.open_orders() == []
        assert holding(exchange, "BTC") * exchange.price("BTC/USDT") < 1
        print(f"unprotected ({fault}): {len(stop_posts)} stop attempts, then exited")


def test_a_stop_that_fails_with_500_is_retried_then_the_trade_is_exited(tmp_path: Path) -> None:
    unprotected_exit(tmp_path, "500")


def test_a_stop_refused_for_the_balance_is_retried_then_the_trade_is_exited(
    tmp_path: Path,
) -> None:
    # FreqTrade answers "insufficient balance" by looking for lost orders and trying again.
    unprotected_exit(tmp_path, "insufficient_balance")


def test_a_stop_refused_by_a_filter_makes_freqtrade_exit_at_once(tmp_path: Path) -> None:
    # FreqTrade's own answer to an invalid stop order: an emergency exit, told on Telegram.
    with order_bot(tmp_path, stoploss=STOPLOSS, hold=0) as session:
        bot, exchange, telegram = session.bot, session.exchange, session.telegram
        assert telegram is not None
        exchange.reject_next(reason="lot_size", order_type="STOP_LOSS_LIMIT")
        bot.force_enter("BTC/USDT")
        bot.wait_for(lambda: not open_trades(bot.trades()), 60, what="the emergency exit")
        assert bot.trades()[0]["exit_reason"] == "emergency_exit"
        telegram.wait_for_message(r"(?s)Exit.*emergency_exit", 30)
        assert exchange.open_orders() == [] and holding(exchange, "BTC") < 1e-4


def eth_buys(session: ReplaySession) -> int:
    return len([o for o in session.exchange.orders() if o.side == "BUY" and o.symbol == "ETH/USDT"])


def test_entries_pause_while_a_stop_cannot_be_placed_and_resume_with_it(tmp_path: Path) -> None:
    # ETH enters on even hours and exits on odd ones; BTC is entered by hand and its stop fails.
    risk = {"reconcile": {"stop_grace_seconds": 3600, "on_unprotected": "pause"}}
    with order_bot(
        tmp_path,
        risk=risk,
        stoploss=STOPLOSS,
        cycle=2,
        hold=1,
        signal_pairs=("ETH/USDT",),
        pairs=("BTC/USDT", "ETH/USDT"),
        overrides={"max_open_trades": 2},
    ) as session:
        bot, exchange, telegram = session.bot, session.exchange, session.telegram
        assert telegram is not None
        bot.wait_for(lambda: eth_buys(session) >= 1, 60, what="an ETH entry")
        btc_stops = {**STOP_POST, "params": {"type": "STOP_LOSS_LIMIT", "symbol": "BTCUSDT"}}
        exchange.fail_next(10_000, status=500, **btc_stops)
        btc = bot.force_enter("BTC/USDT")["trade_id"]
        message = telegram.wait_for_message(r"has had no stop on the exchange", 60)
        assert f"trade {btc} (BTC/USDT)" in message.text
        assert "entries paused until its stop is back" in message.text
        locks = bot.api("/api/v1/locks")["locks"]
        assert any(lock["pair"] == "*" and "no stop" in lock["reason"] for lock in locks)
        # Two even hours pass: the ETH signal asks twice, no ETH entry is placed.
        paused_at = eth_buys(session)
        run_candles(session, 4.2)
        assert eth_buys(session) == paused_at
        assert "Global pairlock active" in bot.log_text()

        # The exchange accepts stops again: the BTC stop is placed and entries resume.
        exchange.clear_faults()
        telegram.wait_for_message(r"every open trade has its stop again; entries resume", 60)
        btc_trade = next(t for t in bot.trades() if t["id"] == btc)
        assert is_protected(exchange, btc_trade)
        assert not any(lock["pair"] == "*" for lock in bot.api("/api/v1/locks")["locks"])
        bot.wait_for(lambda: eth_buys(session) > paused_at, 60, what="an ETH entry again")
        print(f"pause: {paused_at} ETH entries before, resumed after the BTC stop was placed")
