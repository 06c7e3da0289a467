"""The kill switch with a PostgreSQL trade database: ``freqtrade trade`` (live mode) on the
replay exchange, its halt in PostgreSQL, a ``kill -9`` restart, the clearing.

The test starts its own PostgreSQL server: a temporary folder, ``initdb`` and ``pg_ctl`` as a
non-root user, a random port on 127.0.0.1, password authentication. It is skipped only when the
PostgreSQL server binaries are not installed (``apt-get install postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.freqtrade.test_kill_switch_live import (
    TINY_DAILY_LOSS,
    buys_posted,
    clear_halt,
    open_exchange_orders,
    run_candles,
    scripted_bot,
)
from tests.support.bot import free_port

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

SERVER_USER = "postgres"  # initdb refuses to run as root


def server_binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's versioned folder."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(f.split("/")[4]))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def server_user() -> dict[str, Any]:
    """``subprocess`` arguments that run the server as a non-root user."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:  # the Debian package creates it; a bare install may not have
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
    return {"user": SERVER_USER, "group": pwd.getpwnam(SERVER_USER).pw_gid}


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server and the trade database the bot uses."""

    db_url: str
    shown_url: str  # the db_url as the bot may show it: its password hidden
    conninfo: str

    def query(self, sql: str) -> list[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.conninfo, row_factory=dict_row) as connection:
            try:
                return list(connection.execute(sql).fetchall())
            except psycopg.errors.UndefinedTable:
                return []


@pytest.fixture
def postgres() -> Iterator[Server]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    import psycopg

    run_as = server_user()
    # A short path: the server's Unix socket lives in it (about 100 characters at most).
    folder = Path(tempfile.mkdtemp(prefix="itb-pg-"))
    password = secrets.token_hex(12)
    (folder / "password").write_text(password)
    if run_as:
        os.chown(folder, pwd.getpwnam(SERVER_USER).pw_uid, run_as["group"])
        os.chown(folder / "password", pwd.getpwnam(SERVER_USER).pw_uid, run_as["group"])
    data, port = folder / "data", free_port()

    def server(*args: str) -> None:
        subprocess.run(
            [str(binaries / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=120,
            **run_as,
        )

    server(
        "initdb", "-D", str(data), "-U", "itb", f"--pwfile={folder / 'password'}",
        "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync",
    )  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    server(
        "pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w", "start"
    )
    try:
        admin = f"host=127.0.0.1 port={port} user=itb password={password} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE trades")
        yield Server(
            db_url=f"postgresql+psycopg://itb:{password}@127.0.0.1:{port}/trades",
            shown_url=f"postgresql+psycopg://itb:***@127.0.0.1:{port}/trades",
            conninfo=admin.replace("dbname=postgres", "dbname=trades"),
        )
    finally:
        server("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def open_trades(server: Server) -> list[dict[str, Any]]:
    return server.query("SELECT * FROM trades WHERE is_open ORDER BY id")


def halt_in_database(server: Server) -> dict[str, Any]:
    rows = server.query("SELECT key, string_value FROM \"KeyValueStore\" WHERE key LIKE 'itb_%'")
    return {row["key"]: row["string_value"] for row in rows}


def test_the_kill_switch_halt_lives_in_postgresql_and_survives_a_restart(
    tmp_path: Path, postgres: Server
) -> None:
    shown = postgres.shown_url
    with scripted_bot(
        tmp_path, TINY_DAILY_LOSS, extra_args=("--db-url", postgres.db_url)
    ) as session:
        bot, telegram = session.bot, session.telegram
        assert telegram is not None
        message = telegram.wait_for_message(r"🛑 ITB kill switch: daily loss", 120)
        bot.wait_for(lambda: postgres.query("SELECT id FROM trades"), 30, what="a trade")
        bot.wait_for(lambda: not open_trades(postgres), 60, what="every trade closed")
        bot.wait_for(lambda: not open_exchange_orders(session), 30, what="no open order")
        assert not bot.db_path.exists()  # everything went to PostgreSQL
        closed = postgres.query("SELECT exit_reason FROM trades WHERE NOT is_open")
        assert closed and {row["exit_reason"] for row in closed} == {"kill_switch"}
        record = halt_in_database(postgres)
        assert record["itb_halt_reason"].startswith("daily loss")
        assert record["itb_halt_reason"] in message.text
        # the password never reaches Telegram; nothing is written beside the database
        assert f"itb-ext clear-halt --db-url '{shown}'" in message.text
        assert postgres.db_url not in message.text
        assert not (bot.userdir / "kill_switch.halt.json").exists()

        buys = buys_posted(session)
        mark = len(telegram.messages)
        bot.kill()
        bot.start()
        bot.wait_ready(90)
        restarted = r"🛑 ITB kill switch still in force at start-up: daily loss"
        telegram.wait_for_message(restarted, 60, start=mark)
        run_candles(session, 3)
        assert buys_posted(session) == buys

        telegram.wait_until_polling(60)
        assert clear_halt(postgres.db_url).startswith(f"cleared the kill-switch halt in {shown}")
        assert "itb_halt_reason" not in halt_in_database(postgres)
        mark = len(telegram.messages)
        telegram.send_user_message("/reload_config")
        telegram.wait_for_message(r"ITB kill switch cleared", 90, start=mark)
        bot.wait_for(lambda: buys_posted(session) > buys, 90, what="an entry after clearing")
