"""The automatic kill switch: when to halt, and the halt that survives a restart.

The decision is a pure function of the equity figures. The halt is kept in the trade database
(a :class:`~itb_ext.risk.state.StateStore`: FreqTrade's key-value store when the bot runs), so
that it moves, backs up and restores with the trades, and a restarted bot stays halted until a
person clears it (``itb-ext clear-halt``, see docs/database.md).

It fails closed. When the database refuses the halt, the bot stays halted in memory, writes
the halt file of earlier releases instead (``<database>.halt.json``) and retries the database
every iteration; the next start moves a halt file into the database. When neither can be
written, the kill switch's own exits in the trade history (exit reason ``kill_switch`` since the
last clearing) still halt the next start.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from itb_ext.config.risk_controls import KillSwitchConfig
from itb_ext.data.files import write_atomically
from itb_ext.errors import DataError
from itb_ext.risk.state import MAX_TEXT_LENGTH, StateStore, StateStoreError

HALT_FILE_SUFFIX = ".halt.json"
IMPORTED_SUFFIX = ".imported"
"""A halt or ledger file moved into the database is renamed with this suffix (read once)."""

HALT_SINCE_KEY = "itb_halt_since"
HALT_REASON_KEY = "itb_halt_reason"
COUNTING_FROM_KEY = "itb_kill_switch_counting_from"
"""When a person last cleared a halt: losses count from then on."""
CLEARED_KEY = "itb_kill_switch_cleared"
"""A clearing the bot has not announced yet (set by ``itb-ext clear-halt``)."""
EXIT_REASON = "kill_switch"
"""The exit reason of the trades the kill switch closes."""


@dataclass(frozen=True)
class Equity:
    """Equity of the account as the kill switch sees it (stake currency).

    :param now: starting balance + realised profit + unrealised profit of open trades.
    :param peak: the highest realised equity so far, or ``now`` when higher.
    :param day_start: realised equity at the start of the current UTC day.
    """

    now: float
    peak: float
    day_start: float


def equity_figures(
    starting_balance: float,
    closed: Iterable[tuple[datetime, float]],
    open_profit: float,
    now: datetime,
    since: datetime | None = None,
) -> Equity:
    """Equity now, its peak and its value at the start of the UTC day, from the trade history.

    :param starting_balance: the wallet before the first trade.
    :param closed: (close time, absolute profit incl. fees) of every closed trade.
    :param open_profit: unrealised profit of the open trades at current prices.
    :param now: the current time (aware, UTC).
    :param since: when a person last cleared a halt: the peak and the day's start are taken
        from then on, so the losses that caused the halt do not trigger it again at once.
    """
    day = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    cutoff = max(day, since) if since is not None else day
    history = sorted(closed, key=lambda item: item[0])
    equity = starting_balance + sum(p for t, p in history if since is not None and t < since)
    peak = day_start = equity
    for closed_at, profit in history:
        if since is not None and closed_at < since:
            continue
        equity += profit
        peak = max(peak, equity)
        if closed_at < cutoff:
            day_start = equity
    current = equity + open_profit
    return Equity(now=current, peak=max(peak, current), day_start=day_start)


def halt_reason(equity: Equity, cfg: KillSwitchConfig) -> str | None:
    """Why the bot must halt now, or None.

    :return: e.g. ``"daily loss 6.1 % beyond the limit of 5.0 %"``.
    """
    if not cfg.enabled:
        return None
    if equity.day_start > 0:
        daily_loss = (equity.day_start - equity.now) / equity.day_start
        if daily_loss >= cfg.max_daily_loss:
            return (
                f"daily loss {daily_loss:.1%} beyond the limit of {cfg.max_daily_loss:.1%}"
            ).replace("%", " %")
    if equity.peak > 0:
        drawdown = (equity.peak - equity.now) / equity.peak
        if drawdown >= cfg.max_drawdown:
            return (
                f"drawdown {drawdown:.1%} from the equity peak beyond the limit of "
                f"{cfg.max_drawdown:.1%}"
            ).replace("%", " %")
    return None


@dataclass(frozen=True)
class Halt:
    """A halt in force: since when and why."""

    since: str
    reason: str


def stamp(moment: datetime) -> str:
    """A moment as halts show it: ``2019-05-01 17:25 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def halt_file(db_url: str | None, user_data_dir: Path) -> Path:
    """The halt file: beside a SQLite trade database, else in the user-data folder.

    Earlier releases kept the halt there; now it is written only when the database refuses a
    halt, and read (then moved into the database) at start-up.

    :param db_url: FreqTrade's ``db_url`` (``sqlite:///path/tradesv3.sqlite``).
    """
    prefix = "sqlite:///"
    if db_url and db_url.startswith(prefix) and len(db_url) > len(prefix):
        database = Path(db_url[len(prefix) :])
        return database.with_name(database.name + HALT_FILE_SUFFIX)
    return user_data_dir / ("kill_switch" + HALT_FILE_SUFFIX)


