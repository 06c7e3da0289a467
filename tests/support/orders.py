"""The replay exchange's order book: balances, orders, fills and the Binance spot rules for them.

:class:`OrderBook` holds what an account on the replay exchange owns and has ordered; the HTTP
side (:mod:`tests.support.exchange`) parses requests, calls it and formats the answers. Prices
come from the candles' step path (:class:`~tests.support.exchange.CandleSeries.path`), walked in
time order, so an order sees every price the replay went through since it was last checked.

Order types (Binance spot)
    ``LIMIT`` (GTC, IOC, FOK), ``LIMIT_MAKER``, ``MARKET``, ``STOP_LOSS_LIMIT`` and ``STOP_LOSS``.
    A stop order locks its quantity at once (``stoploss_blocks_assets``); it is rejected with
    "Stop price would trigger immediately." when the price is already through its stop. It
    triggers when the path reaches ``stopPrice`` (at or below it for a sell); a
    ``STOP_LOSS_LIMIT`` then rests as a limit order and fills at its limit price as soon as the
    path is at or beyond the limit (at once if the triggering price is), a ``STOP_LOSS`` fills at
    the triggering price. Before it triggers a stop answers ``isWorking: false``.

Partial fills (:class:`OrderPlan` ``partial``)
    The first fill of a planned order takes ``fraction`` of its quantity (rounded down to the
    lot step, at least one step); the rest fills ``delay_ms`` later, at the next price at or
    beyond its limit, or never (``delay_ms=None``: it rests until cancelled). A market order
    fills the fraction and expires the rest, as Binance's market orders do when the book is thin.

Rejects (:class:`OrderPlan` ``reject``)
    The order is refused with the Binance error of its class (:data:`REJECTS`), whatever its
    parameters: the balance and the filters are then not looked at.

Balances
    Funds are locked at placement (a buy at its limit price, a market buy at the ask, a stop buy
    at its stop); each fill releases its share and pays the commission (``fee``) in the asset
    received; a cancel or an expiry releases the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tests.support.exchange import CandleSeries, Market

SIDES = ("BUY", "SELL")
ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "STOP_LOSS")
STOP_TYPES = ("STOP_LOSS_LIMIT", "STOP_LOSS")
_PRICED = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT")
_SATOSHI = Decimal("1e-8")

REJECTS: dict[str, tuple[int, int, str]] = {
    "insufficient_balance": (400, -2010, "Account has insufficient balance for requested action."),
    "lot_size": (400, -1013, "Filter failure: LOT_SIZE"),
    "min_notional": (400, -1013, "Filter failure: NOTIONAL"),
    "price_filter": (400, -1013, "Filter failure: PRICE_FILTER"),
    "would_trigger": (400, -2010, "Stop price would trigger immediately."),
}
"""Binance's answer (HTTP status, code, message) for each class of rejected order."""


