"""Checks that run before an offline FreqTrade command, so it fails at once with one line.

Offline, FreqTrade's own advice for missing candles (run ``download-data``) cannot be followed,
and a FreqAI backtest whose training window starts before the data trains models on a fraction
of the window before it fails. These checks resolve the config as FreqTrade does, read only the
first and last candle of each file, and name what is missing and how to supply it offline.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.data.coverage import CandleFile, Requirement, coverage_problem, train_candles

CHECKED_COMMANDS = {
    "backtesting": "BACKTEST",
    "hyperopt": "HYPEROPT",
    "lookahead-analysis": "UTIL_NO_EXCHANGE",
    "recursive-analysis": "UTIL_NO_EXCHANGE",
    "plot-dataframe": "PLOT",
}
"""Commands checked, with the FreqTrade run mode their config is resolved in."""

_REGEX_CHARACTERS = re.compile(r"[*+?\[\]()|^$\\]")


def _resolve_config(argv: list[str]) -> dict[str, Any] | None:
    """FreqTrade's resolved config for ``argv``; None when FreqTrade would reject it anyway."""
    from freqtrade.commands import Arguments
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    runmode = RunMode[CHECKED_COMMANDS[argv[0]]]
    logging.disable(logging.CRITICAL)  # FreqTrade logs all this again when it runs
    try:
        args = Arguments(argv).get_parsed_arg()
        config: dict[str, Any] = Configuration(args, runmode).get_config()
    except (Exception, SystemExit):
        return None  # FreqTrade reports its own config errors with its own message
    finally:
        logging.disable(logging.NOTSET)
    return config


def _strategy_startup(config: dict[str, Any]) -> int:
    """Startup candles of ITBStrategy from the ``itb`` section, else the config's value."""
    from itb_ext.errors import ITBError
    from itb_ext.strategy.setup import ITBSetup

    declared = int(config.get("startup_candle_count") or 0)
    if "itb" not in config:
        return declared
    try:
        return max(declared, ITBSetup.from_freqtrade_config(config).startup_candles())
    except ITBError:
        return declared  # the strategy stops with its own one-line message


def backtest_result_problem(command: str, config: dict[str, Any]) -> str | None:
    """plot-dataframe reads the last backtest's trades unless ``--no-trades`` is given."""
    if command != "plot-dataframe" or config.get("no_trades"):
        return None
    if config.get("trade_source", "file") != "file":
        return None
    target = config.get("exportfilename") or config.get("exportdirectory")
    if target is None:
        return None
    folder = Path(target)
    if not folder.is_dir() or (folder / ".last_result.json").is_file():
        return None
    return (
        f"offline mode: no backtest result in {folder} yet, so plot-dataframe has no trades to "
        "draw; run 'itb-ext freqtrade backtesting' with the same config first, or add "
        "--no-trades to chart the candles and the strategy's columns only"
    )


def candle_problem(config: dict[str, Any]) -> str | None:
    """The first pair/timeframe whose candles on disk do not cover the run, as one line."""
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType
    from freqtrade.exchange import timeframe_to_minutes

    timeframe = config.get("timeframe")
    if not timeframe:
        return None
    minutes = timeframe_to_minutes(timeframe)
    pairs = list(config.get("pairs") or config.get("exchange", {}).get("pair_whitelist", []))
    timeframes = [timeframe]
    startup = _strategy_startup(config)
    training = 0
    freqai = config.get("freqai", {})
    if freqai.get("enabled", False):
        features = freqai.get("feature_parameters", {})
        startup = max([startup, *features.get("indicator_periods_candles", [])])
        training = train_candles(float(freqai.get("train_period_days", 0)), minutes)
        timeframes += [tf for tf in features.get("include_timeframes", []) if tf != timeframe]
        pairs += [p for p in features.get("include_corr_pairlist", []) if p not in pairs]
    text = config.get("timerange") or ""
    start = None
    if text:
        timerange = TimeRange.parse_timerange(text)
        if timerange.startts:
            start = pd.Timestamp(timerange.startts, unit="s", tz="UTC")
    need = Requirement(
        start=start,
        startup_candles=startup,
        train_candles=training,
        timeframe_minutes=minutes,
        timerange=text,
    )
    datadir = Path(config["datadir"])
    handler = get_datahandler(datadir, config.get("dataformat_ohlcv"))
    candle_type = CandleType.get_default(config.get("trading_mode", "spot"))
    for pair in pairs:
        if _REGEX_CHARACTERS.search(pair):
            continue  # a pairlist pattern, expanded by FreqTrade from the markets
        for tf in timeframes:
            first, last, count = handler.ohlcv_data_min_max(pair, tf, candle_type)
            found = CandleFile(
                pair=pair,
                timeframe=tf,
                path=handler._pair_data_filename(datadir, pair, tf, candle_type),
                first=pd.Timestamp(first) if count else None,
                last=pd.Timestamp(last) if count else None,
            )
            if problem := coverage_problem(found, need, datadir):
                return problem
    return None


def preflight_problem(argv: list[str]) -> str | None:
    """What stops ``freqtrade <argv>`` offline before it starts, as one line (None: nothing)."""
    if not argv or argv[0] not in CHECKED_COMMANDS or {"-h", "--help"} & set(argv):
        return None
    config = _resolve_config(argv)
    if config is None:
        return None
    return backtest_result_problem(argv[0], config) or candle_problem(config)
