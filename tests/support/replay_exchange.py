"""The replay exchange and its parts under one import path (kept for existing tests).

The code lives in :mod:`tests.support.clock` (the simulated clock), :mod:`tests.support.http`
(the local server plumbing) and :mod:`tests.support.exchange` (candles, orders and the Binance
REST endpoints; its docstring describes the whole harness).
"""

from tests.support.clock import CLOCK_FILE_ENV, CLOCK_LAYOUT, SimClock
from tests.support.exchange import (
    BITFINEX_CANDLES,
    DEFAULT_MARKETS,
    HOUR_MS,
    PATH_STEPS,
    ROOT,
    CandleSeries,
    ExchangeError,
    ExchangeOrder,
    LoggedRequest,
    Market,
    ReplayExchange,
    load_candles,
)
from tests.support.http import LocalJSONServer, QuietHTTPServer, json_handler

__all__ = [
    "BITFINEX_CANDLES",
    "CLOCK_FILE_ENV",
    "CLOCK_LAYOUT",
    "DEFAULT_MARKETS",
    "HOUR_MS",
    "PATH_STEPS",
    "ROOT",
    "CandleSeries",
    "ExchangeError",
    "ExchangeOrder",
    "LocalJSONServer",
    "LoggedRequest",
    "Market",
    "QuietHTTPServer",
    "ReplayExchange",
    "SimClock",
    "json_handler",
    "load_candles",
]
