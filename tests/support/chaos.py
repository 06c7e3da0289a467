"""A seeded soak of the live order path: ``python -m tests.support.chaos`` (``make chaos``).

One live ``freqtrade trade`` bot (ITBStrategy's callbacks on a scripted signal that enters
and exits every few candles, on BTC/USDT and ETH/USDT, the stop on the exchange, the exchange
check flattening what it cannot explain) trades several hundred replayed candles on the replay
exchange, on 127.0.0.1 only, while a :class:`ChaosHook` seeded from ``CHAOS_SEED`` answers a
share of the requests to every endpoint with a 500, a 429, a timeout or a timeout after the
request was served, fills some orders only in part, rejects some with each class of Binance
error, and the exchange cancels some open orders (stops included) on its own. The bot is
killed (``kill -9``) and restarted during the run. Then the faults stop, the bot settles for a
few candles, and the exchange and the bot's database are compared
(:mod:`tests.support.invariants`). The last line printed is exactly (one line)::

    chaos: seed S, C candles, F faults, O orders, R restarts;
    mismatches M, unprotected U, duplicates D

and the exit status is non-zero unless M, U and D are all 0. The seed decides every draw; the
run is bounded in time (``--max-minutes``). The bot's timing is real, so two runs with one seed
see the same draws in the same order of requests, not necessarily the same trades.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.bot import ReplaySession
from tests.support.exchange import Fault, ReplayExchange
from tests.support.invariants import duplicates, lost_orders, mismatches, unprotected
from tests.support.orders import OrderPlan
from tests.support.scripted import order_bot

START = datetime(2019, 5, 1, 15, 0, tzinfo=UTC)
ORDER_PATH = "/api/v3/order"
SETTLE_SECONDS = 75.0
"""Real time kept for the final settling and the checks."""
SETTLE_SPEED = 600.0
"""Clock speed while the bot settles: slow enough for it to keep up with every candle."""
_REJECTS = ("insufficient_balance", "lot_size", "min_notional", "price_filter")


class ChaosHook:
    """Faults and order plans drawn from one seeded generator, request by request.

    :param seed: the generator's seed.
    :param fault_rate: share of requests answered with a fault (any endpoint).
    :param partial_rate: share of order placements filled in part.
    :param reject_rate: share of order placements rejected.
    :param stall_seconds: how long a timeout holds the answer (above the bot's timeout).
    """

    def __init__(
        self,
        seed: int,
        fault_rate: float,
        partial_rate: float,
        reject_rate: float,
        stall_seconds: float,
    ) -> None:
        self.rng = random.Random(seed)
        self.fault_rate, self.partial_rate, self.reject_rate = fault_rate, partial_rate, reject_rate
        self.stall_seconds = stall_seconds
        self.active = False
        """Faults only while True: off while the bot starts, and for the final settling."""
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fault(self, method: str, path: str, params: Mapping[str, str]) -> Fault | None:
        with self._lock:
            if not self.active or self.rng.random() >= self.fault_rate:
                return None
            order = path == ORDER_PATH and method in ("POST", "DELETE")
            kinds = ["500", "429", "timeout"] + (["executed"] if order else [])
            kind = self.rng.choice(kinds)
            self.counts[f"{kind} {method} {path}"] += 1
        if kind == "500":
            return Fault("status", 1, None, None, 500)
        if kind == "429":
            return Fault("status", 1, None, None, 429, retry_after=1)
        return Fault(
            "stall", 1, None, None, seconds=self.stall_seconds, execute_first=kind == "executed"
        )

    def order_plan(self, symbol: str, params: Mapping[str, str]) -> OrderPlan | None:
        with self._lock:
            if not self.active:
                return None
            draw = self.rng.random()
            if draw < self.reject_rate:
                kind = params.get("type", "").upper()
                reason = self.rng.choice(
                    (*_REJECTS, "would_trigger") if kind.startswith("STOP") else _REJECTS
                )
                self.counts[f"reject {reason}"] += 1
                return OrderPlan("reject", reason=reason)
            if draw < self.reject_rate + self.partial_rate:
                fraction = round(self.rng.uniform(0.2, 0.8), 2)
                delay = self.rng.choice((None, 600_000, 1_800_000))  # never, 10 or 30 sim min
                self.counts["partial fill"] += 1
                return OrderPlan("partial", fraction=fraction, delay_ms=delay)
        return None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class ExchangeCancels:
    """A thread that, at seeded real intervals, has the exchange cancel or expire an open order.

    :param interval: mean real seconds between two cancels.
    """

    def __init__(self, exchange: ReplayExchange, seed: int, interval: float) -> None:
        self.exchange, self.rng, self.interval = exchange, random.Random(seed), interval
        self.count = 0
        self.active = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.rng.expovariate(1 / self.interval)):
            candidates = sorted(self.exchange.open_orders(), key=lambda o: o.order_id)
            if not self.active or not candidates:
                continue
            order = self.rng.choice(candidates)
            status = self.rng.choice(("CANCELED", "EXPIRED"))
            try:
                self.exchange.cancel_on_exchange(order.order_id, status=status)
                self.count += 1
            except (KeyError, ValueError):
                pass  # filled or cancelled by the bot meanwhile


@dataclass(frozen=True)
class Result:
    """What a soak did and found."""

    seed: int
    candles: int
    faults: int
    orders: int
    restarts: int
    mismatches: int
    unprotected: int
    duplicates: int

    @property
    def ok(self) -> bool:
        return self.mismatches == self.unprotected == self.duplicates == 0

    def line(self) -> str:
        return (
            f"chaos: seed {self.seed}, {self.candles} candles, {self.faults} faults, "
            f"{self.orders} orders, {self.restarts} restarts; mismatches {self.mismatches}, "
            f"unprotected {self.unprotected}, duplicates {self.duplicates}"
        )


def reconcile_settings() -> dict[str, object]:
    """``itb.risk`` of the soak: the checks flatten; grace and waits fit an accelerated clock."""
    return {
        "kill_switch": {"enabled": False},
        "reconcile": {
            "on_mismatch": "flatten",
            "stop_grace_seconds": 4 * 3600,  # sim: four candles
            "flatten_wait_seconds": 4.0,
            "lost_order_wait_seconds": 4.0,
        },
    }


def soak(
    workdir: Path,
    *,
    seed: int,
    candles: int = 300,
    restarts: int = 2,
    speed: float = 3000,
    fault_rate: float = 0.075,
    max_minutes: float = 10.0,
    log: bool = True,
) -> Result:
    """Run the soak in ``workdir`` and check the invariants (see the module docstring)."""
    deadline = time.monotonic() + max_minutes * 60
    say = print if log else (lambda *a, **k: None)
    hook = ChaosHook(seed, fault_rate, partial_rate=0.05, reject_rate=0.03, stall_seconds=2.5)
    restarted = crashed = 0
    with order_bot(
        workdir,
        risk=reconcile_settings(),
        stoploss=-0.01,
        cycle=3,
        hold=1,
        pairs=("BTC/USDT", "ETH/USDT"),
        overrides={"max_open_trades": 2},
        speed=speed,
        ccxt_timeout_ms=1500,
    ) as session:
        exchange, bot, clock = session.exchange, session.bot, session.clock
        cancels = ExchangeCancels(exchange, seed + 1, interval=8.0)
        exchange.hook = hook
        cancels.start()
        begun = clock.now()
        end = begun + timedelta(hours=candles)
        kills = [
            begun + timedelta(hours=candles * (i + 1) / (restarts + 1)) for i in range(restarts)
        ]
        hook.active = cancels.active = True
        say(f"chaos: seed {seed}, {candles} candles from {begun:%Y-%m-%d %H:%M} at {speed:g}x")
        try:
            while clock.now() < end and time.monotonic() < deadline - SETTLE_SECONDS:
                if kills and clock.now() >= kills[0]:
                    kills.pop(0)
                    restart(session, hook, cancels, speed)
                    restarted += 1
                    say(f"chaos: kill -9 and restart {restarted} at {clock.now():%m-%d %H:%M}")
                if not bot.running:
                    say("chaos: the bot exited by itself:\n" + bot.log_tail(20))
                    restart(session, hook, cancels, speed)
                    crashed += 1
                time.sleep(0.5)
            replayed = int((clock.now() - begun).total_seconds() // 3600)
        finally:
            hook.active = cancels.active = False
            cancels.stop()
        settle(session, deadline)
        trades, orders = bot.trades(), bot.orders()
        found = Result(
            seed=seed,
            candles=replayed,
            faults=hook.total + cancels.count,
            orders=len(exchange.orders()),
            restarts=restarted,
            mismatches=len(mismatches(exchange, trades)),
            unprotected=len(unprotected(exchange, trades)),
            duplicates=duplicates(exchange, orders),
        )
        for kind, count in sorted(hook.counts.items()):
            say(f"chaos:   {count:4d} {kind}")
        say(f"chaos:   {cancels.count:4d} exchange cancels; {crashed} unplanned restarts")
        say(f"chaos:   {len(trades)} trades, {len(lost_orders(exchange, orders))} lost orders")
        for problem in mismatches(exchange, trades):
            say(f"chaos:   mismatch {problem}")
        for trade in unprotected(exchange, trades):
            say(f"chaos:   unprotected trade {trade['id']} {trade['pair']} {trade['amount']}")
    return found


def restart(
    session: ReplaySession, hook: ChaosHook, cancels: ExchangeCancels, speed: float
) -> None:
    """``kill -9``; start again on a slow clock without faults; back to speed and faults."""
    hook.active = cancels.active = False
    if session.bot.running:
        session.bot.kill()
    session.clock.set_speed(120)
    session.bot.start()
    session.bot.wait_ready(120)
    session.clock.set_speed(speed)
    hook.active = cancels.active = True


def settle(session: ReplaySession, deadline: float, candles: int = 3) -> None:
    """Let the bot catch up without faults, on a slower clock: a few candles, then until no
    order but stops is open and every open trade has its stop (or the deadline)."""
    exchange, bot, clock = session.exchange, session.bot, session.clock
    clock.set_speed(SETTLE_SPEED)
    target = clock.now() + timedelta(hours=candles)
    while clock.now() < target and time.monotonic() < deadline:
        time.sleep(0.5)
    quiet_by = min(deadline, time.monotonic() + 45)
    while time.monotonic() < quiet_by:
        trades = bot.trades()
        busy = [o for o in exchange.open_orders() if not o.is_stop]
        waiting = [o for o in bot.orders() if o["ft_is_open"] and o["ft_order_side"] != "stoploss"]
        if not busy and not waiting and not unprotected(exchange, trades):
            break
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.chaos", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "1")))
    parser.add_argument("--candles", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--speed", type=float, default=3000)
    parser.add_argument("--fault-rate", type=float, default=0.075)
    parser.add_argument("--max-minutes", type=float, default=10.0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    if not 0.05 <= args.fault_rate <= 0.10:
        print(f"chaos: --fault-rate {args.fault_rate} is outside 0.05..0.10", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"chaos-{args.seed}-"))
    print(f"chaos: work folder {workdir}")
    result = soak(
        workdir,
        seed=args.seed,
        candles=args.candles,
        restarts=args.restarts,
        speed=args.speed,
        fault_rate=args.fault_rate,
        max_minutes=args.max_minutes,
    )
    print(result.line())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
