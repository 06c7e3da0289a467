"""The automatic kill switch: when to halt, and the halt that survives a restart.

The decision is a pure function of the equity figures; the halt itself is a small JSON file
beside the trade database, so that a restarted bot finds it and stays halted until a person
deletes it (see the README, "Kill switch").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from itb_ext.config.risk_controls import KillSwitchConfig
from itb_ext.data.files import write_atomically

HALT_FILE_SUFFIX = ".halt.json"


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


def halt_file(db_url: str | None, user_data_dir: Path) -> Path:
    """Where the halt is kept: beside a SQLite trade database, else in the user-data folder.

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
    """Record ``halt`` in ``path`` (written whole, then renamed into place)."""
    _write_json(path, {"since": halt.since, "reason": halt.reason})


def ledger_file(halt_path: Path) -> Path:
    """The kill switch's own record beside the halt file: whether it halted, and since when
    losses count (the last clearing)."""
    return halt_path.with_name(halt_path.name.removesuffix(HALT_FILE_SUFFIX) + ".kill_switch.json")


def _read_ledger(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(data, indent=1))


def counting_from(halt_path: Path) -> datetime | None:
    """When a person last cleared a halt, or None (losses count from the first trade)."""
    value = _read_ledger(ledger_file(halt_path)).get("counting_from")
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def halt(halt_path: Path, record: Halt) -> None:
    """Halt: write the halt file a person must delete, and note the halt in the ledger."""
    write_halt(halt_path, record)
    ledger = _read_ledger(ledger_file(halt_path))
    _write_json(ledger_file(halt_path), {**ledger, "halted": True})


def start_up(halt_path: Path, now: datetime) -> tuple[Halt | None, bool]:
    """The halt in force at start-up, and whether a person cleared one since the last run.

    A halt noted in the ledger whose halt file is gone was cleared by a person: losses count
    from ``now`` on.
    """
    current = read_halt(halt_path)
    if current is not None:
        return current, False
    ledger = _read_ledger(ledger_file(halt_path))
    if ledger.get("halted"):
        _write_json(ledger_file(halt_path), {"halted": False, "counting_from": now.isoformat()})
        return None, True
    return None, False
