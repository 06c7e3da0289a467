"""Offline mode: run FreqTrade's research commands on static market definitions, without network.

FreqTrade needs the exchange's markets (pairs, precision, limits, fees) even for backtesting. It
builds two ccxt clients per exchange (sync and async) in ``Exchange._init_ccxt`` and later asks the
async one for markets through ccxt's ``load_markets``, which calls ``fetch_currencies`` and
``fetch_markets`` over HTTP. Offline mode wraps ``_init_ccxt`` only: every freshly built ccxt client
answers ``fetch_markets``, ``fetch_currencies``, ``fetch_trading_fees`` and the leverage-tier calls
from a static JSON file, and its HTTP primitive ``fetch`` fails at once. Everything else (market
validation, precision, fees through ccxt's ``calculate_fee``, reload logic) is FreqTrade's and
ccxt's own code running on the static data.

Static files are ``<exchange id>.json`` with the keys ``markets`` (symbol -> ccxt unified
market) and optionally ``leverage_tiers`` (symbol -> list of ccxt leverage tiers, for
``trading_mode: futures``). They are looked up in the folder named by the environment variable
``ITB_EXT_MARKETS_DIR`` first, then in the folder bundled with this package.

This module is the only one that imports FreqTrade and ccxt for offline mode; it imports them lazily
so that :func:`static_markets` works without FreqTrade installed.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from itb_ext.errors import ConfigError

MARKETS_DIR = Path(__file__).resolve().parent / "markets"
"""Folder of the static market files shipped with the package."""

MARKETS_DIR_ENV = "ITB_EXT_MARKETS_DIR"
"""Environment variable naming an extra folder of static market files (searched first)."""

NETWORK_COMMANDS = frozenset({"trade", "download-data"})
"""FreqTrade subcommands that cannot work offline: they need live exchange data."""

_EXCHANGE_ID = re.compile(r"^[a-z0-9_]+$")

OFFLINE_HELP = """\
usage: itb-ext freqtrade <freqtrade command> [options]

Offline mode: runs FreqTrade in this process with the exchange's markets, currencies and fees
taken from static files instead of the network; every other network request is refused.
  works:   backtesting, hyperopt, lookahead-analysis, recursive-analysis, plot-dataframe
           (add --no-trades before any backtest was run), list-data, hyperopt-list/-show, ...
  refused: trade, download-data (they need the exchange; run plain freqtrade online)
  candles: already on disk in --datadir (e.g. user_data/data/bitfinex); to add a pair or a
           period, copy its <PAIR>-<timeframe>.feather file there (download-data online, then copy)
  markets: itb_ext/adapters/markets/<exchange>.json, or a folder named by ITB_EXT_MARKETS_DIR
example: itb-ext freqtrade backtesting --config user_data/config.demo.json \\
             --datadir user_data/data/bitfinex --timerange 20190101-20190401
"""
"""What ``itb-ext freqtrade --help`` says before FreqTrade's own help."""

_HELP_FLAGS = frozenset({"-h", "--help"})


def markets_file(exchange_name: str) -> Path:
    """Locate the static market file of an exchange.

    :param exchange_name: ccxt exchange id as written in FreqTrade's ``exchange.name`` (any case).
    :return: path of ``<exchange>.json``.
    :raises ConfigError: when the name is not a plain exchange id or no file exists.
    """
    name = exchange_name.strip().lower()
    if not _EXCHANGE_ID.match(name):
        raise ConfigError(f"offline mode: invalid exchange name {exchange_name!r}")
    folders = [Path(extra)] if (extra := os.environ.get(MARKETS_DIR_ENV)) else []
    folders.append(MARKETS_DIR)
    for folder in folders:
        candidate = folder / f"{name}.json"
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(folder) for folder in folders)
    raise ConfigError(
        f"offline mode: no static markets for exchange '{name}' "
        f"(expected {name}.json in {searched}); run plain freqtrade online instead"
    )


