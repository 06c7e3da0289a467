"""ITBStrategy's live order path on a scripted signal, for the order-fault scenarios and the soak.

``ScriptedOrders`` (written into a test's folder beside a copy of ITBStrategy) keeps every
callback of ITBStrategy (stake, TWAP children, kill switch, the checks against the exchange) and
replaces only the model: it enters on a fixed pattern of candles and exits on another, so that
whatever the bot does to its orders follows from known signals. The bot runs in live mode on the
replay exchange with the stop on the exchange as the shipped live config has it (a stop-limit
order, :data:`STOP_ON_EXCHANGE`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itb_ext.config.files import deep_merge
from tests.support.bot import ROOT, ReplaySession, replay_session

START = datetime(2019, 5, 1, 15, 0, tzinfo=UTC)
STRATEGY = "ScriptedOrders"

STOP_ON_EXCHANGE: dict[str, Any] = {
    "entry": "limit",
    "exit": "limit",
    "stoploss": "limit",
    "stoploss_on_exchange": True,
    "stoploss_on_exchange_interval": 60,
}
"""The ``order_types`` of the shipped live config (user_data/config.json)."""

_SOURCE = '''
from pandas import DataFrame

from ITBStrategy import ITBStrategy

CYCLE, HOLD, PAIRS = {cycle!r}, {hold!r}, {pairs!r}


class ScriptedOrders(ITBStrategy):
    """ITBStrategy's callbacks on a scripted signal: no model; enter on the candles whose hour
    modulo CYCLE is below HOLD, exit on the last hour of each cycle (CYCLE 0: enter on every
    candle, never exit on a signal; HOLD 0: never enter, trades come from /forceenter); signals
    on the PAIRS only (None: every pair)."""

    stoploss = {stoploss!r}

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        hours = dataframe["date"].dt.hour
        enter = hours % CYCLE < HOLD if CYCLE else hours >= 0
        signalled = HOLD > 0 and (PAIRS is None or metadata["pair"] in PAIRS)
        dataframe["enter_long"] = (enter & signalled).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        hours = dataframe["date"].dt.hour
        signalled = CYCLE > 0 and (PAIRS is None or metadata["pair"] in PAIRS)
        dataframe["exit_long"] = ((hours % max(CYCLE, 1) == CYCLE - 1) & signalled).astype(int)
        return dataframe
'''


def scripted_strategy(
    folder: Path,
    *,
    stoploss: float = -0.2,
    cycle: int = 0,
    hold: int = 1,
    signal_pairs: tuple[str, ...] | None = None,
) -> Path:
    """A folder with a copy of ITBStrategy and ``ScriptedOrders``.

    :param stoploss: the strategy's fixed stop (the stop order's distance below the entry).
    :param cycle: the signal's period in candles (0: an entry signal on every candle, no exit
        signal); :param hold: candles of each cycle with an entry signal (0: none at all).
    :param signal_pairs: the pairs with entry signals (None: every pair).
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", folder)
    source = _SOURCE.format(cycle=cycle, hold=hold, stoploss=stoploss, pairs=signal_pairs)
    (folder / f"{STRATEGY}.py").write_text(source)
    return folder


def itb_section(risk: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The sample ``itb`` section with ITB's own sizing, stops and protections off (FreqTrade's
    stake, the strategy's fixed stop) and ``risk`` merged over ``itb.risk``."""
    raw: dict[str, Any] = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    base = {"enabled": False, "protections": {"cooldown_candles": 0}}
    raw["risk"] = deep_merge(base, dict(risk or {}))
    return raw


@contextmanager
def order_bot(
    tmp: Path,
    *,
    risk: Mapping[str, Any] | None = None,
    stoploss: float = -0.2,
    cycle: int = 0,
    hold: int = 1,
    signal_pairs: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
    start: datetime = START,
    **options: Any,
) -> Iterator[ReplaySession]:
    """A live ``ScriptedOrders`` bot on the replay exchange (1000 USDT, 300 USDT stakes, the
    stop on the exchange), ready, with the fake Telegram polling.

    :param risk: merged over ``itb.risk`` (see :func:`itb_section`).
    :param overrides: merged over the bot's FreqTrade config.
    :param options: more :func:`~tests.support.bot.replay_session` options.
    """
    config = {
        "itb": itb_section(risk),
        "order_types": STOP_ON_EXCHANGE,
        "max_open_trades": 1,
        "unfilledtimeout": {"entry": 10, "exit": 10, "exit_timeout_count": 0, "unit": "minutes"},
    }
    settings: dict[str, Any] = {
        "mode": "live",
        "balances": {"USDT": 1000},
        "stake_amount": 300,
        "pairs": ("BTC/USDT",),
        **options,
    }
    with replay_session(
        tmp,
        start,
        strategy=STRATEGY,
        strategy_path=scripted_strategy(
            tmp / "strategies",
            stoploss=stoploss,
            cycle=cycle,
            hold=hold,
            signal_pairs=signal_pairs,
        ),
        config_overrides=deep_merge(config, dict(overrides or {})),
        **settings,
    ) as session:
        if session.telegram is not None:
            session.telegram.wait_until_polling(60)
        yield session
