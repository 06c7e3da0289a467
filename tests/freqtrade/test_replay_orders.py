"""The order rules of the replay exchange as ccxt (and so FreqTrade) sees them: stop-limit orders
on the candle path, partial fills, exchange-side cancels, rejects of each class, orders that time
out on the client but are executed, and faults on the account and order endpoints.

The clock stands still (speed 0) and the test moves it, so every price an order meets is known:
on 2019-05-01 the 16:00 BTC candle is a down candle (open 5608.6, close 5602.29...), whose path
is the open until 16:24, the high 5609.5 until 16:36, the low 5588.9 until 16:48, then the close.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import wait_until
from tests.support.replay_exchange import ReplayExchange, SimClock

ccxt = pytest.importorskip("ccxt")

CANDLE = datetime(2019, 5, 1, 16, 0, tzinfo=UTC)
OPEN, HIGH, LOW, CLOSE = 5608.6, 5609.5, 5588.9, 5602.290972
FEE = 0.001


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[tuple[ReplayExchange, Any, SimClock]]:
    clock = SimClock(tmp_path / "clock", start=CANDLE + timedelta(minutes=10), speed=0)
    with ReplayExchange(clock, balances={"USDT": 1000}) as exchange:
        api = ccxt.binance(
            {
                **exchange.ccxt_config(timeout_ms=800),
                "apiKey": exchange.api_key,
                "secret": exchange.api_secret,
            }
        )
        api.load_markets()
        yield exchange, api, clock
    clock.close()


def at(clock: SimClock, minutes: float) -> None:
    """Move the clock to ``minutes`` after the 16:00 candle opened."""
    clock.advance((CANDLE + timedelta(minutes=minutes) - clock.now()).total_seconds())


def test_a_stop_limit_sell_triggers_on_the_path_and_fills_at_its_limit(replay: Any) -> None:
    exchange, api, clock = replay
    api.create_order("BTC/USDT", "market", "buy", 0.01)
    held = 0.01 * (1 - FEE)
    assert api.fetch_balance()["BTC"]["free"] == pytest.approx(held)

    # A stop above the price would trigger at once: Binance refuses it.
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        api.create_order("BTC/USDT", "stop_loss_limit", "sell", 0.00999, 5605, {"stopPrice": 5610})
    stop = api.create_order(
        "BTC/USDT", "stop_loss_limit", "sell", 0.00999, 5595, {"stopPrice": 5600}
    )
    # ccxt calls it a limit order with a stop price.
    assert (stop["status"], stop["info"]["type"], stop["stopPrice"]) == (
        "open",
        "STOP_LOSS_LIMIT",
        5600,
    )
    assert api.fetch_balance()["BTC"]["used"] == pytest.approx(0.00999)  # locked at placement

    at(clock, 30)  # the high: nothing happens
    waiting = api.fetch_order(stop["id"], "BTC/USDT")
    assert waiting["status"] == "open" and waiting["info"]["isWorking"] is False
    at(clock, 40)  # the low 5588.9 is through the stop but below the limit: it rests
    triggered = api.fetch_order(stop["id"], "BTC/USDT")
    assert (triggered["status"], triggered["filled"]) == ("open", 0)
    assert triggered["info"]["isWorking"] is True
    at(clock, 50)  # the close 5602.29 is above the limit: filled at the limit
    filled = api.fetch_order(stop["id"], "BTC/USDT")
    assert (filled["status"], filled["average"], filled["filled"]) == ("closed", 5595, 0.00999)
    trade = exchange.fills()[-1]
    assert trade["time"] == int((CANDLE + timedelta(minutes=48)).timestamp() * 1000)
    balance = api.fetch_balance()
    usdt = 1000 - 0.01 * OPEN + 0.00999 * 5595 * (1 - FEE)
    assert balance["USDT"]["free"] == pytest.approx(usdt, abs=1e-6)
    assert balance["BTC"]["total"] == pytest.approx(held - 0.00999, abs=1e-12)


def test_a_stop_loss_market_order_fills_at_the_triggering_price(replay: Any) -> None:
    _, api, clock = replay
    api.create_order("BTC/USDT", "market", "buy", 0.01)
    stop = api.create_order("BTC/USDT", "stop_loss", "sell", 0.00999, None, {"stopPrice": 5600})
    at(clock, 50)
    filled = api.fetch_order(stop["id"], "BTC/USDT")
    assert (filled["status"], filled["average"]) == ("closed", pytest.approx(LOW))


def test_partial_fills_take_a_fraction_then_the_rest_after_the_delay(replay: Any) -> None:
    exchange, api, clock = replay
    # A marketable limit buy: 40 % at once (taker, at the ask), the rest 20 minutes later at
    # the first path price at or below the limit: the high at 16:30 (5609.5 <= 5620).
    exchange.partial_next(fraction=0.4, delay=20 * 60, side="BUY")
    buy = api.create_order("BTC/USDT", "limit", "buy", 0.01, 5620)
    assert (buy["status"], buy["filled"], buy["remaining"]) == ("open", 0.004, 0.006)
    assert api.fetch_balance()["USDT"]["used"] == pytest.approx(0.006 * 5620)
    at(clock, 25)
    assert api.fetch_order(buy["id"], "BTC/USDT")["filled"] == 0.004
    at(clock, 31)
    done = api.fetch_order(buy["id"], "BTC/USDT")
    assert (done["status"], done["filled"]) == ("closed", 0.01)
    assert [float(f["price"]) for f in exchange.orders()[-1].fills] == [OPEN, 5620]
    assert api.fetch_balance()["USDT"]["used"] == 0
    assert api.fetch_balance()["USDT"]["free"] == pytest.approx(1000 - 0.004 * OPEN - 0.006 * 5620)

    # A market sell fills half and expires the rest; a limit whose rest never fills stays open.
    exchange.partial_next(fraction=0.5, side="SELL", order_type="MARKET")
    sold = api.create_order("BTC/USDT", "market", "sell", 0.004)
    assert (sold["status"], sold["filled"]) == ("expired", 0.002)
    exchange.partial_next(fraction=0.25, side="SELL", order_type="LIMIT")
    rest = api.create_order("BTC/USDT", "limit", "sell", 0.004, 5590)
    at(clock, 59)
    resting = api.fetch_order(rest["id"], "BTC/USDT")
    assert (resting["status"], resting["filled"]) == ("open", 0.001)
    assert api.fetch_balance()["BTC"]["used"] == pytest.approx(0.003)
    assert api.cancel_order(rest["id"], "BTC/USDT")["status"] == "canceled"
    assert api.fetch_balance()["BTC"]["used"] == 0
    assert exchange.plans_pending() == 0


def test_the_exchange_cancels_and_expires_orders_on_its_own(replay: Any) -> None:
    exchange, api, _ = replay
    low = api.create_order("BTC/USDT", "limit", "buy", 0.01, 5000)
    lower = api.create_order("BTC/USDT", "limit", "buy", 0.01, 4900)
    assert api.fetch_balance()["USDT"]["used"] == pytest.approx(50 + 49)
    exchange.cancel_on_exchange(int(low["id"]))
    exchange.cancel_on_exchange(int(lower["id"]), status="EXPIRED")
    assert api.fetch_order(low["id"], "BTC/USDT")["status"] == "canceled"
    assert api.fetch_order(lower["id"], "BTC/USDT")["status"] == "expired"
    assert api.fetch_open_orders("BTC/USDT") == []
    assert api.fetch_balance()["USDT"] == pytest.approx({"free": 1000, "used": 0, "total": 1000})
    with pytest.raises(ValueError, match="is CANCELED"):
        exchange.cancel_on_exchange(int(low["id"]))


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("insufficient_balance", ccxt.InsufficientFunds),
        ("lot_size", ccxt.InvalidOrder),
        ("price_filter", ccxt.InvalidOrder),
        ("min_notional", ccxt.BadRequest),
        ("would_trigger", ccxt.OrderImmediatelyFillable),
    ],
)
def test_rejects_of_each_class_on_demand(replay: Any, reason: str, error: type) -> None:
    exchange, api, _ = replay
    exchange.reject_next(reason=reason, side="BUY", symbol="BTC/USDT")
    with pytest.raises(error):
        api.create_order("BTC/USDT", "limit", "buy", 0.01, 5000)
    # Only that one: the same order goes through next.
    api.create_order("BTC/USDT", "limit", "buy", 0.01, 5000)
    posted = exchange.requests_to("/api/v3/order", "POST")
    assert [r.status for r in posted] == [400, 200]
    assert len(exchange.orders()) == 1


def test_an_order_that_times_out_on_the_client_is_executed_on_the_exchange(replay: Any) -> None:
    exchange, api, _ = replay
    exchange.stall_next(seconds=1.5, path="/api/v3/order", method="POST", execute_first=True)
    with pytest.raises(ccxt.RequestTimeout):
        api.create_order("BTC/USDT", "market", "buy", 0.01)
    (order,) = exchange.orders()
    assert (order.status, float(order.executed)) == ("FILLED", 0.01)
    assert api.fetch_balance()["BTC"]["total"] == pytest.approx(0.01 * (1 - FEE))
    assert exchange.requests_to("/api/v3/order", "POST")[0].fault == "stall 1.5s executed"
    # Without execute_first the order is placed only after the client gave up.
    exchange.stall_next(seconds=1.5, path="/api/v3/order", method="POST")
    with pytest.raises(ccxt.RequestTimeout):
        api.create_order("BTC/USDT", "limit", "buy", 0.01, 5000)
    assert len(exchange.orders()) == 1
    wait_until(lambda: len(exchange.orders()) == 2, 5, what="the stalled order served late")


def test_faults_reach_every_endpoint_and_can_pick_requests_by_parameter(replay: Any) -> None:
    exchange, api, _ = replay
    api.create_order("BTC/USDT", "market", "buy", 0.01)
    exchange.fail_next(1, status=500, path="/api/v3/order", params={"type": "STOP_LOSS_LIMIT"})
    resting = api.create_order("BTC/USDT", "limit", "buy", 0.001, 5000)  # not a stop: served
    with pytest.raises(ccxt.ExchangeNotAvailable):
        api.create_order("BTC/USDT", "stop_loss_limit", "sell", 0.005, 5500, {"stopPrice": 5550})
    assert [o.type for o in exchange.orders()] == ["MARKET", "LIMIT"]
    endpoints = [
        ("/api/v3/account", "GET", lambda: api.fetch_balance()),
        ("/api/v3/openOrders", "GET", lambda: api.fetch_open_orders("BTC/USDT")),
        ("/api/v3/order", "GET", lambda: api.fetch_order(resting["id"], "BTC/USDT")),
        ("/api/v3/order", "DELETE", lambda: api.cancel_order(resting["id"], "BTC/USDT")),
    ]
    for path, method, call in endpoints:
        exchange.fail_next(1, status=429, path=path, method=method, retry_after=1)
        with pytest.raises(ccxt.DDoSProtection):
            call()
        call()  # the next one is served
    assert exchange.orders()[1].status == "CANCELED"
    assert exchange.faults_pending() == 0
