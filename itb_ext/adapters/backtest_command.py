"""The command line of an offline FreqTrade backtest run in a child process."""

from __future__ import annotations

import sys
from pathlib import Path


def offline_backtest_argv(
    config: Path, userdir: Path, datadir: Path, timerange: str, results: Path, log_file: Path
) -> list[str]:
    """``freqtrade backtesting`` through :mod:`itb_ext.adapters.offline` (static markets), trades
    exported to ``results``, FreqTrade's log to ``log_file``."""
    return [
        sys.executable,
        "-m",
        "itb_ext.adapters.offline",
        "backtesting",
        "--config",
        str(config),
        "--userdir",
        str(userdir),
        "--datadir",
        str(datadir),
        "--timerange",
        timerange,
        "--export",
        "trades",
        "--backtest-directory",
        str(results),
        "--logfile",
        str(log_file),
    ]
