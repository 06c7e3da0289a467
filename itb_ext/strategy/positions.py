"""Positions: a stake entered in slices (TWAP), the stop of an open trade, backtested fill
prices, and the kill switch's halt of all trading."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from itb_ext.config.risk_controls import KillSwitchConfig, TwapConfig
from itb_ext.risk.kill_switch import (
    Equity,
    Halt,
    Recording,
    clear_command,
    counting_from,
    equity_figures,
    halt_reason,
    keep_recording,
    record_halt,
    stamp,
    start_up,
)
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.state import MAX_KEY_LENGTH, MemoryStore, StateStore, StateStoreError, StoredValue
from itb_ext.risk.timeframes import candle_length, candles_held
from itb_ext.risk.twap import TwapPlan, next_child_stake, twap_plan, twap_schedule
from itb_ext.strategy.alerts import Alerts, Messages
from itb_ext.strategy.candles import stop_candles

PLAN_KEY = "twap_plan"
"""The trade's ``custom_data`` key of its TWAP plan (:meth:`TwapPlan.record`)."""
OLD_PLAN_KEY = "twap_stake"
"""The key earlier releases kept the whole stake under (read for trades they opened)."""
_ENTRY_PLAN_PREFIX = "itb_twap:"


def first_slice(stake: float, cfg: TwapConfig) -> float:
    """The first child order of a whole position's ``stake`` (the stake itself when unsliced)."""
    return twap_schedule(stake, cfg)[0].stake


def is_sliced(stake: float, cfg: TwapConfig) -> bool:
    """Whether a position of ``stake`` is entered in more than one child order."""
    return len(twap_schedule(stake, cfg)) > 1


def entry_plan_key(pair: str) -> str:
    """The bot-wide key of the plan of an entry on ``pair`` about to be placed (the trade does
    not exist yet); it fits the database's 50 characters."""
    key = _ENTRY_PLAN_PREFIX + pair
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return _ENTRY_PLAN_PREFIX + hashlib.sha256(pair.encode()).hexdigest()[:32]


def entry_plan_value(stake: float, now: datetime) -> str:
    """What :func:`entry_plan_key` holds: the whole stake and when it was planned."""
    return json.dumps({"stake": stake, "at": now.isoformat()})


def plan_of_new_trade(
    value: StoredValue | None, opened: datetime, candle_minutes: int, cfg: TwapConfig
) -> TwapPlan | None:
    """The plan of a trade opened at ``opened`` from the entry's bot-wide record, or None.

    A record belongs to the trade opened within one candle after it was made; an older one
    (an entry refused or never placed) is nobody's.
    """
    if value is None:
        return None
    try:
        data = json.loads(str(value))
        stake, at = float(data["stake"]), datetime.fromisoformat(str(data["at"]))
    except (TypeError, ValueError, KeyError):
        return None
    # A minute of slack: the record's and the trade's clocks are read a moment apart.
    if not at - timedelta(minutes=1) <= opened <= at + timedelta(minutes=candle_minutes):
        return None
    return twap_plan(stake, cfg)