class ExchangeError(Exception):
    """A Binance-style error answer: HTTP status, Binance code and message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def fmt(value: Decimal | float) -> str:
    """A number as Binance writes it: eight decimals."""
    return f"{Decimal(value):.8f}" if isinstance(value, Decimal) else f"{value:.8f}"


def round_to(value: float, step: Decimal) -> Decimal:
    """``value`` rounded to the nearest multiple of ``step``."""
    return (Decimal(repr(value)) / step).quantize(Decimal(1), ROUND_HALF_UP) * step


@dataclass
class OrderPlan:
    """What happens to the next ``remaining`` orders placed that match side, type and symbol.

    :param kind: ``reject`` (answered with ``REJECTS[reason]``) or ``partial``.
    :param side: ``BUY``/``SELL`` or None for both; :param order_type: e.g. ``STOP_LOSS_LIMIT``
        or None for any; :param symbol: ccxt symbol (``BTC/USDT``) or None for any.
    :param reason: the reject class, a key of :data:`REJECTS`.
    :param fraction: share of the quantity the first fill takes (``partial``).
    :param delay_ms: sim milliseconds after the first fill before the rest may fill; None: never.
    """

    kind: Literal["reject", "partial"]
    remaining: int = 1
    side: str | None = None
    order_type: str | None = None
    symbol: str | None = None
    reason: str = "lot_size"
    fraction: float = 0.5
    delay_ms: int | None = None

    def matches(self, side: str, order_type: str, symbol: str) -> bool:
        return (
            (self.side is None or self.side == side)
            and (self.order_type is None or self.order_type == order_type)
            and (self.symbol is None or self.symbol == symbol)
        )


@dataclass
class ExchangeOrder:
    """An order on the replay exchange (Binance field names in :meth:`as_binance`)."""

    order_id: int
    client_order_id: str
    market: Market
    side: str  # BUY / SELL
    type: str  # one of ORDER_TYPES
    time_in_force: str
    price: Decimal  # the limit; 0 for MARKET and STOP_LOSS
    quantity: Decimal
    created_ms: int
    checked_ms: int
    stop_price: Decimal = Decimal(0)
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote_executed: Decimal = Decimal(0)
    updated_ms: int = 0
    triggered_ms: int | None = None
    first_fill_ms: int | None = None
    locked: Decimal = Decimal(0)
    """Funds this order still holds: quote currency for a buy, base currency for a sell."""
    lock_price: Decimal = Decimal(0)
    """The price a buy's funds were locked at."""
    plan: OrderPlan | None = None
    cancelled_by_exchange: bool = False
    fills: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def is_stop(self) -> bool:
        return self.type in STOP_TYPES

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed

    @property
    def symbol(self) -> str:
        return self.market.symbol

    def as_binance(self) -> dict[str, Any]:
        waiting = self.is_stop and self.triggered_ms is None
        return {
            "symbol": self.market.exchange_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.quantity),
            "executedQty": fmt(self.executed),
            "cummulativeQuoteQty": fmt(self.quote_executed),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "stopPrice": fmt(self.stop_price),
            "icebergQty": "0.00000000",
            "time": self.created_ms,
            "updateTime": self.updated_ms or self.created_ms,
            "isWorking": not waiting,
            "workingTime": -1 if waiting else (self.triggered_ms or self.created_ms),
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


Quote = Callable[["Market", int], tuple[Decimal, Decimal]]
"""Bid and ask of a market at a sim time (milliseconds)."""


