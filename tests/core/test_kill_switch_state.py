"""The kill switch fails closed: a halt the trade database refuses still holds, now and after a
restart (``itb_ext.risk.kill_switch``, ``itb_ext.strategy.positions.KillSwitch``), and the files
of earlier releases are moved into the database once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itb_ext.config.risk_controls import KillSwitchConfig
from itb_ext.risk.kill_switch import (
    COUNTING_FROM_KEY,
    RECORDED,
    Halt,
    Recording,
    StartUp,
    clear_command,
    clear_halt,
    halt_from_exits,
    keep_recording,
    ledger_file,
    read_halt,
    record_halt,
    recorded_halt,
    shown_db_url,
    start_up,
    write_halt,
)
from itb_ext.risk.state import MemoryStore, StateStoreError, StoredValue
from itb_ext.strategy.alerts import Alerts
from itb_ext.strategy.positions import Account, KillSwitch

NOW = datetime(2019, 5, 2, 15, tzinfo=UTC)
HALT = Halt(since="2019-05-02 15:00 UTC", reason="daily loss 6.0 %")


class RefusingStore(MemoryStore):
    """A store whose writes fail (a locked or full database) until ``refusing`` is False."""

    def __init__(self, *, reads: bool = True) -> None:
        super().__init__()
        self.refusing, self.reads = True, reads

    def get(self, key: str) -> StoredValue | None:
        if not self.reads:
            raise StateStoreError("OperationalError: no such table: KeyValueStore")
        return super().get(key)

    def put(self, key: str, value: StoredValue) -> None:
        if self.refusing:
            raise StateStoreError("OperationalError: database is locked")
        super().put(key, value)


def test_a_refused_halt_goes_to_the_halt_file_and_into_the_database_at_the_next_start(
    tmp_path: Path,
) -> None:
    store, path = RefusingStore(), tmp_path / "tradesv3.sqlite.halt.json"
    recording = record_halt(store, HALT, path)
    assert recording == Recording(False, path, "OperationalError: database is locked")
    assert recording.survives_a_restart
    assert store.values == {} and read_halt(path) == HALT
    # restarted, the database still refusing: the file's halt holds, the file stays
    assert start_up(store, path, NOW) == StartUp(HALT, recording, False)
    assert path.exists()
    # restarted with the database back: the halt moves in, the file is set aside (read once)
    store.refusing = False
    assert start_up(store, path, NOW) == StartUp(HALT, RECORDED, False)
    assert recorded_halt(store) == HALT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tradesv3.sqlite.halt.json.imported"]
    assert start_up(store, path, NOW) == StartUp(HALT, RECORDED, False)


def test_a_halt_neither_the_database_nor_the_disk_takes_is_proved_by_its_exits(
    tmp_path: Path,
) -> None:
    store, path = RefusingStore(), tmp_path / "tradesv3.sqlite.halt.json"
    path.mkdir()  # the halt file cannot be written
    recording = record_halt(store, HALT, path)
    assert recording.in_database is False and recording.halt_file is None
    assert recording.problem == "OperationalError: database is locked"
    assert str(recording.file_problem).endswith("is a folder, not a file")
    assert not recording.survives_a_restart
    path.rmdir()
    # the kill switch exited a position at 15:02 and 15:05: a restart knows it halted
    exits = [NOW + timedelta(minutes=5), NOW + timedelta(minutes=2)]
    store.refusing = False
    found = start_up(store, path, NOW + timedelta(hours=1), exits)
    proved = Halt(
        since="2019-05-02 15:02 UTC",
        reason="the kill switch exited positions at 2019-05-02 15:02 UTC and no halt record "
        "was found (the database or the halt file refused it)",
    )
    assert found == StartUp(proved, RECORDED, False)
    assert recorded_halt(store) == proved  # recorded now


def test_exits_before_the_last_clearing_prove_nothing() -> None:
    exits = [NOW - timedelta(hours=2)]
    assert halt_from_exits(exits, since=NOW) is None
    assert halt_from_exits([], since=None) is None
    assert halt_from_exits(exits, since=None) is not None
    store = MemoryStore()
    store.put(COUNTING_FROM_KEY, NOW)
    assert start_up(store, Path("/nonexistent/x.halt.json"), NOW, exits).halt is None


def test_the_database_is_retried_until_it_takes_the_halt(tmp_path: Path) -> None:
    store, path = RefusingStore(), tmp_path / "bot.halt.json"
    recording = record_halt(store, HALT, path)
    assert keep_recording(store, HALT, recording) == recording  # still refused
    store.refusing = False
    assert keep_recording(store, HALT, recording) == RECORDED
    assert recorded_halt(store) == HALT
    assert not path.exists() and (tmp_path / "bot.halt.json.imported").exists()
    assert keep_recording(store, HALT, RECORDED) == RECORDED


def test_an_unreadable_database_halts_this_run_only(tmp_path: Path) -> None:
    store = RefusingStore(reads=False)
    found = start_up(store, tmp_path / "bot.halt.json", NOW)
    assert found.halt == Halt(
        "2019-05-02 15:00 UTC",
        "the kill switch's record in the trade database cannot be read (OperationalError: no "
        "such table: KeyValueStore)",
    )
    assert found.recording is None and list(tmp_path.iterdir()) == []


def test_the_files_of_earlier_releases_are_moved_into_the_database_once(tmp_path: Path) -> None:
    path = tmp_path / "tradesv3.sqlite.halt.json"
    write_halt(path, HALT)
    cleared_at = datetime(2019, 5, 1, 8, tzinfo=UTC)
    ledger = ledger_file(path)
    ledger.write_text(json.dumps({"halted": True, "counting_from": cleared_at.isoformat()}))
    store = MemoryStore()
    assert start_up(store, path, NOW) == StartUp(HALT, RECORDED, False)
    assert store.values == {
        COUNTING_FROM_KEY: cleared_at,
        "itb_halt_reason": "daily loss 6.0 %",
        "itb_halt_since": "2019-05-02 15:00 UTC",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tradesv3.sqlite.halt.json.imported",
        "tradesv3.sqlite.kill_switch.json.imported",
    ]


def test_a_halt_file_deleted_the_earlier_way_counts_as_cleared(tmp_path: Path) -> None:
    path = tmp_path / "tradesv3.sqlite.halt.json"
    ledger_file(path).write_text(json.dumps({"halted": True}))  # its halt file was deleted
    store = MemoryStore()
    assert start_up(store, path, NOW) == StartUp(None, None, True)
    assert store.values == {COUNTING_FROM_KEY: NOW}
    assert start_up(store, path, NOW) == StartUp(None, None, False)


def test_clearing_forgets_the_halt_file_and_a_halt_proved_by_exits(tmp_path: Path) -> None:
    path = tmp_path / "bot.halt.json"
    write_halt(path, HALT)
    store = MemoryStore()
    assert clear_halt(store, path, NOW) == HALT
    assert not path.exists()
    assert store.values == {COUNTING_FROM_KEY: NOW, "itb_kill_switch_cleared": 1}
    exits = [NOW + timedelta(hours=1)]
    later = NOW + timedelta(hours=2)
    cleared = clear_halt(store, path, later, exits)
    assert cleared is not None and cleared.since == "2019-05-02 16:00 UTC"
    assert store.values[COUNTING_FROM_KEY] == later
    refusing = RefusingStore()
    refusing.values[COUNTING_FROM_KEY] = NOW
    try:
        clear_halt(refusing, path, later, exits)
    except StateStoreError as exc:
        assert str(exc) == "OperationalError: database is locked"
    else:
        raise AssertionError("a refused clearing must say so")


def test_the_clearing_command_hides_the_password() -> None:
    url = "postgresql+psycopg://trader:s3cr%40t@db.local:5432/trades"
    assert shown_db_url(url) == "postgresql+psycopg://trader:***@db.local:5432/trades"
    assert shown_db_url("sqlite:////bot/tradesv3.sqlite") == "sqlite:////bot/tradesv3.sqlite"
    assert clear_command("sqlite:////bot/t.sqlite") == (
        "itb-ext clear-halt --db-url 'sqlite:////bot/t.sqlite'"
    )


def test_the_running_kill_switch_halts_retries_and_says_so_once(tmp_path: Path) -> None:
    cfg = KillSwitchConfig(max_daily_loss=0.05, max_drawdown=0.5)
    store, path, alerts = RefusingStore(), tmp_path / "t.sqlite.halt.json", Alerts("1h", 60)
    switch = KillSwitch(cfg)
    assert switch.start(store, path, "sqlite:////t.sqlite", NOW, [], alerts) == ()
    path.mkdir()  # the halt file cannot be written either
    reads: list[int] = []

    def account() -> Account:
        reads.append(1)
        return Account(1000.0, ((NOW - timedelta(hours=1), -60.0),), 0.0)  # 6 % down today

    told = switch.check(account, NOW, alerts)
    assert switch.halted and [a.text[:20] for a in told] == [
        "🛑 ITB kill switch: d",
        "🛑 ITB kill switch: t",
    ]
    assert "clear-halt --db-url 'sqlite:////t.sqlite'" in told[0].text
    assert "could not be recorded" in told[1].text
    assert switch.check(account, NOW, alerts) == ()  # still refused: nothing new to say
    assert len(reads) == 1  # halted: the account is not read again
    store.refusing = False
    assert [a.text for a in switch.check(account, NOW, alerts)] == [
        "ITB kill switch: the halt is now recorded in the trade database."
    ]
    assert recorded_halt(store) == switch.halt
    path.rmdir()  # a folder there would read as an unreadable halt file
    restarted = KillSwitch(cfg)
    told = restarted.start(store, path, "sqlite:////t.sqlite", NOW, [], Alerts("1h", 60))
    assert restarted.halt == switch.halt
    assert told[0].text.startswith("🛑 ITB kill switch still in force at start-up: daily loss")


def test_a_switched_off_kill_switch_never_reads_the_account() -> None:
    switch = KillSwitch(KillSwitchConfig(enabled=False))

    def account() -> Account:
        raise AssertionError("the account is read only to check the limits")

    assert switch.check(account, NOW, Alerts("1h", 60)) == () and not switch.halted