def _load_static_file(exchange_name: str) -> dict[str, Any]:
    """Read and check a static market file; return its parsed content."""
    path = markets_file(exchange_name)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"offline mode: cannot read {path}: {exc}") from exc
    markets = content.get("markets") if isinstance(content, dict) else None
    if not isinstance(markets, dict) or not markets:
        raise ConfigError(f"offline mode: {path} has no 'markets' object")
    for symbol, market in markets.items():
        if not isinstance(market, dict) or market.get("symbol") != symbol:
            raise ConfigError(f"offline mode: {path}: market '{symbol}' must repeat its symbol")
        missing = [key for key in ("id", "base", "quote", "type") if key not in market]
        if missing:
            raise ConfigError(f"offline mode: {path}: market '{symbol}' lacks key '{missing[0]}'")
    tiers = content.get("leverage_tiers", {})
    if not isinstance(tiers, dict):
        raise ConfigError(f"offline mode: {path}: 'leverage_tiers' must be an object")
    return {"path": path, "markets": markets, "leverage_tiers": tiers}


def static_markets(exchange_name: str) -> dict[str, dict[str, Any]]:
    """Static markets of an exchange, keyed by symbol, in ccxt's unified market structure.

    :param exchange_name: ccxt exchange id (``bitfinex``, ``binance``, ...).
    :return: a fresh copy of the ``markets`` object of the exchange's static file.
    :raises ConfigError: when no usable static file exists for the exchange.
    """
    markets: dict[str, dict[str, Any]] = _load_static_file(exchange_name)["markets"]
    return markets


