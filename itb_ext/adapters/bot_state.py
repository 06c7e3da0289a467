"""The bot's state in FreqTrade's own trade database, so that it moves, backs up and restores
with the trades: bot-wide values in its key-value store (``freqtrade.persistence.KeyValueStore``:
the kill switch's halt and ledger, the plan of an entry about to be placed), per-trade values in
the trade's ``custom_data`` (its TWAP plan).

Also the ``itb-ext clear-halt`` command, which clears a halt in that database.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from freqtrade.persistence import KeyStoreKeys, KeyValueStore, LocalTrade, Trade, init_db
from freqtrade.persistence.custom_data import _CustomData
from sqlalchemy.exc import SQLAlchemyError

from itb_ext.config.risk_controls import TwapConfig
from itb_ext.errors import ConfigError
from itb_ext.risk.kill_switch import EXIT_REASON, Halt, clear_halt, halt_file, shown_db_url
from itb_ext.risk.state import MemoryStore, StateStore, StateStoreError, StoredValue, check_entry
from itb_ext.risk.twap import TwapPlan, plan_from_record, twap_plan
from itb_ext.strategy.alerts import Alerts, Messages
from itb_ext.strategy.positions import (
    OLD_PLAN_KEY,
    PLAN_KEY,
    KillSwitch,
    entry_plan_key,
    entry_plan_value,
    next_slice,
    plan_of_new_trade,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: FreqTrade's run modes with a trade database (dry-run and live).
_DATABASE_RUN_MODES = ("dry_run", "live")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


def _guarded(action: Callable[[], T], rollback: Callable[[], None]) -> T:
    """Run a database action; a refusal becomes :class:`StateStoreError` and the session is
    rolled back, so that FreqTrade's own next write does not fail on it."""
    try:
        return action()
    except (SQLAlchemyError, ValueError) as exc:
        # A connection that is gone fails the rollback too: FreqTrade reconnects on its next query.
        with contextlib.suppress(SQLAlchemyError):
            rollback()
        raise StateStoreError(_one_line(exc)) from None


def _rollback_trades() -> None:
    Trade.session.rollback()


def _rollback_custom_data() -> None:
    # custom_data has a session of its own (freqtrade.persistence.models.init_db)
    _CustomData.session.rollback()


class DatabaseStore:
    """A :class:`~itb_ext.risk.state.StateStore` in the trade database's key-value store.

    Needs FreqTrade's database open (``init_db``: the bot opens it before ``bot_start``).
    """

    def get(self, key: str) -> StoredValue | None:
        check_entry(key)
        return _guarded(lambda: KeyValueStore.get_value(cast(KeyStoreKeys, key)), _rollback_trades)

    def put(self, key: str, value: StoredValue) -> None:
        check_entry(key, value)
        # The store keeps naive datetimes: store the moment in UTC, it comes back as UTC.
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        stored = value
        _guarded(
            lambda: KeyValueStore.store_value(cast(KeyStoreKeys, key), stored), _rollback_trades
        )

    def delete(self, key: str) -> None:
        check_entry(key)
        _guarded(lambda: KeyValueStore.delete_value(cast(KeyStoreKeys, key)), _rollback_trades)


def store_for(config: Mapping[str, Any]) -> StateStore:
    """The bot's state store: the trade database in dry-run and live, memory otherwise
    (backtests and hyperopt have no database)."""
    return DatabaseStore() if config.get("runmode") in _DATABASE_RUN_MODES else MemoryStore()


# --- the kill switch -----------------------------------------------------------------------------


def kill_switch_exits() -> list[datetime]:
    """When the kill switch's exit orders were placed, for every trade it closed (the proof of
    a halt whose record was lost, see :func:`itb_ext.risk.kill_switch.halt_from_exits`)."""
    moments = []
    for trade in Trade.get_trades_proxy(is_open=False):
        if trade.exit_reason != EXIT_REASON:
            continue
        exits = trade.select_filled_orders(trade.exit_side)
        placed = exits[-1].order_date_utc if exits else trade.close_date_utc
        if placed is not None:
            moments.append(placed)
    return moments


