"""The kill switch of ITBStrategy, end to end: ``freqtrade trade`` (live mode) on the replay
exchange with the fake Telegram.

The bot runs ITBStrategy's risk callbacks under a scripted signal (``ScriptedITB``: an entry
signal on every candle, no model), so that any entry the bot may make, it does make: "no entry
follows" is then a real outcome, not the absence of a signal. ETH entries are placed 5 % below
the market, so they rest on the exchange as open orders for the kill switch to cancel.

The halt lives in the trade database (FreqTrade's key-value store); a person clears it with
``itb-ext clear-halt`` and ``/reload_config``. When neither the database nor the disk takes the
halt, the bot stays halted and says so, and a restart is halted again by the kill switch's own
exits in the trade history.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot import ROOT, BotProcess, ReplaySession, replay_session

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
def scripted_bot(
    tmp: Path, risk: dict[str, Any], strategy: str = "ScriptedITB", **options: Any
) -> Iterator[ReplaySession]:
    with replay_session(
        tmp,
        START,
        strategy=strategy,
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


def halt_in_database(bot: BotProcess) -> dict[str, Any]:
    """The kill switch's rows in FreqTrade's key-value store, by key."""
    rows = bot.query("SELECT key, string_value FROM KeyValueStore WHERE key LIKE 'itb_%'")
    return {row["key"]: row["string_value"] for row in rows}


def clear_halt(db_url: str) -> str:
    """A person's ``itb-ext clear-halt --db-url ...``; its one line."""
    done = subprocess.run(
        [sys.executable, "-m", "itb_ext.cli", "clear-halt", "--db-url", db_url],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


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


#: A 300 USDT position pays 0.6 USDT of fees in and out: 0.06 % of the wallet, beyond 0.03 %.
TINY_DAILY_LOSS = {"kill_switch": {"max_daily_loss": 0.0003, "max_drawdown": 0.5}}


def test_automatic_kill_switch_flattens_announces_and_survives_a_restart(tmp_path: Path) -> None:
    with scripted_bot(tmp_path, TINY_DAILY_LOSS) as session:
        bot, telegram = session.bot, session.telegram
        assert telegram is not None
        db_url = f"sqlite:///{bot.db_path}"
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
        # The halt is in the trade database, nothing beside it.
        record = halt_in_database(bot)
        assert record["itb_halt_reason"].startswith("daily loss")
        assert record["itb_halt_reason"] in message.text
        assert not bot.db_path.with_name(bot.db_path.name + ".halt.json").exists()
        assert f"itb-ext clear-halt --db-url '{db_url}'" in message.text
        assert "/reload_config" in message.text

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

        # A person clears it in the database and sends /reload_config. Trading resumes.
        telegram.wait_until_polling(60)
        assert clear_halt(db_url).startswith(f"cleared the kill-switch halt in {db_url} (daily")
        assert "itb_halt_reason" not in halt_in_database(bot)
        mark = len(telegram.messages)
        telegram.send_user_message("/reload_config")
        telegram.wait_for_message(r"ITB kill switch cleared", 90, start=mark)
        bot.wait_for(lambda: buys_posted(session) > buys, 90, what="an entry after clearing")
        print(f"kill switch: halted at {halted_at:%H:%M}, {len(trades)} trades, resumed")


GATED = """
from pathlib import Path

from ScriptedITB import ScriptedITB

GO = Path({marker!r})


class GatedITB(ScriptedITB):
    \"\"\"ScriptedITB entering only once the test allows it.\"\"\"

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = 1 if GO.exists() else 0
        return dataframe
"""


def prepare_refusing_database(database: Path) -> None:
    """FreqTrade's tables in ``database``, with a trigger that refuses every write of the halt
    (as a full or locked database would), before the bot first starts."""
    database.parent.mkdir(parents=True, exist_ok=True)
    program = f"from freqtrade.persistence import init_db; init_db('sqlite:///{database}')"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, check=True, timeout=120)
    with sqlite3.connect(database) as connection:
        for event in ("INSERT", "UPDATE"):
            connection.execute(
                f"CREATE TRIGGER refuse_halt_{event.lower()} BEFORE {event} ON KeyValueStore "
                "WHEN NEW.key LIKE 'itb_halt%' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )


def accept_halt_writes(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TRIGGER refuse_halt_insert")
        connection.execute("DROP TRIGGER refuse_halt_update")


def test_a_halt_that_cannot_be_written_holds_and_a_restart_stays_halted(tmp_path: Path) -> None:
    database = tmp_path / "bot" / "tradesv3.sqlite"  # where the session's bot keeps it
    prepare_refusing_database(database)
    halt_file = database.with_name(database.name + ".halt.json")
    go = tmp_path / "go"
    (scripted_strategy(tmp_path / "strategies") / "GatedITB.py").write_text(
        GATED.format(marker=str(go))
    )
    with scripted_bot(tmp_path, TINY_DAILY_LOSS, strategy="GatedITB") as session:
        bot, telegram = session.bot, session.telegram
        assert telegram is not None and bot.db_path == database
        # Started: a folder where the halt file would go (read at start-up it would count as
        # an unreadable halt), so the disk refuses the halt too. Then the first entry.
        halt_file.mkdir()
        go.touch()
        telegram.wait_for_message(r"🛑 ITB kill switch: daily loss", 120)
        unrecorded = telegram.wait_for_message(r"🛑 ITB kill switch: the halt could not be", 60)
        assert "trade database: IntegrityError: disk full" in unrecorded.text
        assert "is a folder, not a file" in unrecorded.text
        bot.wait_for(lambda: not open_trades(session), 60, what="every trade closed")
        bot.wait_for(lambda: not open_exchange_orders(session), 30, what="no open order")
        assert_flat(session)
        assert halt_in_database(bot) == {}  # nothing recorded: halted in memory only
        buys = buys_posted(session)
        run_candles(session, 2)
        assert buys_posted(session) == buys

        # Crash. The disk takes files again, the database still refuses the halt.
        bot.kill()
        halt_file.rmdir()
        mark = len(telegram.messages)
        bot.start()
        bot.wait_ready(90)
        proved = r"🛑 ITB kill switch still in force at start-up: the kill switch exited positions"
        telegram.wait_for_message(proved, 60, start=mark)
        kept = telegram.wait_for_message(r"trade database refused the halt", 60, start=mark)
        assert str(halt_file) in kept.text and halt_file.is_file()
        run_candles(session, 3)
        assert buys_posted(session) == buys

        # The database takes writes again: the retry records the halt, the file is set aside.
        mark = len(telegram.messages)
        accept_halt_writes(database)
        telegram.wait_for_message(r"the halt is now recorded in the trade database", 60, start=mark)
        assert halt_in_database(bot)["itb_halt_reason"].startswith("the kill switch exited")
        assert not halt_file.exists()
        assert buys_posted(session) == buys

        # Still halted until a person clears it.
        telegram.wait_until_polling(60)
        assert clear_halt(f"sqlite:///{database}").startswith("cleared the kill-switch halt")
        mark = len(telegram.messages)
        telegram.send_user_message("/reload_config")
        telegram.wait_for_message(r"ITB kill switch cleared", 90, start=mark)
        bot.wait_for(lambda: buys_posted(session) > buys, 90, what="an entry after clearing")