def read_halt(path: Path) -> Halt | None:
    """The halt recorded in ``path``, or None. An unreadable file still counts as a halt."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return Halt(since=str(data["since"]), reason=str(data["reason"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Halt(since="unknown", reason=f"unreadable halt file {path.name}")


def write_halt(path: Path, halt: Halt) -> None:
    """Record ``halt`` in ``path`` (written whole, then renamed into place).

    :raises DataError: the file cannot be written.
    """
    _write_json(path, {"since": halt.since, "reason": halt.reason})


def ledger_file(halt_path: Path) -> Path:
    """The kill switch's ledger of earlier releases, beside the halt file: whether it halted,
    and since when losses count (the last clearing). Read once at start-up."""
    return halt_path.with_name(halt_path.name.removesuffix(HALT_FILE_SUFFIX) + ".kill_switch.json")


def _read_ledger(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, object]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc.strerror or exc})") from None
    write_atomically(path, json.dumps(data, indent=1))


def _set_aside(path: Path) -> None:
    """Rename a file whose content is now in the database, so that it is read only once."""
    # Left in place, it is read again at the next start: the database already holds what it says.
    with contextlib.suppress(OSError):
        path.replace(path.with_name(path.name + IMPORTED_SUFFIX))


def recorded_halt(store: StateStore) -> Halt | None:
    """The halt recorded in the database, or None.

    Half a record (the reason or the moment missing) still counts as a halt.

    :raises StateStoreError: the database cannot be read.
    """
    since, reason = store.get(HALT_SINCE_KEY), store.get(HALT_REASON_KEY)
    if since is None and reason is None:
        return None
    return Halt(since=str(since or "unknown"), reason=str(reason or "no reason recorded"))


def counting_from(store: StateStore) -> datetime | None:
    """When a person last cleared a halt, or None (losses count from the first trade).

    :raises StateStoreError: the database cannot be read.
    """
    value = store.get(COUNTING_FROM_KEY)
    return value if isinstance(value, datetime) else None


def _put_halt(store: StateStore, record: Halt) -> None:
    # The reason first: a record cut short by a failed second write still reads as a halt.
    store.put(HALT_REASON_KEY, record.reason[:MAX_TEXT_LENGTH])
    store.put(HALT_SINCE_KEY, record.since[:MAX_TEXT_LENGTH])


@dataclass(frozen=True)
class Recording:
    """Where a halt is recorded.

    :param in_database: the trade database holds it.
    :param halt_file: the halt file that holds it instead (None: no file does).
    :param problem: why the database refused it (None: it did not).
    :param file_problem: why the halt file could not be written either.
    """

    in_database: bool
    halt_file: Path | None = None
    problem: str | None = None
    file_problem: str | None = None

    @property
    def survives_a_restart(self) -> bool:
        """Whether a restart finds the halt in the database or the halt file."""
        return self.in_database or self.halt_file is not None


RECORDED = Recording(in_database=True)


def record_halt(store: StateStore, record: Halt, halt_path: Path) -> Recording:
    """Record a halt in the database, else in the halt file. Never raises: a halt is in force
    whether or not it could be written."""
    try:
        _put_halt(store, record)
        return RECORDED
    except StateStoreError as exc:
        problem = str(exc)
    try:
        write_halt(halt_path, record)
    except DataError as exc:
        return Recording(False, None, problem, str(exc))
    return Recording(False, halt_path, problem)


def keep_recording(store: StateStore, record: Halt, recording: Recording) -> Recording:
    """Retry the database for a halt it refused; a halt file written instead is set aside once
    the database holds the halt."""
    if recording.in_database:
        return recording
    try:
        _put_halt(store, record)
    except StateStoreError:
        return recording
    if recording.halt_file is not None:
        _set_aside(recording.halt_file)
    return RECORDED


def halt_from_exits(exits: Iterable[datetime], since: datetime | None) -> Halt | None:
    """A halt the kill switch's own exits prove though no record of it was found.

    :param exits: when the kill switch's exit orders were placed (trades closed with exit
        reason ``kill_switch``).
    :param since: the last clearing (exits before it were cleared with their halt).
    """
    proof = sorted(moment for moment in exits if since is None or moment >= since)
    if not proof:
        return None
    return Halt(
        since=stamp(proof[0]),
        reason=f"the kill switch exited positions at {stamp(proof[0])} and no halt record was "
        "found (the database or the halt file refused it)",
    )


def _import_ledger(store: StateStore, halt_path: Path, now: datetime) -> bool:
    """Move the ledger of earlier releases into the database; whether it shows a halt cleared
    the earlier way (its halt file deleted while the bot was down)."""
    path = ledger_file(halt_path)
    if not path.exists():
        return False
    ledger = _read_ledger(path)
    cleared = bool(ledger.get("halted")) and not halt_path.exists()
    moment: datetime | None = now if cleared else None
    if moment is None and ledger.get("counting_from") and counting_from(store) is None:
        try:
            moment = datetime.fromisoformat(str(ledger["counting_from"]))
        except ValueError:
            moment = None
    if moment is not None:
        store.put(COUNTING_FROM_KEY, moment)
    _set_aside(path)
    return cleared


def _import_halt_file(store: StateStore, halt_path: Path) -> tuple[Halt | None, Recording | None]:
    """The halt of a halt file, moved into the database (the file is then set aside)."""
    found = read_halt(halt_path)
    if found is None:
        return None, None
    current = recorded_halt(store)
    if current is None:
        try:
            _put_halt(store, found)
        except StateStoreError as exc:
            return found, Recording(False, halt_path, str(exc))
    _set_aside(halt_path)
    return current or found, RECORDED


@dataclass(frozen=True)
class StartUp:
    """What the kill switch finds when the bot starts.

    :param halt: the halt in force, or None.
    :param recording: where that halt is recorded (None without a halt, or for the halt of a
        database that cannot be read, which lasts as long as the run).
    :param cleared: a person cleared a halt since the last run (to be announced once).
    """

    halt: Halt | None
    recording: Recording | None
    cleared: bool


def start_up(
    store: StateStore, halt_path: Path, now: datetime, exits: Iterable[datetime] = ()
) -> StartUp:
    """The halt in force at start-up, in this order: a halt file (earlier releases, or written
    when the database refused a halt) moved into the database, the database's halt, and the
    kill switch's exits since the last clearing when no record of their halt survived.

    The ledger of earlier releases is moved into the database on the way. A database that
    cannot be read halts the bot while this run lasts (not recorded: the next start, or
    ``/reload_config``, reads it again).

    :param exits: see :func:`halt_from_exits`.
    """
    try:
        cleared = _import_ledger(store, halt_path, now)
        halt, recording = _import_halt_file(store, halt_path)
        if halt is None and (halt := recorded_halt(store)) is not None:
            recording = RECORDED
        if halt is None and (halt := halt_from_exits(exits, counting_from(store))) is not None:
            recording = record_halt(store, halt, halt_path)
        if store.get(CLEARED_KEY) is not None:
            store.delete(CLEARED_KEY)
            cleared = cleared or halt is None
    except StateStoreError as exc:
        # Halted while this run lasts, not recorded: the next start reads the database again.
        reason = f"the kill switch's record in the trade database cannot be read ({exc})"
        return StartUp(Halt(stamp(now), reason), None, False)
    return StartUp(halt, recording, cleared and halt is None)


def clear_halt(
    store: StateStore, halt_path: Path, now: datetime, exits: Iterable[datetime] = ()
) -> Halt | None:
    """A person's clearing: forget the halt (database and halt file), count losses from ``now``
    and let the bot announce the clearing at its next start (or ``/reload_config``).

    :param exits: the kill switch's exits (see :func:`halt_from_exits`): a halt they prove is
        cleared too.
    :return: the halt cleared, or None when there was none (nothing is changed then).
    :raises StateStoreError: the database refused the clearing.
    :raises DataError: the halt file cannot be deleted.
    """
    _import_ledger(store, halt_path, now)
    found = recorded_halt(store) or read_halt(halt_path)
    found = found or halt_from_exits(exits, counting_from(store))
    if found is None:
        return None
    store.delete(HALT_SINCE_KEY)
    store.delete(HALT_REASON_KEY)
    store.put(COUNTING_FROM_KEY, now)
    store.put(CLEARED_KEY, 1)
    try:
        halt_path.unlink(missing_ok=True)
    except OSError as exc:
        # Left in place, the file would halt the next start again.
        raise DataError(
            f"{halt_path}: cannot delete the halt file ({exc.strerror or exc})"
        ) from None
    return found


def shown_db_url(db_url: str) -> str:
    """``db_url`` with its password hidden, fit for a log line or a Telegram message."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", db_url)


def clear_command(db_url: str) -> str:
    """The command that clears a halt of the bot with trade database ``db_url``."""
    return f"itb-ext clear-halt --db-url '{shown_db_url(db_url)}'"