def next_slice(
    plan: TwapPlan | None,
    filled: int,
    opened: datetime,
    last_fill: datetime | None,
    now: datetime,
    candle_minutes: int,
) -> float | None:
    """The next child order's stake when it is due, else None.

    :param plan: the trade's plan (None: the trade was not sliced).
    :param filled: entries of the trade filled so far.
    :param opened: when the trade opened; :param now: the current time.
    :param last_fill: when the newest entry filled (None: not known).
    :param candle_minutes: the candle length.
    """
    if plan is None:
        return None

    def candle_of(moment: datetime) -> int:
        return int((moment - opened).total_seconds() // (candle_minutes * 60))

    since_fill = None if last_fill is None else candle_of(now) - candle_of(last_fill)
    return next_child_stake(plan.children, filled, candle_of(now), since_fill)


def fill_price(risk: RiskPolicy, price: float, *, buying: bool, backtesting: bool) -> float:
    """The price of an order: moved against the trade by the configured slippage in backtests
    and hyperopt (live fills carry their own), else ``price``."""
    if not (risk.cfg.enabled and backtesting):
        return price
    return risk.fill_price(price, "buy" if buying else "sell")


def new_halt(equity: Equity, cfg: KillSwitchConfig, now: datetime) -> Halt | None:
    """The kill switch's halt when the equity passed a hard limit, else None."""
    reason = halt_reason(equity, cfg)
    return None if reason is None else Halt(since=stamp(now), reason=reason)


@dataclass(frozen=True)
class Account:
    """What the kill switch reads of the account.

    :param starting_balance: the wallet before the first trade.
    :param realised: (close time, absolute profit) of every closed trade.
    :param unrealised: profit of the open trades at the newest prices.
    """

    starting_balance: float
    realised: tuple[tuple[datetime, float], ...]
    unrealised: float


def halt_beyond_limits(
    cfg: KillSwitchConfig, store: StateStore, halt_path: Path, account: Account, now: datetime
) -> tuple[Halt, Recording] | None:
    """Halt, and record the halt a person must clear, when the equity passed a hard limit.

    Losses count from the last time a person cleared a halt (see
    :func:`itb_ext.risk.kill_switch.counting_from`); when that cannot be read, from the first
    trade (the stricter count).

    :return: the halt and where it is recorded, or None (trading goes on).
    """
    try:
        since = counting_from(store)
    except StateStoreError:
        since = None
    equity = equity_figures(
        account.starting_balance, account.realised, account.unrealised, now, since=since
    )
    found = new_halt(equity, cfg, now)
    if found is None:
        return None
    return found, record_halt(store, found, halt_path)


class KillSwitch:
    """The kill switch of a running bot: the halt in force and where it is recorded.

    :param cfg: the ``itb.risk.kill_switch`` section.
    """

    def __init__(self, cfg: KillSwitchConfig) -> None:
        self.cfg = cfg
        self.store: StateStore = MemoryStore()
        self.halt_path = Path("kill_switch.halt.json")
        self.clear_hint = "itb-ext clear-halt"
        self.halt: Halt | None = None
        self.recording: Recording | None = None

    @property
    def halted(self) -> bool:
        return self.halt is not None

    def start(
        self,
        store: StateStore,
        halt_path: Path,
        db_url: str,
        now: datetime,
        exits: Iterable[datetime],
        alerts: Alerts,
    ) -> Messages:
        """Find the halt left before a restart (see :func:`itb_ext.risk.kill_switch.start_up`).

        :param db_url: the trade database (for the clearing command the messages name).
        :param exits: when the kill switch's exit orders were placed.
        :return: what to tell: a halt still in force, or a halt a person cleared.
        """
        self.store, self.halt_path, self.clear_hint = store, halt_path, clear_command(db_url)
        found = start_up(store, halt_path, now, exits)
        self.halt, self.recording = found.halt, found.recording
        told = alerts.kill_switch(found.halt, self.clear_hint, at_start=True, cleared=found.cleared)
        return told + alerts.halt_recording(found.recording)

    def check(self, account: Callable[[], Account], now: datetime, alerts: Alerts) -> Messages:
        """Each bot iteration: halt beyond a hard limit; while halted, retry recording a halt
        the database refused.

        :param account: reads the account (only called when the limits are checked).
        """
        if self.halt is not None and self.recording is not None:
            self.recording = keep_recording(self.store, self.halt, self.recording)
        elif self.halt is None and self.cfg.enabled:
            found = halt_beyond_limits(self.cfg, self.store, self.halt_path, account(), now)
            if found is not None:
                self.halt, self.recording = found
        told = alerts.kill_switch(self.halt, self.clear_hint)
        return told + alerts.halt_recording(self.recording)


def stoploss(
    risk: RiskPolicy,
    frame: pd.DataFrame | None,
    opened: datetime,
    current_rate: float,
    open_rate: float,
    short: bool,
) -> float | None:
    """``custom_stoploss``'s answer for a trade from its pair's analysed candles: the ATR stop
    relative to ``current_rate`` (negative), or None to keep the current stop.

    :param frame: the analysed candles (None or empty before the first analysis).
    :param opened: when the trade opened (its signal candle is the one before).
    :param open_rate: the trade's entry price; :param short: the trade is a short.
    """
    newest, entry = stop_candles(frame, risk.stop_columns, opened)
    if newest is None:
        return None
    return risk.stoploss(
        row=newest, current_rate=current_rate, open_rate=open_rate, entry_row=entry, is_short=short
    )


def candles_open(opened: datetime, now: datetime, timeframe: str) -> int:
    """Whole candles of ``timeframe`` a trade has been open (0 within its entry candle)."""
    return candles_held(opened, now, candle_length(timeframe))
