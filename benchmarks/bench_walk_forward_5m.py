"""A FreqTrade walk-forward backtest of one pair over one year of 5m candles, config.5m.json.

BTC/USD 5m candles are synthetic (a seeded Brownian bridge through the real Bitfinex 30m
candles), so the trading result says nothing about a real market; the point is the time. FreqAI
trains on 30 days and retrains every ``backtest_period_days`` (so every traded candle is
predicted by a model that never saw it), through ``itb-ext freqtrade`` (offline markets), fee
0.1 % per side. Prints the wall time of the whole FreqTrade process, the trainings, the trades
the CPU seconds of the process and its training workers (on a shared machine the wall time
mostly measures the other work) and the peak memory of the process.

    python benchmarks/bench_walk_forward_5m.py [--timerange 20180901-20190901]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from itb_ext.evaluation.stored import read_backtest_stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import ROOT, candles, machine, peak_memory_mb

USER_DATA = ROOT / "user_data"


def write_inputs(folder: Path, timerange: str) -> tuple[Path, Path, Path]:
    datadir = folder / "bitfinex"
    datadir.mkdir(parents=True)
    candles("5m").to_feather(datadir / "BTC_USD-5m.feather")
    userdir = folder / "user_data"
    for sub in ("models", "backtest_results", "logs", "strategies"):
        (userdir / sub).mkdir(parents=True)
    shutil.copy(USER_DATA / "strategies" / "ITBStrategy.py", userdir / "strategies")
    config = {
        "add_config_files": [str(USER_DATA / "config.5m.json")],
        "exchange": {"name": "bitfinex", "pair_whitelist": ["BTC/USD"], "key": "", "secret": ""},
        "stake_currency": "USD",
        "dry_run_wallet": 10000,
        "fee": 0.001,
        # Bitfinex places no stop orders through FreqTrade; the backtest simulates the stop
        "order_types": {"stoploss_on_exchange": False},
        "dataformat_ohlcv": "feather",
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "telegram": {"enabled": False},
        "freqai": {"identifier": f"bench-5m-{timerange}"},
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config, indent=1))
    return path, datadir, userdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timerange", default="20180901-20190901")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        config, datadir, userdir = write_inputs(Path(tmp), args.timerange)
        log = userdir / "logs" / "backtesting.log"
        argv = [
            sys.executable, "-m", "itb_ext.adapters.offline", "backtesting",
            "--config", str(config), "--userdir", str(userdir), "--datadir", str(datadir),
            "--strategy-path", str(userdir / "strategies"),
            "--freqaimodel-path", str(USER_DATA / "freqaimodels"),
            "--timerange", args.timerange, "--logfile", str(log),
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime  # FreqTrade and its training workers
        text = log.read_text(errors="replace") if log.exists() else ""
        if done.returncode != 0:
            sys.exit(f"backtest failed ({done.returncode}):\n{done.stderr[-3000:]}")
        trainings = len(re.findall(r"Done training BTC/USD", text))
        strategy = read_backtest_stats(userdir / "backtest_results")["strategy"]["ITBStrategy"]
    print(
        f"5m walk-forward {args.timerange}, BTC/USD (synthetic 5m): {seconds:.0f} s wall, "
        f"{cpu:.0f} s CPU, "
        f"{trainings} trainings, {strategy['total_trades']} trades, "
        f"profit {100 * strategy['profit_total']:+.2f} % after 0.1 % fees per side "
        "(walk-forward, synthetic prices: not a market result)"
    )
    print(f"peak memory: {peak_memory_mb(children=True):.0f} MB (the FreqTrade process)")


if __name__ == "__main__":
    main()
