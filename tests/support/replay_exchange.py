"""The replay exchange and its parts under one import path (kept for existing tests).

The code lives in :mod:`tests.support.clock` (the simulated clock), :mod:`tests.support.http`
(the local server plumbing), :mod:`tests.support.exchange` (candles and the Binance REST
endpoints; its docstring describes the whole harness) and :mod:`tests.support.orders` (the
order book).
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
    Fault,
    LoggedRequest,
    Market,
    OrderPlan,
    ReplayExchange,
    RequestHook,
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
    "Fault",
    "LocalJSONServer",
    "LoggedRequest",
    "Market",
    "OrderPlan",
    "QuietHTTPServer",
    "ReplayExchange",
    "RequestHook",
    "SimClock",
    "json_handler",
    "load_candles",
]