def _trading_fees(markets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Trading fees per symbol in the shape of ccxt's ``fetch_trading_fees``."""
    return {
        symbol: {
            "info": {},
            "symbol": symbol,
            "maker": market.get("maker"),
            "taker": market.get("taker"),
            "percentage": market.get("percentage", True),
            "tierBased": market.get("tierBased", False),
        }
        for symbol, market in markets.items()
    }


def _offline_answers(static: dict[str, Any], exchange_id: str) -> dict[str, Callable[..., Any]]:
    """The ccxt methods answered from the static file, plus the blocked HTTP primitive."""
    import ccxt

    markets: dict[str, dict[str, Any]] = static["markets"]
    tiers: dict[str, list[dict[str, Any]]] = static["leverage_tiers"]
    source = static["path"]

    def fetch_markets(params: Any = None) -> list[dict[str, Any]]:
        # ccxt's set_markets fills defaults into what it gets: hand it copies.
        return copy.deepcopy(list(markets.values()))

    def fetch_currencies(params: Any = None) -> None:
        # None makes ccxt derive the currencies from the markets' base and quote.
        return None

    def fetch_trading_fees(params: Any = None) -> dict[str, dict[str, Any]]:
        return _trading_fees(markets)

    def fetch_leverage_tiers(
        symbols: list[str] | None = None, params: Any = None
    ) -> dict[str, list[dict[str, Any]]]:
        wanted = symbols if symbols is not None else list(tiers)
        return {symbol: copy.deepcopy(tiers[symbol]) for symbol in wanted if symbol in tiers}

    def fetch_market_leverage_tiers(symbol: str, params: Any = None) -> list[dict[str, Any]]:
        if symbol not in tiers:
            raise ccxt.BaseError(f"offline mode: no static leverage tiers for {symbol} in {source}")
        return copy.deepcopy(tiers[symbol])

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        # A plain BaseError: FreqTrade retries (with sleeps) only network/exchange errors, so this
        # stops the command at once with a readable reason instead of hanging on timeouts.
        raise ccxt.BaseError(
            f"offline mode: {exchange_id} tried a network request ({method} {url}); "
            "only static markets are available offline"
        )

    return {
        "fetch_markets": fetch_markets,
        "fetch_currencies": fetch_currencies,
        "fetch_trading_fees": fetch_trading_fees,
        "fetch_leverage_tiers": fetch_leverage_tiers,
        "fetch_market_leverage_tiers": fetch_market_leverage_tiers,
        "fetch": fetch,
    }


def _as_coroutine_function(answer: Callable[..., Any]) -> Callable[..., Any]:
    """Async flavour of a static answer, for ccxt's asyncio clients."""

    async def answer_async(*args: Any, **kwargs: Any) -> Any:
        return answer(*args, **kwargs)

    return answer_async


def _make_offline(api: Any, static: dict[str, Any]) -> None:
    """Turn one ccxt client (sync or async) into an offline one by shadowing instance methods."""
    is_async = inspect.iscoroutinefunction(api.fetch)
    for name, answer in _offline_answers(static, str(api.id)).items():
        setattr(api, name, _as_coroutine_function(answer) if is_async else answer)


@contextmanager
def offline_exchange() -> Iterator[None]:
    """Within the block, every FreqTrade exchange builds offline ccxt clients on static markets.

    The exchange name comes from FreqTrade's resolved configuration (``exchange.name``). A missing
    static file or a trading run mode stops FreqTrade with a one-line ``OperationalException``.
    The class attribute is restored on exit, so only exchanges created inside the block are offline.
    """
    from freqtrade.enums import TRADE_MODES
    from freqtrade.exceptions import OperationalException
    from freqtrade.exchange.exchange import Exchange

    original = Exchange.__dict__["_init_ccxt"]

    def init_ccxt_offline(
        exchange: Any, exchange_config: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        if exchange._config.get("runmode") in TRADE_MODES:
            raise OperationalException("offline mode cannot trade; run plain freqtrade online")
        try:
            static = _load_static_file(str(exchange_config["name"]))
        except ConfigError as exc:
            raise OperationalException(str(exc)) from exc
        api = original(exchange, exchange_config, *args, **kwargs)
        _make_offline(api, static)
        return api

    setattr(Exchange, "_init_ccxt", init_ccxt_offline)  # noqa: B010 (mypy forbids method assignment)
    try:
        yield
    finally:
        setattr(Exchange, "_init_ccxt", original)  # noqa: B010


class _ConfigErrorSpotter(logging.Filter):
    """Notices FreqTrade's "Configuration error" log line.

    ``freqtrade.main.main`` exits with status 0 after a ``ConfigurationError`` (it logs the error
    but leaves the return code unset); this lets the caller report a failure instead.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage().startswith(
            "Configuration error"
        ):
            self.seen = True
        return True


def _exit_status(exit_: SystemExit) -> int:
    """Turn FreqTrade's final ``SystemExit`` into a process exit status.

    ``freqtrade.main.main`` calls ``sys.exit(return_code)`` in a ``finally`` block, which replaces
    an earlier ``sys.exit(1)`` raised inside a command (e.g. plotting without plotly) by status 0;
    the earlier exit survives as the exception's ``__context__``.
    """
    code = exit_.code
    earlier = exit_.__context__
    if not code and isinstance(earlier, SystemExit) and earlier.code:
        return _exit_status(earlier)
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_freqtrade_offline(argv: list[str]) -> int:
    """Run ``freqtrade <argv...>`` in this process on static markets, without network.

    Meant for ``backtesting``, ``hyperopt``, ``lookahead-analysis``, ``recursive-analysis``,
    ``plot-dataframe``, ``list-data`` and the like, on candles already on disk. FreqTrade configures
    logging globally, so prefer one call per process.

    :param argv: FreqTrade's arguments without the program name,
        e.g. ``["backtesting", "--config", "config.json"]``.
    :return: the exit status (0 on success, 2 for a configuration or offline-mode error).
    """
    command = argv[0] if argv else ""
    wants_help = bool(_HELP_FLAGS.intersection(argv))
    if not argv or wants_help:
        print(OFFLINE_HELP)
        if not argv:
            return 2
        sys.stdout.flush()
    if command in NETWORK_COMMANDS and not wants_help:
        print(
            f"offline mode cannot run 'freqtrade {command}': it needs the exchange; "
            "run plain freqtrade online",
            file=sys.stderr,
        )
        return 2
    from itb_ext.adapters.offline_checks import preflight_problem

    # Before FreqTrade starts (and before any model is trained): candles and backtest results.
    if problem := preflight_problem(list(argv)):
        print(problem, file=sys.stderr)
        return 2
    from freqtrade.main import main as freqtrade_main

    spotter = _ConfigErrorSpotter()
    # freqtrade.main logs through the "freqtrade" logger; dictConfig keeps logger filters.
    main_logger = logging.getLogger("freqtrade")
    main_logger.addFilter(spotter)
    try:
        with offline_exchange():
            freqtrade_main(list(argv))
        status = 0
    except SystemExit as exc:
        status = _exit_status(exc)
    finally:
        main_logger.removeFilter(spotter)
    if status == 0 and spotter.seen:
        return 2
    return status


def main() -> None:
    """``python -m itb_ext.adapters.offline <freqtrade args...>``."""
    raise SystemExit(run_freqtrade_offline(sys.argv[1:]))


if __name__ == "__main__":
    main()
