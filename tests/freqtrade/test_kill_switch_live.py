"""The kill switch of ITBStrategy, end to end: ``freqtrade trade`` (live mode) on the replay
exchange with the fake Telegram.

The bot runs ITBStrategy's risk callbacks under a scripted signal (``ScriptedITB``: an entry
signal on every candle, no model), so that any entry the bot may make, it does make: "no entry
follows" is then a real outcome, not the absence of a signal. ETH entries are placed 5 % below
the market, so they rest on the exchange as open orders for the kill switch to cancel.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ROOT, ReplaySession, replay_session

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

START = datetime(2019, 5, 1, 15, 0, tzinfo=UTC)
SCRIPTED = '''
from pandas import DataFrame

from ITBStrategy import ITBStrategy


class ScriptedITB(ITBStrategy):
    """ITBStrategy's risk callbacks on a scripted signal: enter on every candle, no model."""

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side,
                           **kwargs):
        # ETH entries rest below the market: open orders that must be cancelled.
        return proposed_rate * 0.95 if pair.startswith("ETH") else proposed_rate
'''


def scripted_strategy(folder: Path) -> Path:
    """A folder with a copy of ITBStrategy and the scripted subclass."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", folder)
    (folder / "ScriptedITB.py").write_text(SCRIPTED)
    return folder


def itb_section(risk: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    # Sizing, stops and protections off: the stake is FreqTrade's, the halts are the kill switch's.
    raw["risk"] = {"enabled": False, "protections": {"cooldown_candles": 0}, **risk}
    return raw


@contextmanager
def scripted_bot(tmp: Path, risk: dict[str, Any], **options: Any) -> Iterator[ReplaySession]:
    with replay_session(
        tmp,
        START,
        strategy="ScriptedITB",
        strategy_path=scripted_strategy(tmp / "strategies"),
        mode="live",
        balances={"USDT": 1000},
        stake_amount=300,
        config_overrides={
            "itb": itb_section(risk),
            # Resting ETH orders stay open until cancelled.
            "unfilledtimeout": {"entry": 6000, "exit": 10, "unit": "minutes"},
        },
        **options,
    ) as session:
        assert session.telegram is not None
        session.telegram.wait_until_polling(60)
        yield session


def open_exchange_orders(session: ReplaySession) -> list[Any]:
    return [o for o in session.exchange.orders() if o.is_open]


def open_trades(session: ReplaySession) -> list[dict[str, Any]]:
    return [t for t in session.bot.trades() if t["is_open"]]


def btc_held_and_eth_resting(session: ReplaySession) -> bool:
    """A filled BTC position and an unfilled ETH entry order on the exchange."""
    filled = [t for t in open_trades(session) if t["pair"] == "BTC/USDT" and (t["amount"] or 0) > 0]
    btc_open_orders = [o for o in open_exchange_orders(session) if o.market.symbol == "BTC/USDT"]
    resting = [o for o in open_exchange_orders(session) if o.market.symbol == "ETH/USDT"]
    return bool(filled) and not btc_open_orders and bool(resting)


def buys_posted(session: ReplaySession) -> int:
    posted = session.exchange.requests_to("/api/v3/order", "POST")
    return len([r for r in posted if r.params.get("side") == "BUY"])


def run_candles(session: ReplaySession, hours: int) -> None:
    target = session.clock.now() + timedelta(hours=hours)
    session.bot.wait_for(lambda: session.clock.now() >= target, 60, what=f"{hours} candles")


def assert_flat(session: ReplaySession) -> None:
    """No open trade, no open order (bot or exchange), no coin left but dust."""
    assert open_trades(session) == []
    assert [o for o in session.bot.orders() if o["ft_is_open"]] == []
    assert open_exchange_orders(session) == []
    balances = session.exchange.balances()
    for coin in ("BTC", "ETH"):
        free, locked = balances.get(coin, (0.0, 0.0))
        assert free < 1e-5 and locked == 0, (coin, free, locked)
    assert balances["USDT"][1] == 0  # nothing locked in orders


def test_stopentry_then_forceexit_all_flattens_and_no_entry_follows_until_start(
    tmp_path: Path,
) -> None:
    with scripted_bot(tmp_path, {"kill_switch": {"enabled": False}}) as session:
        bot, telegram = session.bot, session.telegram
        assert telegram is not None
        bot.wait_for(lambda: btc_held_and_eth_resting(session), 90, what="a position + an order")
        cancelled = [o.order_id for o in open_exchange_orders(session)]

        mark = len(telegram.messages)
        telegram.send_user_message("/stopentry")
        telegram.wait_for_message(r"(?i)no more entries will occur", 30, start=mark)
        telegram.send_user_message("/forceexit all")
        bot.wait_for(lambda: not open_trades(session), 60, what="every trade closed")
        bot.wait_for(lambda: not open_exchange_orders(session), 30, what="no open order")
        assert_flat(session)
        placed = {o.order_id: o for o in session.exchange.orders()}
        assert all(placed[i].status == "CANCELED" for i in cancelled)
        closed = [t for t in bot.trades() if not t["is_open"]]
        assert [t["pair"] for t in closed] == ["BTC/USDT"]
        assert closed[0]["exit_reason"] == "force_exit"

        # The signal asks for an entry on every candle; none follows while paused.
        buys, trades = buys_posted(session), len(bot.trades())
        run_candles(session, 3)
        assert buys_posted(session) == buys and len(bot.trades()) == trades
        telegram.send_user_message("/start")
        bot.wait_for(lambda: buys_posted(session) > buys, 60, what="an entry after /start")
        print(f"kill switch by hand: flat, {len(cancelled)} order(s) cancelled, entries resumed")


def test_automatic_kill_switch_flattens_announces_and_survives_a_restart(tmp_path: Path) -> None:
    # A 300 USDT position pays 0.6 USDT of fees in and out: 0.06 % of the wallet, beyond 0.03 %.
    risk = {"kill_switch": {"max_daily_loss": 0.0003, "max_drawdown": 0.5}}
    with scripted_bot(tmp_path, risk) as session:
        bot, telegram = session.bot, session.telegram
        assert telegram is not None
        halt_path = bot.db_path.with_name(bot.db_path.name + ".halt.json")
        message = telegram.wait_for_message(r"🛑 ITB kill switch: daily loss", 120)
        halted_at = session.clock.now()
        bot.wait_for(lambda: not open_trades(session), 60, what="every trade closed")
        bot.wait_for(lambda: not open_exchange_orders(session), 30, what="no open order")
        assert_flat(session)
        trades = bot.trades()
        exits = [t["exit_reason"] for t in trades if t["close_date"]]
        assert exits and set(exits) == {"kill_switch"}
        cancelled = [o for o in session.exchange.orders() if o.status == "CANCELED"]
        assert cancelled  # the resting ETH entry
        record = json.loads(halt_path.read_text())
        assert record["reason"].startswith("daily loss") and record["reason"] in message.text
        assert str(halt_path) in message.text and "/reload_config" in message.text

        buys = buys_posted(session)
        run_candles(session, 2)
        assert buys_posted(session) == buys

        # A restart does not resume trading: the halt is found and announced again.
        mark = len(telegram.messages)
        bot.kill()
        bot.start()
        bot.wait_ready(90)
        restarted = r"🛑 ITB kill switch still in force at start-up: daily loss"
        telegram.wait_for_message(restarted, 60, start=mark)
        run_candles(session, 3)
        assert buys_posted(session) == buys
        assert "kill_switch" in bot.log_text()  # said in the log too

        # A person clears it: delete the halt file, /reload_config. Trading resumes.
        telegram.wait_until_polling(60)
        halt_path.unlink()
        mark = len(telegram.messages)
        telegram.send_user_message("/reload_config")
        telegram.wait_for_message(r"ITB kill switch cleared", 90, start=mark)
        bot.wait_for(lambda: buys_posted(session) > buys, 90, what="an entry after clearing")
        print(f"kill switch: halted at {halted_at:%H:%M}, {len(trades)} trades, resumed")
