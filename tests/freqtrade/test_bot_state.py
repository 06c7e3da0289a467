"""The bot's state in FreqTrade's own SQLite trade database (``itb_ext.adapters.bot_state``) and
``itb-ext clear-halt``, each in a fresh interpreter, as a bot or a person would use them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support import warm

pytestmark = pytest.mark.usefixtures("freqtrade_installed")
ROOT = Path(__file__).resolve().parents[2]

OPEN_DATABASE = """
import json, sys
from datetime import UTC, datetime, timedelta, timezone
from freqtrade.persistence import KeyValueStore, init_db
from itb_ext.adapters.bot_state import DatabaseStore
from itb_ext.risk.state import StateStoreError

init_db(sys.argv[1])
store = DatabaseStore()
out = {}
"""


def run_python(source: str, *args: str) -> dict[str, Any]:
    """Run ``OPEN_DATABASE`` + ``source`` in a child interpreter; its ``out`` as JSON."""
    program = OPEN_DATABASE + textwrap.dedent(source) + "\nprint(json.dumps(out, default=str))\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    done = warm.run([sys.executable, "-c", program, *args], cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def itb_ext(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    return warm.run([sys.executable, "-m", "itb_ext.cli", *args], cwd=ROOT, env=env, timeout=120)


def key_values(database: Path) -> dict[str, Any]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT key, string_value, int_value, datetime_value FROM KeyValueStore"
        ).fetchall()
    return {key: s if s is not None else i if i is not None else d for key, s, i, d in rows}


def test_values_round_trip_through_freqtrades_key_value_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tradesv3.sqlite'}"
    out = run_python(
        """
        store.put("itb_text", "daily loss 6.0 %")
        store.put("itb_number", 3)
        store.put("itb_ratio", 0.25)
        # a moment in UTC+2 comes back as the same moment in UTC
        store.put("itb_moment", datetime(2019, 5, 2, 17, 30, tzinfo=timezone(timedelta(hours=2))))
        store.put("itb_number", 4)  # replaced, not added
        out["read"] = [store.get(k) for k in ("itb_text", "itb_number", "itb_ratio", "itb_moment")]
        out["tz"] = str(store.get("itb_moment").tzinfo)
        store.delete("itb_ratio")
        store.delete("itb_never_written")
        out["deleted"] = store.get("itb_ratio")
        for key, value in (("k" * 51, 1), ("itb_long", "x" * 256)):
            try:
                store.put(key, value)
            except StateStoreError as exc:
                out.setdefault("refused", []).append(str(exc))
        """,
        url,
    )
    assert out["read"] == ["daily loss 6.0 %", 4, 0.25, "2019-05-02 15:30:00+00:00"]
    assert out["tz"] == "UTC" and out["deleted"] is None
    assert out["refused"] == [
        f"state key '{'k' * 51}' must have 1 to 50 characters",
        "state 'itb_long': a text of more than 255 characters",
    ]
    assert key_values(tmp_path / "tradesv3.sqlite") == {
        "itb_text": "daily loss 6.0 %",
        "itb_number": 4,
        "itb_moment": "2019-05-02 15:30:00.000000",
    }


def test_a_refused_write_is_one_line_and_leaves_the_session_usable(tmp_path: Path) -> None:
    database = tmp_path / "tradesv3.sqlite"
    url = f"sqlite:///{database}"
    run_python("", url)  # creates FreqTrade's tables
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TRIGGER no_halt BEFORE INSERT ON KeyValueStore WHEN NEW.key LIKE 'itb_halt%' "
            "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"
        )
    out = run_python(
        """
        try:
            store.put("itb_halt_reason", "daily loss 6.0 %")
        except StateStoreError as exc:
            out["refused"] = str(exc)
        # FreqTrade's own next write goes through: the failed one was rolled back
        KeyValueStore.store_value("startup_time", datetime(2019, 5, 2, tzinfo=UTC))
        out["startup"] = KeyValueStore.get_value("startup_time")
        """,
        url,
    )
    assert out["refused"] == "IntegrityError: disk quota exceeded"
    assert out["startup"] == "2019-05-02 00:00:00+00:00"
    assert "itb_halt_reason" not in key_values(database)


def test_clear_halt_clears_the_halt_in_the_database_and_says_what_it_did(tmp_path: Path) -> None:
    database = tmp_path / "tradesv3.sqlite"
    url = f"sqlite:///{database}"
    run_python(
        """
        from itb_ext.risk.kill_switch import Halt, record_halt
        from pathlib import Path
        halt = Halt("2019-05-02 15:00 UTC", "daily loss 6.0 % beyond the limit of 5.0 %")
        record_halt(store, halt, Path(sys.argv[1][len("sqlite:///"):] + ".halt.json"))
        """,
        url,
    )
    assert key_values(database)["itb_halt_reason"] == "daily loss 6.0 % beyond the limit of 5.0 %"
    done = itb_ext("clear-halt", "--db-url", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"cleared the kill-switch halt in {url} (daily loss 6.0 % beyond the limit of 5.0 %, "
        "since 2019-05-02 15:00 UTC); losses count from now on. Send /reload_config to the bot "
        "(or restart it) to resume."
    )
    values = key_values(database)
    assert "itb_halt_reason" not in values and "itb_halt_since" not in values
    assert values["itb_kill_switch_cleared"] == 1
    assert values["itb_kill_switch_counting_from"] is not None
    again = itb_ext("clear-halt", "--db-url", url)
    assert again.stdout.strip() == f"no kill-switch halt recorded in {url}: nothing to clear"


def test_clear_halt_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite"
    done = itb_ext("clear-halt", "--db-url", f"sqlite:///{missing}")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"itb-ext: error: --db-url: {missing} is not a trade database (no such file)"
    )
    assert not missing.exists()  # opening it would have made an empty one