def _sqlite_file(db_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(db_url[len(prefix) :]) if db_url.startswith(prefix) else None


def open_database(db_url: str) -> None:
    """Open an existing trade database as FreqTrade does (``init_db``).

    :raises ConfigError: a SQLite file that does not exist (opening would create an empty one),
        or a database that cannot be opened.
    """
    database = _sqlite_file(db_url)
    if database is not None and not database.is_file():
        raise ConfigError(f"--db-url: {database} is not a trade database (no such file)")
    try:
        init_db(db_url)
    except Exception as exc:  # FreqTrade's OperationalException, SQLAlchemy's, the driver's
        raise ConfigError(f"--db-url {shown_db_url(db_url)}: {_one_line(exc)}") from None


def clear_halt_command(db_url: str, user_data_dir: Path, now: datetime | None = None) -> str:
    """``itb-ext clear-halt``: clear the kill switch's halt in the trade database ``db_url``
    (and a halt file beside it); the bot resumes after ``/reload_config`` or a restart.

    :param user_data_dir: the bot's user-data folder (where the halt file of a non-SQLite
        database lies).
    :return: what was done, one line.
    :raises ConfigError: the database cannot be opened or refused the clearing.
    """
    open_database(db_url)
    moment = now or datetime.now(UTC)
    try:
        found: Halt | None = clear_halt(
            DatabaseStore(), halt_file(db_url, user_data_dir), moment, kill_switch_exits()
        )
    except StateStoreError as exc:
        raise ConfigError(f"--db-url {shown_db_url(db_url)}: clearing refused ({exc})") from None
    where = shown_db_url(db_url)
    if found is None:
        return f"no kill-switch halt recorded in {where}: nothing to clear"
    return (
        f"cleared the kill-switch halt in {where} ({found.reason}, since {found.since}); losses "
        "count from now on. Send /reload_config to the bot (or restart it) to resume."
    )


# --- sliced entries (TWAP) -----------------------------------------------------------------------


def plan_entry(store: StateStore, pair: str, stake: float, now: datetime) -> None:
    """Record the whole stake of a sliced entry on ``pair`` before its first order is placed:
    the trade does not exist yet, and a restart must still know the plan."""
    try:
        store.put(entry_plan_key(pair), entry_plan_value(stake, now))
    except StateStoreError as exc:
        # The trade then holds its first child only: a smaller position, never a larger one.
        logger.warning(f"ITB {pair}: the plan of the sliced entry could not be recorded ({exc})")


def trade_plan(
    trade: LocalTrade, store: StateStore, cfg: TwapConfig, candle_minutes: int
) -> TwapPlan | None:
    """The TWAP plan of ``trade``: its ``custom_data``, else the entry's bot-wide record (then
    moved into the trade's ``custom_data``), else None (not sliced)."""
    plan = plan_from_record(trade.get_custom_data(PLAN_KEY))
    if plan is not None:
        return plan
    old = trade.get_custom_data(OLD_PLAN_KEY)
    if isinstance(old, int | float):
        return twap_plan(float(old), cfg)
    key = entry_plan_key(trade.pair)
    try:
        plan = plan_of_new_trade(store.get(key), trade.open_date_utc, candle_minutes, cfg)
    except StateStoreError:
        return None  # read again on the next iteration
    if plan is None:
        return None
    try:
        _guarded(lambda: trade.set_custom_data(PLAN_KEY, plan.record()), _rollback_custom_data)
        store.delete(key)
    except StateStoreError as exc:
        logger.warning(f"ITB {trade.pair}: TWAP plan kept bot-wide for now ({exc})")
    return plan


def last_entry_fill(trade: LocalTrade) -> datetime | None:
    """When the newest filled entry order of ``trade`` filled (None: no filled entry)."""
    filled = trade.select_filled_orders(trade.entry_side)
    moments = [o.order_filled_utc or o.order_date_utc for o in filled]
    return max(moments) if moments else None


def start_kill_switch(
    kill_switch: KillSwitch, store: StateStore, config: Mapping[str, Any], alerts: Alerts
) -> Messages:
    """``bot_start`` of a dry-run or live bot: the halt left before a restart, read from the
    trade database (and the emergency halt file beside it), with what to tell about it."""
    db_url = str(config["db_url"])
    halt_path = halt_file(db_url, Path(config["user_data_dir"]))
    return kill_switch.start(
        store, halt_path, db_url, datetime.now(UTC), kill_switch_exits(), alerts
    )


def next_twap_child(
    trade: LocalTrade, plan: TwapPlan | None, now: datetime, candle_minutes: int
) -> float | None:
    """The stake of a sliced entry's next child order when it is due (None: none now)."""
    filled, opened = trade.nr_of_successful_entries, trade.open_date_utc
    return next_slice(plan, filled, opened, last_entry_fill(trade), now, candle_minutes)
