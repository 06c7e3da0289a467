"""The exchange against the bot's trades: holdings the open trades do not explain, orders the bot
never placed, and open trades the exchange does not protect with a stop.

Pure functions of what a live bot reads at the start of a loop (see
:mod:`itb_ext.adapters.live_orders`, which reads FreqTrade and the exchange, and
:class:`~itb_ext.config.risk_controls.ReconcileConfig`, which says what is done about it).

An asset's holdings are *explained* when they lie within the range the open trades allow: each
trade holds what its filled orders booked, its open entry orders may have bought up to their
amount since they were last read, its open exit and stop orders may have sold up to theirs, and
where FreqTrade's own figure for the trade differs from its booked orders (an amount it adjusted
to the wallet) the difference counts either way. Holdings outside the range by more than the
asset's dust are a :class:`Mismatch`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Position:
    """One open trade as the checks read it (amounts in the base asset).

    :param trade_id: the bot's trade id; :param pair: e.g. ``BTC/USDT``; :param asset: its base.
    :param amount: what its filled orders booked, net of commissions taken in the asset.
    :param recorded: the trade's own figure (FreqTrade's ``amount``), which may be rounded or
        adjusted; where it differs from ``amount`` the difference counts either way.
    :param buying: what its open entry orders may buy.
    :param selling: what its open exit and stop orders may sell.
    :param stop_amount: what its open stop orders cover.
    :param sellable: ``recorded`` rounded down to the market's lot size: what a stop covers.
    :param exiting: an exit order of it is open (its stop is off while the exit works).
    :param order_ids: the exchange ids of its orders, open or not.
    """

    trade_id: int
    pair: str
    asset: str
    amount: float
    recorded: float = 0.0
    buying: float = 0.0
    selling: float = 0.0
    stop_amount: float = 0.0
    sellable: float = 0.0
    exiting: bool = False
    order_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def slack(self) -> float:
        return abs(self.recorded - self.amount)

    @property
    def busy(self) -> bool:
        """An entry or exit order of it is open."""
        return self.buying > 0 or self.exiting


@dataclass(frozen=True)
class OpenOrder:
    """An open order on the exchange.

    :param order_id: the exchange's id; :param pair: e.g. ``BTC/USDT``; :param side: ``buy`` or
        ``sell``; :param remaining: base amount still unfilled; :param is_stop: a stop order.
    """

    order_id: str
    pair: str
    side: str
    remaining: float
    is_stop: bool = False


@dataclass(frozen=True)
class Mismatch:
    """Holdings of one asset outside what the open trades explain.

    :param asset: e.g. ``BTC``; :param held: the exchange's balance (free and locked).
    :param low: least explained holdings; :param high: most explained holdings.
    :param price: stake currency per unit, to value the difference.
    """

    asset: str
    held: float
    low: float
    high: float
    price: float

    @property
    def excess(self) -> float:
        """Held beyond the explained range: positive above it, negative below it."""
        return self.held - self.high if self.held > self.high else self.held - self.low

    @property
    def value(self) -> float:
        """The difference's value in the stake currency (always positive)."""
        return abs(self.excess) * self.price

    def describe(self, stake_currency: str) -> str:
        """E.g. ``BTC: the exchange holds 0.0535, the open trades explain 0 (+0.0535 BTC,
        about 300 USDT)``."""
        explained = (
            _amount(self.low)
            if self.low == self.high
            else (f"{_amount(self.low)} to {_amount(self.high)}")
        )
        return (
            f"{self.asset}: the exchange holds {_amount(self.held)}, the open trades explain "
            f"{explained} ({self.excess:+.8g} {self.asset}, about {self.value:.2f} "
            f"{stake_currency})"
        )


@dataclass(frozen=True)
class Reconciliation:
    """What one check found: holdings outside their range and orders the bot never placed."""

    mismatches: tuple[Mismatch, ...] = ()
    unknown_orders: tuple[OpenOrder, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.mismatches and not self.unknown_orders

    def key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What must stay the same over consecutive checks for the mismatch to count: the
        assets out of range and the unknown order ids."""
        return (
            tuple(sorted(m.asset for m in self.mismatches)),
            tuple(sorted(o.order_id for o in self.unknown_orders)),
        )


def reconcile(
    holdings: Mapping[str, float],
    positions: Sequence[Position],
    open_orders: Sequence[OpenOrder],
    prices: Mapping[str, float],
    dust: Mapping[str, float],
    outside_holdings: Mapping[str, float] | None = None,
    known_order_ids: Collection[str] = (),
) -> Reconciliation:
    """Compare the exchange's holdings and open orders with the bot's open trades.

    :param holdings: per traded asset, the exchange's balance (free + locked); the assets
        checked are the keys of ``prices``.
    :param positions: the bot's open trades.
    :param open_orders: the exchange's open orders on the traded pairs.
    :param prices: per traded asset, its price in the stake currency.
    :param dust: per asset, the value (stake currency) a difference must exceed to count.
    :param outside_holdings: per asset, an amount held besides the bot's trades.
    :param known_order_ids: exchange ids of every order the bot knows (all its trades' orders).
    """
    outside = outside_holdings or {}
    mismatches = []
    for asset, price in sorted(prices.items()):
        mine = [p for p in positions if p.asset == asset]
        base = outside.get(asset, 0.0)
        low = base + sum(p.amount - p.selling - p.slack for p in mine)
        high = base + sum(p.amount + p.buying + p.slack for p in mine)
        candidate = Mismatch(asset, holdings.get(asset, 0.0), max(low, 0.0), high, price)
        outside_range = candidate.held > high or candidate.held < candidate.low
        if outside_range and candidate.value > dust.get(asset, 0.0):
            mismatches.append(candidate)
    known = set(known_order_ids) | {i for p in positions for i in p.order_ids}
    unknown = tuple(o for o in open_orders if o.order_id not in known)
    return Reconciliation(tuple(mismatches), unknown)


def unprotected(positions: Sequence[Position]) -> tuple[Position, ...]:
    """Open trades holding something a stop could cover that their stop orders do not.

    A trade with an open exit order is leaving (its stop is off while the exit works) and one
    holding less than a lot (``sellable`` 0) cannot be covered: neither is listed.
    """
    return tuple(
        p
        for p in positions
        if p.sellable > 0 and not p.exiting and p.stop_amount + 1e-12 < p.sellable
    )


def unprotected_since(
    previous: Mapping[int, datetime], now_unprotected: Collection[int], now: datetime
) -> dict[int, datetime]:
    """Since when each trade has gone without a stop: the first check that found it so.

    :param previous: the last check's answer; trades protected again drop out.
    :param now_unprotected: trade ids without a stop now.
    """
    return {trade_id: previous.get(trade_id, now) for trade_id in now_unprotected}


def _amount(value: float) -> str:
    return f"{value:.8g}"
