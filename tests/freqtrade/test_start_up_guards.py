"""``freqtrade trade`` with ITBStrategy refuses a dangerous config before it trades: one line
naming the key in the log, no traceback, no order (a real process on the replay exchange)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ROOT, BotProcess, wait_until
from tests.support.replay_exchange import DEFAULT_MARKETS, ReplayExchange, SimClock

pytestmark = pytest.mark.usefixtures("freqtrade_installed")


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[ReplayExchange]:
    clock = SimClock(tmp_path / "simclock", start=datetime(2019, 5, 1, 15, tzinfo=UTC), speed=60)
    replay = ReplayExchange(clock, DEFAULT_MARKETS, balances={"USDT": 1000})
    replay.start()
    try:
        yield replay
    finally:
        replay.stop()
        clock.close()


def refused_start(
    tmp_path: Path, exchange: ReplayExchange, risk: dict[str, Any], **overrides: Any
) -> str:
    """Start a live bot with the ``itb.risk`` section ``risk`` and config ``overrides``; wait for
    it to stop; its log and console."""
    strategies = tmp_path / "strategies"
    strategies.mkdir(exist_ok=True)
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", strategies)
    itb = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    bot = BotProcess(
        tmp_path / "bot",
        exchange,
        strategy="ITBStrategy",
        strategy_path=strategies,
        mode="live",
        pairs=("BTC/USDT",),
        config_overrides={"freqai": {"enabled": False}, "itb": {**itb, "risk": risk}, **overrides},
    )
    bot.start()
    try:
        wait_until(lambda: not bot.running, 120, what="the bot to refuse to start")
    finally:
        bot.kill()
    assert bot.process is not None and bot.process.returncode != 0
    assert exchange.requests_to("/api/v3/order", "POST") == []  # nothing was ordered
    return bot.log_text(all_starts=True) + bot.console_text()


def test_a_blank_api_secret_stops_a_trading_bot_before_the_api_starts(
    tmp_path: Path, exchange: ReplayExchange
) -> None:
    output = refused_start(tmp_path, exchange, {}, api_server={"jwt_secret_key": ""})
    line = (
        "api_server.jwt_secret_key: blank while api_server.enabled is true: anyone who reaches "
        "the REST API could trade this account"
    )
    assert line in output, output[-3000:]
    assert "Traceback" not in output
    assert "Starting HTTP Server" not in output  # refused before FreqTrade serves the API


def test_an_all_in_stake_stops_the_bot_naming_the_key(
    tmp_path: Path, exchange: ReplayExchange
) -> None:
    all_in = {"sizing": {"fraction": 1.0, "max_fraction": 1.0}}
    output = refused_start(tmp_path, exchange, all_in)
    line = (
        "itb.risk.sizing.max_fraction: 1 lets one trade stake the whole balance; change it, or "
        'list "whole_balance" in itb.risk.i_accept to mean it'
    )
    assert line in output, output[-3000:]
    assert "Traceback" not in output
