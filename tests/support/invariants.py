"""What must hold between the replay exchange and a live bot's database, read from both sides
independently of the bot's own checks.

* holdings: the exchange's balance of each traded asset (free and locked) is what the bot's open
  trades hold, within dust (the market's minimum order value);
* protection: every open trade holding a lot or more has exactly one open stop order on the
  exchange, covering its amount rounded down to the lot size;
* no duplicates: no order was executed twice for one intent (an order the bot lost, i.e. one
  executed on the exchange that its database does not know, followed by the bot placing the
  same side on the same pair within a candle), and no pair has two stop orders open.

Orders placed by the bot's own flattening (client order id starting with
:data:`FLATTEN_PREFIX`) are the bot's, though FreqTrade's database does not list them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from itb_ext.adapters.live_orders import FLATTEN_PREFIX
from tests.support.exchange import ExchangeOrder, ReplayExchange


@dataclass(frozen=True)
class AssetMismatch:
    """An asset whose exchange balance differs from the bot's open trades beyond dust."""

    asset: str
    held: float
    trades_hold: float
    value: float


def lot(exchange: ReplayExchange, pair: str, amount: float) -> Decimal:
    """``amount`` rounded down to the pair's lot size."""
    step = Decimal(exchange.markets[pair].step_size)
    return (Decimal(repr(amount)) / step).to_integral_value(ROUND_DOWN) * step


def holding(exchange: ReplayExchange, asset: str) -> float:
    """The exchange's balance of ``asset``, free and locked."""
    free, locked = exchange.balances().get(asset, (0.0, 0.0))
    return free + locked


def open_trades(trades: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [t for t in trades if t["is_open"]]


def mismatches(
    exchange: ReplayExchange, trades: Sequence[Mapping[str, Any]]
) -> list[AssetMismatch]:
    """Assets of the exchange's markets whose balance is not what the open trades hold."""
    found = []
    for pair, market in exchange.markets.items():
        held = holding(exchange, market.base)
        trades_hold = sum(float(t["amount"] or 0) for t in open_trades(trades) if t["pair"] == pair)
        value = abs(held - trades_hold) * exchange.price(pair)
        if value > float(market.min_notional):
            found.append(AssetMismatch(market.base, held, trades_hold, value))
    return found


def stops_of(exchange: ReplayExchange, trade: Mapping[str, Any]) -> list[ExchangeOrder]:
    """The open stop orders on the exchange for the pair of ``trade``."""
    return exchange.stop_orders(trade["pair"])


def is_protected(exchange: ReplayExchange, trade: Mapping[str, Any]) -> bool:
    """Exactly one open stop order for the trade's pair, selling its whole amount (in lots)."""
    stops = stops_of(exchange, trade)
    wanted = lot(exchange, trade["pair"], float(trade["amount"] or 0))
    return len(stops) == 1 and stops[0].side == "SELL" and stops[0].remaining == wanted


def unprotected(
    exchange: ReplayExchange, trades: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Open trades holding at least a lot that are not :func:`is_protected`."""
    return [
        t
        for t in open_trades(trades)
        if lot(exchange, t["pair"], float(t["amount"] or 0)) > 0 and not is_protected(exchange, t)
    ]


def lost_orders(
    exchange: ReplayExchange, bot_orders: Sequence[Mapping[str, Any]]
) -> list[ExchangeOrder]:
    """Orders executed (even in part) on the exchange that the bot's database does not know and
    that its flattening did not place."""
    known = {str(o["order_id"]) for o in bot_orders if o["order_id"]}
    return [
        o
        for o in exchange.orders()
        if o.executed > 0
        and str(o.order_id) not in known
        and not o.client_order_id.startswith(FLATTEN_PREFIX)
    ]


def duplicates(exchange: ReplayExchange, bot_orders: Sequence[Mapping[str, Any]]) -> int:
    """Orders executed twice for one intent, and extra stop orders open on one pair."""
    known = {str(o["order_id"]) for o in bot_orders if o["order_id"]}
    placed = [o for o in exchange.orders() if str(o.order_id) in known and o.executed > 0]
    count = 0
    for lost in lost_orders(exchange, bot_orders):
        window = lost.created_ms + exchange.timeframe_ms
        again = [
            o
            for o in placed
            if o.symbol == lost.symbol
            and o.side == lost.side
            and not o.is_stop
            and o.order_id > lost.order_id
            and o.created_ms <= window
        ]
        count += bool(again)
    for pair in exchange.markets:
        count += max(len(exchange.stop_orders(pair)) - 1, 0)
    return count