class OrderBook:
    """Balances, orders and fills of the one account of the replay exchange.

    Not thread-safe: the exchange calls it under its lock.

    :param candles: per ccxt symbol, the candles whose path drives fills.
    :param quote: bid and ask of a market at a time (the exchange's spread around the path).
    :param fee: commission rate of every fill.
    :param balances: starting free balances, e.g. ``{"USDT": 1000}``.
    """

    def __init__(
        self,
        candles: Mapping[str, CandleSeries],
        quote: Quote,
        fee: Decimal,
        balances: Mapping[str, float] | None = None,
    ) -> None:
        self.candles, self.quote, self.fee = candles, quote, fee
        self.balances: dict[str, list[Decimal]] = {
            asset: [Decimal(str(amount)), Decimal(0)] for asset, amount in (balances or {}).items()
        }
        self.orders: dict[int, ExchangeOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self._next_order_id = 1000
        self._next_trade_id = 5000

    def wallet(self, asset: str) -> list[Decimal]:
        """[free, locked] of ``asset`` (created empty on first use)."""
        return self.balances.setdefault(asset, [Decimal(0), Decimal(0)])

    # ------------------------------------------------------------------ placing
    def place(  # noqa: C901  one order type per branch, as the exchange's own rules read
        self,
        market: Market,
        params: Mapping[str, str],
        now_ms: int,
        plan: OrderPlan | None = None,
    ) -> ExchangeOrder:
        """Check and place an order from Binance's ``POST /api/v3/order`` parameters.

        :raises ExchangeError: a Binance error (bad parameters, filters, balance, a planned
            reject).
        """
        side, kind = params.get("side", "").upper(), params.get("type", "").upper()
        if side not in SIDES:
            raise ExchangeError(400, -1117, "Invalid side.")
        if kind not in ORDER_TYPES:
            raise ExchangeError(400, -1116, "Invalid orderType.")
        if plan is not None and plan.kind == "reject":
            raise ExchangeError(*REJECTS[plan.reason])
        bid, ask = self.quote(market, now_ms)
        touch = ask if side == "BUY" else bid
        step, tick = Decimal(market.step_size), Decimal(market.tick_size)
        quantity = self._quantity(params, kind, touch, step)
        price = self._decimal(params, "price") if kind in _PRICED else Decimal(0)
        stop = self._decimal(params, "stopPrice") if kind in STOP_TYPES else Decimal(0)
        if quantity < step or quantity % step:
            raise ExchangeError(400, -1013, "Filter failure: LOT_SIZE")
        for value in (price, stop):
            if value < 0 or value % tick:
                raise ExchangeError(400, -1013, "Filter failure: PRICE_FILTER")
        if (kind in _PRICED and price == 0) or (kind in STOP_TYPES and stop == 0):
            raise ExchangeError(400, -1013, "Filter failure: PRICE_FILTER")
        lock_price = price if kind in _PRICED else (stop if kind in STOP_TYPES else touch)
        if quantity * lock_price < Decimal(market.min_notional):
            raise ExchangeError(400, -1013, "Filter failure: NOTIONAL")
        if kind in STOP_TYPES and (bid <= stop if side == "SELL" else ask >= stop):
            raise ExchangeError(*REJECTS["would_trigger"])
        marketable = kind == "MARKET" or (
            kind in ("LIMIT", "LIMIT_MAKER") and (price >= ask if side == "BUY" else price <= bid)
        )
        if kind == "LIMIT_MAKER" and marketable:
            raise ExchangeError(400, -2010, "Order would immediately match and take.")
        pay_asset = market.quote if side == "BUY" else market.base
        pay = quantity * lock_price if side == "BUY" else quantity
        wallet = self.wallet(pay_asset)
        if wallet[0] < pay:
            raise ExchangeError(*REJECTS["insufficient_balance"])
        wallet[0] -= pay
        wallet[1] += pay
        self._next_order_id += 1
        order = ExchangeOrder(
            order_id=self._next_order_id,
            client_order_id=params.get("newClientOrderId") or f"replay{self._next_order_id}",
            market=market,
            side=side,
            type=kind,
            time_in_force=params.get("timeInForce", "GTC") if kind != "MARKET" else "GTC",
            price=price,
            quantity=quantity,
            created_ms=now_ms,
            checked_ms=now_ms,
            stop_price=stop,
            locked=pay,
            lock_price=lock_price,
            plan=plan,
        )
        self.orders[order.order_id] = order
        if marketable:
            self._fill_due(order, touch, now_ms, maker=False)
        elif order.time_in_force in ("IOC", "FOK") and kind == "LIMIT":
            self.close(order, now_ms, "EXPIRED")
        return order

    @staticmethod
    def _decimal(params: Mapping[str, str], name: str) -> Decimal:
        if name not in params:
            raise ExchangeError(400, -1102, f"Mandatory parameter '{name}' was not sent.")
        return Decimal(params[name])

    @staticmethod
    def _quantity(params: Mapping[str, str], kind: str, touch: Decimal, step: Decimal) -> Decimal:
        if "quantity" in params:
            return Decimal(params["quantity"])
        if kind == "MARKET" and "quoteOrderQty" in params:
            return (Decimal(params["quoteOrderQty"]) / touch).quantize(step, ROUND_DOWN)
        raise ExchangeError(400, -1102, "Mandatory parameter 'quantity' was not sent.")

    # ------------------------------------------------------------------ matching
    def match(self, now_ms: int) -> None:
        """Walk every open order along the path from its last check to ``now_ms``."""
        for order in list(self.orders.values()):
            if not order.is_open or now_ms <= order.checked_ms:
                continue
            series = self.candles[order.symbol]
            points = series.path(order.checked_ms, now_ms)
            due = self._rest_due_ms(order)
            if due is not None and order.checked_ms < due <= now_ms:
                points = sorted([*points, (due, series.price_at(due))])
            order.checked_ms = now_ms
            for at_ms, price in points:
                if not order.is_open:
                    break
                self._on_price(order, price, at_ms)

    def _on_price(self, order: ExchangeOrder, price: float, at_ms: int) -> None:
        tick = Decimal(order.market.tick_size)
        if order.is_stop and order.triggered_ms is None:
            selling = order.side == "SELL"
            if not (price <= order.stop_price if selling else price >= order.stop_price):
                return
            order.triggered_ms = order.updated_ms = at_ms
            if order.type == "STOP_LOSS":
                self._fill_due(order, round_to(price, tick), at_ms, maker=False)
                return
        if order.type in ("MARKET", "STOP_LOSS"):
            return
        if price <= order.price if order.side == "BUY" else price >= order.price:
            self._fill_due(order, order.price, at_ms, maker=True)

    @staticmethod
    def _rest_due_ms(order: ExchangeOrder) -> int | None:
        plan = order.plan
        if plan is None or order.first_fill_ms is None or plan.delay_ms is None:
            return None
        return order.first_fill_ms + plan.delay_ms

    def _fill_due(self, order: ExchangeOrder, price: Decimal, now_ms: int, *, maker: bool) -> None:
        """Fill what the order's plan lets fill now at ``price``."""
        quantity = order.remaining
        if order.plan is not None and order.plan.kind == "partial":
            if order.first_fill_ms is None:
                step = Decimal(order.market.step_size)
                share = (order.quantity * Decimal(str(order.plan.fraction))).quantize(
                    step, ROUND_DOWN
                )
                quantity = min(max(share, step), order.remaining)
            else:
                due = self._rest_due_ms(order)
                if due is None or now_ms < due:
                    return
        self._fill(order, quantity, price, now_ms, maker=maker)
        if order.type in ("MARKET", "STOP_LOSS") and order.is_open:
            self.close(order, now_ms, "EXPIRED")

    def _fill(
        self, order: ExchangeOrder, quantity: Decimal, price: Decimal, now_ms: int, *, maker: bool
    ) -> None:
        market = order.market
        last = quantity == order.remaining
        cost = quantity * price
        base, quote = self.wallet(market.base), self.wallet(market.quote)
        if order.side == "BUY":
            release = order.locked if last else quantity * order.lock_price
            quote[1] -= release
            quote[0] += release - cost
            commission, asset = (quantity * self.fee).quantize(_SATOSHI), market.base
            base[0] += quantity - commission
        else:
            release = order.locked if last else quantity
            base[1] -= release
            base[0] += release - quantity
            commission, asset = (cost * self.fee).quantize(_SATOSHI), market.quote
            quote[0] += cost - commission
        order.locked -= release
        order.executed += quantity
        order.quote_executed += cost
        order.first_fill_ms = order.first_fill_ms or now_ms
        order.status = "FILLED" if last else "PARTIALLY_FILLED"
        order.updated_ms = now_ms
        self._next_trade_id += 1
        order.fills.append(
            {
                "price": fmt(price),
                "qty": fmt(quantity),
                "commission": fmt(commission),
                "commissionAsset": asset,
                "tradeId": self._next_trade_id,
            }
        )
        self.trades.append(
            {
                "symbol": market.exchange_id,
                "id": self._next_trade_id,
                "orderId": order.order_id,
                "orderListId": -1,
                "price": fmt(price),
                "qty": fmt(quantity),
                "quoteQty": fmt(cost),
                "commission": fmt(commission),
                "commissionAsset": asset,
                "time": now_ms,
                "isBuyer": order.side == "BUY",
                "isMaker": maker,
                "isBestMatch": True,
            }
        )

    # ------------------------------------------------------------------ cancelling, finding
    def close(self, order: ExchangeOrder, now_ms: int, status: str = "CANCELED") -> None:
        """End an open order (``CANCELED`` or ``EXPIRED``) and release what it still locks."""
        asset = order.market.quote if order.side == "BUY" else order.market.base
        wallet = self.wallet(asset)
        wallet[1] -= order.locked
        wallet[0] += order.locked
        order.locked = Decimal(0)
        order.status, order.updated_ms = status, now_ms

    def find(self, market: Market, params: Mapping[str, str]) -> ExchangeOrder:
        """The order named by ``orderId`` or ``origClientOrderId`` on ``market``."""
        order: ExchangeOrder | None = None
        if "orderId" in params:
            order = self.orders.get(int(params["orderId"]))
        elif "origClientOrderId" in params:
            wanted = params["origClientOrderId"]
            order = next((o for o in self.orders.values() if o.client_order_id == wanted), None)
        if order is None or order.market != market:
            raise ExchangeError(400, -2013, "Order does not exist.")
        return order
