"""ITBStrategy's checks of the live exchange against FreqTrade's trades, and exits that are
retried until the trade is closed.

Every loop of a live bot (``bot_loop_start``), :class:`ExchangeChecks` reads the exchange's
balances and open orders and FreqTrade's open trades, asks :mod:`itb_ext.risk.reconcile` what
disagrees, and acts as ``itb.risk.reconcile`` says
(:class:`~itb_ext.config.risk_controls.ReconcileConfig`): it pauses entries with a global pair
lock (FreqTrade's own mechanism: persisted in its database, shown by ``/locks``), flattens
unexplained holdings, or marks a trade without a stop for exit; it returns what the operator
must be told.

Exits the bot must not give up on are recorded on the trade (custom data ``itb_exit_intent``)
and :func:`exit_reason`, called from ``custom_exit``, returns them on every loop until the trade
is closed. FreqTrade places a ``/forceexit`` once, from the Telegram or REST thread, and drops it
when the order request fails (a 500, a 429, a timeout), and ``/forceexit all`` stops at the
first trade that fails; :func:`confirm_exit` therefore turns a forced exit into such an intent
(FreqTrade's first attempt is declined, the bot's loop places it a moment later and again after
every failure). A forced exit is then placed as the configured ``order_types.exit``.

FreqTrade gives a strategy no public handle on the exchange; the checks use the exchange object
of the strategy's data provider (``dp._exchange``) and, for open orders, its ccxt client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ccxt
from freqtrade.enums import RunMode
from freqtrade.exceptions import ExchangeError, OperationalException
from freqtrade.exchange import Exchange
from freqtrade.persistence import PairLocks, Trade
from freqtrade.strategy import IStrategy

from itb_ext.config.risk_controls import ReconcileConfig
from itb_ext.risk.reconcile import (
    OpenOrder,
    Position,
    Reconciliation,
    reconcile,
    unprotected,
    unprotected_since,
)
from itb_ext.strategy.alerts import Alert, Messages

logger = logging.getLogger(__name__)

INTENT_KEY = "itb_exit_intent"
"""Trade custom data: the exit the bot keeps placing until the trade is closed."""
FLATTEN_PREFIX = "itbflat"
"""Client order id prefix of the market orders that flatten unexplained holdings."""
FORCED_EXIT = "force_exit"
UNPROTECTED_EXIT = "unprotected"
PAUSE_MISMATCH = "ITB exchange check: holdings differ from the open trades"
PAUSE_UNPROTECTED = "ITB exchange check: an open trade has no stop on the exchange"
RESUMED_HOLDINGS = (
    "✅ ITB exchange check: the holdings agree with the open trades again; entries resume."
)
RESUMED_STOPS = "✅ ITB exchange check: every open trade has its stop again; entries resume."
#: A pause lasts until the bot lifts it (or a person does, with /unlock).
_PAUSE_LENGTH = timedelta(days=3650)


def confirm_exit(trade: Trade, exit_reason: str, runmode: RunMode) -> bool:
    """``confirm_trade_exit``: a forced exit becomes an intent the bot's loop places and retries.

    :return: False for a forced exit not yet recorded (it is recorded now), True otherwise.
    """
    if runmode not in (RunMode.LIVE, RunMode.DRY_RUN) or exit_reason != FORCED_EXIT:
        return True
    if trade.get_custom_data(INTENT_KEY) is not None:
        return True
    trade.set_custom_data(INTENT_KEY, FORCED_EXIT)
    logger.info(f"Forced exit of trade {trade.id} ({trade.pair}) recorded: placed by the next loop")
    return False


def exit_reason(trade: Trade) -> str | None:
    """``custom_exit``: the exit recorded for ``trade`` (forced, unprotected), if any."""
    if not trade.is_open:
        return None
    intent = trade.get_custom_data(INTENT_KEY)
    return str(intent) if intent is not None else None


@dataclass(frozen=True)
class Reading:
    """What one loop read: the exchange's holdings and open orders, FreqTrade's open trades.

    :param holdings: per traded asset, free + locked on the exchange.
    :param free: per traded asset, free on the exchange.
    :param positions: the open trades; :param open_orders: the exchange's open orders.
    :param prices: per traded asset, its newest price; :param pairs: per asset, the pair traded.
    :param dust: per asset, the value below which a difference is ignored.
    :param trades: the open trades by id.
    """

    holdings: Mapping[str, float]
    free: Mapping[str, float]
    positions: tuple[Position, ...]
    open_orders: tuple[OpenOrder, ...]
    prices: Mapping[str, float]
    pairs: Mapping[str, str]
    dust: Mapping[str, float]
    trades: Mapping[int, Trade]


class ExchangeChecks:
    """The checks of one live bot and what they last found (a restart starts them afresh; the
    pauses are pair locks in FreqTrade's database, so they survive it).

    :param cfg: ``itb.risk.reconcile``.
    """

    def __init__(self, cfg: ReconcileConfig) -> None:
        self.cfg = cfg
        self._last: Reconciliation | None = None
        self._streak = 0
        self._unprotected: dict[int, datetime] = {}
        self._told: set[int] = set()
        self._flattened: dict[str, float] = {}
        self._entries: dict[str, tuple[frozenset[int], float]] = {}
        self._waiting: set[str] = set()
        self._live = False
        self._checks = 0
        self._announced: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def run(self, strategy: IStrategy, now: datetime) -> Messages:
        """``bot_loop_start``: read, compare, act; the messages for the operator."""
        self._live = strategy.dp is not None and strategy.dp.runmode == RunMode.LIVE
        if not self.cfg.enabled or not self._live:
            return ()
        self._entries_placed()
        exchange: Exchange = strategy.dp._exchange  # no public handle (see the module docs)
        try:
            reading = read(strategy, exchange, self.cfg)
        except (ExchangeError, OperationalException, ccxt.BaseError) as exc:
            # A fault on the exchange: the next loop reads again.
            logger.info(f"ITB exchange check skipped: {exc}")
            return ()
        messages = self._holdings(strategy, exchange, reading, now)
        if strategy.order_types.get("stoploss_on_exchange"):
            messages += self._stops(strategy, reading, now)
        return messages

    def entry_allowed(self, pair: str) -> bool:
        """``confirm_trade_entry``, once every other rule allowed the entry: no entry on a
        pair whose last entry order did not become a trade, for ``lost_order_wait_seconds``.

        FreqTrade calls it just before placing the order. When the order is placed, its trade
        is in the database by the start of the next loop (:meth:`run` notes it; FreqTrade may
        delete it later, when the order is cancelled unfilled). When the request fails, no
        trade is recorded: the order may still be executed, and the holdings check will see it.
        """
        if not self.cfg.enabled or not self._live:
            return True
        clock = time.monotonic()  # a request the bot gave up on may still be served: real time
        pending = self._entries.get(pair)
        if pending is not None and not self._has_new_trade(pair, pending[0]):
            waited = clock - pending[1]
            if waited < self.cfg.lost_order_wait_seconds:
                if pair not in self._waiting:
                    self._waiting.add(pair)
                    logger.warning(
                        f"ITB exchange check: no entry on {pair} for "
                        f"{self.cfg.lost_order_wait_seconds - waited:.0f} s: its last entry "
                        "order did not become a trade and may still be executed"
                    )
                return False
        self._entries[pair] = (_trade_ids(pair), clock)
        self._waiting.discard(pair)
        return True

    def _entries_placed(self) -> None:
        """Forget the entries whose trade has appeared since they were allowed."""
        for pair, (before, _) in list(self._entries.items()):
            if self._has_new_trade(pair, before):
                del self._entries[pair]

    @staticmethod
    def _has_new_trade(pair: str, before: frozenset[int]) -> bool:
        return bool(_trade_ids(pair) - before)

    # ------------------------------------------------------------------ holdings
    def _holdings(
        self, strategy: IStrategy, exchange: Exchange, reading: Reading, now: datetime
    ) -> Messages:
        found = reconcile(
            reading.holdings,
            reading.positions,
            reading.open_orders,
            reading.prices,
            reading.dust,
            self.cfg.outside_holdings,
        )
        same = self._last is not None and self._last.key() == found.key()
        self._streak = self._streak + 1 if same and not found.clean else int(not found.clean)
        self._last = found
        paused = _paused(PAUSE_MISMATCH, now)
        if self._checks == 0 and paused:
            self._announced = ((), ())  # a pause from before a restart: /locks showed it
        self._checks += 1
        if found.clean:
            told, self._announced = self._announced, None
            if not paused:
                return ()
            strategy.unlock_reason(PAUSE_MISMATCH)
            return (Alert(RESUMED_HOLDINGS, logging.WARNING),) if told is not None else ()
        if not paused:
            # At first sight: FreqTrade would place a lost entry again on this very loop.
            strategy.lock_pair("*", now + _PAUSE_LENGTH, PAUSE_MISMATCH)
        if self._streak < self.cfg.confirm_checks:
            return ()
        messages: Messages = ()
        if self._announced != found.key():
            self._announced = found.key()
            messages = (Alert(_mismatch_text(found, strategy, self.cfg), logging.ERROR),)
        if self.cfg.on_mismatch == "flatten":
            messages += self._flatten(exchange, found, reading)
        return messages

    def _flatten(self, exchange: Exchange, found: Reconciliation, reading: Reading) -> Messages:
        """Cancel the unknown orders; sell the unexplained holdings (once per wait)."""
        done = []
        for order in found.unknown_orders:
            try:
                exchange.cancel_order(order.order_id, order.pair)
                done.append(f"cancelled unknown order {order.order_id} ({order.pair})")
            except (ExchangeError, OperationalException, ccxt.BaseError) as exc:
                logger.warning(f"ITB exchange check: could not cancel {order.order_id}: {exc}")
        if found.unknown_orders:
            return _flatten_messages(done)  # the holdings are read again once they are free
        clock = time.monotonic()  # a timed-out order may still be executed: real seconds
        for mismatch in found.mismatches:
            pair, last = reading.pairs.get(mismatch.asset), self._flattened.get(mismatch.asset)
            if pair is None or mismatch.excess <= 0:
                continue
            if last is not None and clock - last < self.cfg.flatten_wait_seconds:
                continue
            amount = exchange.amount_to_precision(
                pair, min(mismatch.excess, reading.free.get(mismatch.asset, 0.0))
            )
            if amount * mismatch.price <= reading.dust.get(mismatch.asset, 0.0):
                continue
            self._flattened[mismatch.asset] = clock
            client_id = f"{FLATTEN_PREFIX}-{mismatch.asset}-{int(clock * 1000)}"
            try:
                # Through ccxt with its own client order id, so the exchange shows whose it is.
                exchange._api.create_order(
                    pair, "market", "sell", amount, None, {"newClientOrderId": client_id}
                )
                done.append(f"sold {amount:.8g} {mismatch.asset} at market")
            except ccxt.BaseError as exc:
                logger.warning(f"ITB exchange check: could not sell {mismatch.asset}: {exc}")
                done.append(f"selling {amount:.8g} {mismatch.asset} failed ({exc}); will retry")
        return _flatten_messages(done)

    # ------------------------------------------------------------------ stops
    def _stops(self, strategy: IStrategy, reading: Reading, now: datetime) -> Messages:
        # An order the bot never placed may hold the asset (a stop whose placement timed out
        # but was executed): the holdings check deals with it first, the grace starts after.
        foreign = {o.pair for o in self._last.unknown_orders} if self._last else set()
        bare = {p.trade_id: p for p in unprotected(reading.positions) if p.pair not in foreign}
        self._unprotected = unprotected_since(self._unprotected, bare, now)
        grace = timedelta(seconds=self.cfg.stop_grace_seconds)
        overdue = sorted(i for i, since in self._unprotected.items() if now - since >= grace)
        messages: Messages = ()
        for trade_id in overdue:
            if trade_id in self._told or exit_reason(reading.trades[trade_id]) is not None:
                continue  # told already, or leaving anyway
            self._told.add(trade_id)
            position, waited = bare[trade_id], now - self._unprotected[trade_id]
            if self.cfg.on_unprotected == "exit":
                reading.trades[trade_id].set_custom_data(INTENT_KEY, UNPROTECTED_EXIT)
                action = "exiting it"
            else:
                action = "entries paused until its stop is back"
            text = (
                f"⚠️ ITB exchange check: trade {trade_id} ({position.pair}) has had no stop on "
                f"the exchange for {waited.total_seconds():.0f} s (its placement keeps "
                f"failing); {action}."
            )
            messages += (Alert(text, logging.ERROR),)
        self._told &= set(self._unprotected)
        paused = _paused(PAUSE_UNPROTECTED, now)
        pause = self.cfg.on_unprotected == "pause" and bool(overdue)
        if pause and not paused:
            strategy.lock_pair("*", now + _PAUSE_LENGTH, PAUSE_UNPROTECTED)
        elif paused and not overdue:
            strategy.unlock_reason(PAUSE_UNPROTECTED)
            messages += (Alert(RESUMED_STOPS, logging.WARNING),)
        return messages


def read(strategy: IStrategy, exchange: Exchange, cfg: ReconcileConfig) -> Reading:
    """Read the exchange and FreqTrade's open trades for the checks.

    :raises ExchangeError: the exchange did not answer (the check is skipped this loop).
    """
    stake = strategy.config["stake_currency"]
    trades = Trade.get_trades_proxy(is_open=True)
    pairs = {p for p in strategy.dp.current_whitelist() if _quote(p) == stake}
    pairs |= {t.pair for t in trades}
    by_asset = {_base(p): p for p in sorted(pairs)}
    strategy.wallets.update()
    balances = strategy.wallets.get_all_balances()
    holdings = {a: float(balances[a].total) if a in balances else 0.0 for a in by_asset}
    free = {a: float(balances[a].free) if a in balances else 0.0 for a in by_asset}
    open_orders = tuple(o for pair in sorted(pairs) for o in _open_orders(exchange, pair))
    positions = tuple(_position(t, exchange) for t in trades)
    prices = {a: _price(strategy, p, trades) for a, p in by_asset.items()}
    dust = {
        a: cfg.dust if cfg.dust is not None else _min_notional(exchange, p)
        for a, p in by_asset.items()
    }
    by_id = {int(t.id): t for t in trades}
    return Reading(holdings, free, positions, open_orders, prices, by_asset, dust, by_id)


def _trade_ids(pair: str) -> frozenset[int]:
    return frozenset(int(t.id) for t in Trade.get_trades_proxy(pair=pair))


def _position(trade: Trade, exchange: Exchange) -> Position:
    closed = [o for o in trade.orders if not o.ft_is_open and o.safe_filled > 0]
    entry, exits = trade.entry_side, (trade.exit_side, "stoploss")
    booked = sum(o.safe_amount_after_fee for o in closed if o.ft_order_side == entry)
    booked -= sum(o.safe_amount_after_fee for o in closed if o.ft_order_side in exits)
    opened = [o for o in trade.orders if o.ft_is_open]
    stops = [o for o in opened if o.ft_order_side == "stoploss"]
    settled = trade.nr_of_successful_entries > 0
    return Position(
        trade_id=int(trade.id),
        pair=trade.pair,
        asset=_base(trade.pair),
        amount=booked,
        buying=sum(o.safe_amount for o in opened if o.ft_order_side == entry),
        selling=sum(o.safe_amount for o in opened if o.ft_order_side in exits),
        recorded=float(trade.amount or 0.0) if settled else booked,
        stop_amount=sum(o.safe_remaining for o in stops),
        sellable=exchange.amount_to_precision(trade.pair, trade.amount) if settled else 0.0,
        exiting=any(o.ft_order_side == trade.exit_side for o in opened),
        order_ids=frozenset(str(o.order_id) for o in trade.orders if o.order_id),
    )


def _open_orders(exchange: Exchange, pair: str) -> list[OpenOrder]:
    orders: Sequence[dict[str, Any]] = exchange._api.fetch_open_orders(pair)
    return [
        OpenOrder(
            order_id=str(o["id"]),
            pair=pair,
            side=str(o["side"]),
            remaining=float(o.get("remaining") or 0.0),
            is_stop=o.get("stopPrice") is not None,
        )
        for o in orders
    ]


def _price(strategy: IStrategy, pair: str, trades: Sequence[Trade]) -> float:
    frame, _ = strategy.dp.get_analyzed_dataframe(pair, strategy.timeframe)
    if not frame.empty:
        return float(frame["close"].iloc[-1])
    rates = [float(t.open_rate) for t in trades if t.pair == pair]
    return rates[0] if rates else 0.0


def _min_notional(exchange: Exchange, pair: str) -> float:
    limit = exchange.markets.get(pair, {}).get("limits", {}).get("cost", {}).get("min")
    return float(limit or 0.0)


def _paused(reason: str, now: datetime) -> bool:
    return any(lock.reason == reason for lock in PairLocks.get_pair_locks("*", now))


def _mismatch_text(found: Reconciliation, strategy: IStrategy, cfg: ReconcileConfig) -> str:
    stake = strategy.config["stake_currency"]
    lines = [m.describe(stake) for m in found.mismatches]
    lines += [
        f"{o.pair}: open {o.side} order {o.order_id} ({o.remaining:.8g} left) that the bot "
        "never placed"
        for o in found.unknown_orders
    ]
    then = (
        "cancelling the unknown orders and selling the unexplained holdings"
        if cfg.on_mismatch == "flatten"
        else "find the cause (docs/going-live.md), then sell or declare the holdings"
    )
    return (
        "🛑 ITB exchange check: the exchange disagrees with the bot's trades: "
        + "; ".join(lines)
        + f". Entries paused until they agree; {then}."
    )


def _flatten_messages(done: Sequence[str]) -> Messages:
    if not done:
        return ()
    return (Alert("ITB exchange check, flattening: " + "; ".join(done) + ".", logging.WARNING),)


def _base(pair: str) -> str:
    return pair.split("/")[0]


def _quote(pair: str) -> str:
    return pair.split("/")[1].split(":")[0] if "/" in pair else ""
