"""The seeded soak (``make chaos``, :mod:`tests.support.chaos`): its invariants catch what they
are meant to catch, and a short soak with a fixed seed ends clean with the promised last line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ROOT
from tests.support.chaos import ChaosHook
from tests.support.invariants import duplicates, lost_orders, mismatches, unprotected
from tests.support.replay_exchange import ReplayExchange, SimClock

ccxt = pytest.importorskip("ccxt")

LAST_LINE = re.compile(
    r"chaos: seed (\d+), (\d+) candles, (\d+) faults, (\d+) orders, (\d+) restarts; "
    r"mismatches (\d+), unprotected (\d+), duplicates (\d+)"
)


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[tuple[ReplayExchange, Any]]:
    start = datetime(2019, 5, 1, 16, 10, tzinfo=UTC)
    clock = SimClock(tmp_path / "clock", start=start, speed=0)
    with ReplayExchange(clock, balances={"USDT": 1000}) as exchange:
        api = ccxt.binance(
            {**exchange.ccxt_config(), "apiKey": exchange.api_key, "secret": exchange.api_secret}
        )
        api.load_markets()
        yield exchange, api
    clock.close()


def row(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id}


def test_the_invariants_find_a_lost_order_a_bare_trade_and_a_doubled_entry(replay: Any) -> None:
    exchange, api = replay
    lost = api.create_order("BTC/USDT", "market", "buy", 0.01)  # the bot never learnt of it
    again = api.create_order("BTC/USDT", "market", "buy", 0.01)  # the bot's own, same intent
    trade = {"id": 1, "pair": "BTC/USDT", "amount": 0.00999, "is_open": 1}
    orders = [row(again["id"])]
    # The account holds two buys, the trade one: 0.00999 BTC unexplained (about 56 USDT).
    (found,) = mismatches(exchange, [trade])
    assert found.asset == "BTC" and found.held == pytest.approx(0.01998)
    assert [o.order_id for o in lost_orders(exchange, orders)] == [int(lost["id"])]
    assert duplicates(exchange, orders) == 1
    assert unprotected(exchange, [trade]) == [trade]  # no stop on the exchange

    # Its stop covering the trade protects it; two stops for one pair count as a duplicate.
    stop = api.create_order(
        "BTC/USDT", "stop_loss_limit", "sell", 0.00999, 5500, {"stopPrice": 5550}
    )
    assert unprotected(exchange, [trade]) == []
    api.create_order("BTC/USDT", "stop_loss_limit", "sell", 0.00999, 5500, {"stopPrice": 5550})
    assert unprotected(exchange, [trade]) == [trade]  # two stops: not "exactly one"
    orders += [row(stop["id"])]
    assert duplicates(exchange, orders) == 2
    # Once the lost buy is known (adopted) and a second trade holds it, nothing is amiss.
    api.cancel_order(stop["id"], "BTC/USDT")
    other = {"id": 2, "pair": "BTC/USDT", "amount": 0.00999, "is_open": 1}
    orders += [row(lost["id"])]
    assert duplicates(exchange, orders) == 0
    assert mismatches(exchange, [trade, other]) == []


def test_the_hook_draws_the_same_faults_from_the_same_seed() -> None:
    def draws(seed: int) -> list[str]:
        hook = ChaosHook(seed, 0.3, partial_rate=0.1, reject_rate=0.1, stall_seconds=1)
        hook.active = True
        seen = []
        for i in range(200):
            fault = hook.fault("POST" if i % 3 else "GET", "/api/v3/order", {})
            plan = hook.order_plan("BTC/USDT", {"type": "LIMIT"})
            seen.append(f"{fault and fault.describe()}|{plan and (plan.kind, plan.reason)}")
        return seen

    first, second, other = draws(11), draws(11), draws(12)
    assert first == second and first != other
    hook = ChaosHook(11, 0.3, partial_rate=0.1, reject_rate=0.1, stall_seconds=1)
    assert hook.fault("GET", "/api/v3/klines", {}) is None  # inactive: no fault at all
    rate = sum("stall" in d or "status" in d for d in first) / len(first)
    assert 0.2 < rate < 0.4


@pytest.mark.usefixtures("freqtrade_installed")
def test_a_short_soak_with_a_fixed_seed_ends_clean(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env["CHAOS_SEED"] = "7"
    argv = [sys.executable, "-m", "tests.support.chaos", "--candles", "40", "--restarts", "1"]
    done = subprocess.run(
        [*argv, "--max-minutes", "6", "--workdir", str(tmp_path / "soak")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timedelta(minutes=8).total_seconds(),
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    match = LAST_LINE.fullmatch(lines[-1])
    assert match is not None, "\n".join(lines[-20:]) + done.stderr[-2000:]
    seed, candles, faults, orders, restarts, m, u, d = (int(g) for g in match.groups())
    assert (seed, restarts) == (7, 1)
    assert candles >= 38 and faults > 0 and orders > 0
    assert (m, u, d) == (0, 0, 0), "\n".join(lines[-30:])
    assert done.returncode == 0
    print(lines[-1])
