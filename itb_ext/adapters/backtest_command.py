"""The command line of an offline FreqTrade backtest run in a child process."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def offline_backtest_argv(
    config: Path,
    userdir: Path,
    datadir: Path,
    timerange: str,
    results: Path,
    log_file: Path,
    *,
    strategy_path: Path | None = None,
    pairs: Sequence[str] = (),
    reuse_cached: bool = True,
) -> list[str]:
    """``freqtrade backtesting`` through :mod:`itb_ext.adapters.offline` (static markets), trades
    exported to ``results``, FreqTrade's log to ``log_file``.

    :param strategy_path: a folder searched for the strategy before ``<userdir>/strategies``
        (a copy without the hyperopt result beside the original, say).
    :param pairs: backtest these pairs instead of the config's whitelist.
    :param reuse_cached: let FreqTrade reuse an identical earlier result found in
        ``<userdir>/backtest_results`` (its ``--cache``); it then exports nothing to ``results``.
    """
    argv = [
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
    if strategy_path is not None:
        argv += ["--strategy-path", str(strategy_path)]
    if pairs:
        argv += ["--pairs", *pairs]
    if not reuse_cached:
        argv += ["--cache", "none"]
    return argv
