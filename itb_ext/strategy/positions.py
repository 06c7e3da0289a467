"""Positions: a stake entered in slices (TWAP), the stop of an open trade, backtested fill
prices, and the kill switch's halt of all trading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from itb_ext.config.risk_controls import KillSwitchConfig, TwapConfig
from itb_ext.risk.kill_switch import (
    Equity,
    Halt,
    counting_from,
    equity_figures,
    halt,
    halt_reason,
)
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.timeframes import candle_length, candles_held
from itb_ext.risk.twap import next_child_stake, twap_schedule
from itb_ext.strategy.candles import stop_candles


def first_slice(stake: float, cfg: TwapConfig) -> float:
    """The first child order of a whole position's ``stake`` (the stake itself when unsliced)."""
    return twap_schedule(stake, cfg)[0].stake


def next_slice(
    total: float | None,
    cfg: TwapConfig,
    filled: int,
    opened: datetime,
    now: datetime,
    candle_minutes: int,
) -> float | None:
    """The next child order's stake when its candle has come, else None.

    :param total: the whole position's stake (None: the trade was not sliced).
    :param filled: entries of the trade filled so far.
    :param opened: when the trade opened; :param now: the current time.
    :param candle_minutes: the candle length.
    """
    if total is None:
        return None
    elapsed = int((now - opened).total_seconds() // (candle_minutes * 60))
    return next_child_stake(twap_schedule(float(total), cfg), filled, elapsed)


def fill_price(risk: RiskPolicy, price: float, *, buying: bool, backtesting: bool) -> float:
    """The price of an order: moved against the trade by the configured slippage in backtests
    and hyperopt (live fills carry their own), else ``price``."""
    if not (risk.cfg.enabled and backtesting):
        return price
    return risk.fill_price(price, "buy" if buying else "sell")


def new_halt(equity: Equity, cfg: KillSwitchConfig, now: datetime) -> Halt | None:
    """The kill switch's halt when the equity passed a hard limit, else None."""
    reason = halt_reason(equity, cfg)
    return None if reason is None else Halt(since=now.strftime("%Y-%m-%d %H:%M UTC"), reason=reason)


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
    cfg: KillSwitchConfig, halt_path: Path, account: Account, now: datetime
) -> Halt | None:
    """Halt (and write the halt file a person must delete) when the equity passed a hard limit.

    Losses count from the last time a person cleared a halt (see
    :func:`itb_ext.risk.kill_switch.counting_from`).

    :return: the halt, or None (trading goes on).
    """
    since = counting_from(halt_path)
    equity = equity_figures(
        account.starting_balance, account.realised, account.unrealised, now, since=since
    )
    found = new_halt(equity, cfg, now)
    if found is not None:
        halt(halt_path, found)
    return found


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
