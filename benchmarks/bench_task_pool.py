"""Walk-forward training as one pool of tasks: task counts, CPU, critical path and wall times.

Scenarios (``--scenario``, repeatable; default ``demo`` and ``5m-year``):

- ``demo``: user_data/config.demo.json (1h, BTC/USD, ETH/USD, LTC/USD, train 180 days, predict
  the next 30), real Bitfinex candles, over 2019-01..2019-07.
- ``5m-windows``: ITB's 5m sample (config.5m.json) on BTC/USD and ETH/USD over the six 30-day
  windows of 2019-01..2019-06 (train 30 days, predict the next 30), side by side with FreqAI's
  own ``FreqaiExampleStrategy`` (long only, LightGBMRegressor, FreqAI's example settings on
  5m/15m/1h) on the same pairs and windows. The runs alternate (ITB, example, ITB, example, ...)
  so that both meet the same load.
- ``5m-year``: one pair (BTC/USD), one year of 5m (2018-09..2019-09, train 30 days, retrain
  every 7).

5m candles are synthetic (a seeded Brownian bridge through the real Bitfinex 30m candles), so the
trading results say nothing about a market; the point is the time. Every backtest starts from an
empty model folder (nothing stored is reused). For each ITB run the pool's manifest gives the
task count, the task seconds and so the expected wall time on N workers,
``max(critical path, total / N)``; the critical path of independent fits is the longest fit.

The machine has 2 cores, shared with other work: every wall time is an upper bound, and only
ratios taken side by side in one run (A then B, repeated) compare two setups.

    python benchmarks/bench_task_pool.py [--scenario 5m-windows] [--repeat 2] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.data.synthetic import brownian_bridge_bars

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import ROOT, machine

USER_DATA = ROOT / "user_data"
REAL = USER_DATA / "data" / "bitfinex"
SHARED = ROOT.parent / "shared" / "data" / "bitfinex"
#: the FreqAI example's timeframes on 5m candles (FreqAI's example config uses 3m, 15m and 1h)
EXAMPLE_TIMEFRAMES = ("5m", "15m", "1h")


@dataclass(frozen=True)
class Scenario:
    """One backtest setup: the config it extends, pairs, timerange and FreqAI windows."""

    name: str
    config: Path
    pairs: tuple[str, ...]
    timerange: str
    train_days: int
    backtest_days: int
    synthetic_5m: bool
    example: bool = False


SCENARIOS = {
    "demo": Scenario(
        "demo (1h, 3 pairs)",
        USER_DATA / "config.demo.json",
        ("BTC/USD", "ETH/USD", "LTC/USD"),
        "20190101-20190701",
        180,
        30,
        synthetic_5m=False,
    ),
    "5m-windows": Scenario(
        "5m, six 30-day windows, 2 pairs",
        USER_DATA / "config.5m.json",
        ("BTC/USD", "ETH/USD"),
        "20190101-20190630",
        30,
        30,
        synthetic_5m=True,
        example=True,
    ),
    "5m-year": Scenario(
        "5m, one year, 1 pair",
        USER_DATA / "config.5m.json",
        ("BTC/USD",),
        "20180901-20190901",
        30,
        7,
        synthetic_5m=True,
    ),
}


def thirty_minute_candles(pair: str) -> pd.DataFrame:
    name = pair.replace("/", "_") + "-30m.feather"
    for folder in (REAL, SHARED):
        if (folder / name).exists():
            return pd.read_feather(folder / name)
    sys.exit(f"no 30m candles for {pair} in {REAL} or {SHARED}")


def write_candles(datadir: Path, scenario: Scenario) -> None:
    datadir.mkdir(parents=True, exist_ok=True)
    for pair in scenario.pairs:
        stem = pair.replace("/", "_")
        if not scenario.synthetic_5m:
            for source in REAL.glob(f"{stem}-*.feather"):
                shutil.copy(source, datadir / source.name)
            continue
        bars = brownian_bridge_bars(thirty_minute_candles(pair), 6, seed=1)
        bars.to_feather(datadir / f"{stem}-5m.feather")
        for timeframe in EXAMPLE_TIMEFRAMES[1:] if scenario.example else ():
            resampled = (
                bars.set_index("date")
                .resample(timeframe.replace("m", "min"), label="left", closed="left")
                .agg(
                    {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
                )
                .dropna()
                .reset_index()
            )
            resampled.to_feather(datadir / f"{stem}-{timeframe}.feather")


def userdir_in(folder: Path) -> Path:
    userdir = folder / "user_data"
    for sub in ("models", "backtest_results", "logs", "strategies"):
        (userdir / sub).mkdir(parents=True, exist_ok=True)
    for source in (USER_DATA / "strategies").glob("*.py"):
        shutil.copy(source, userdir / "strategies")
    return userdir


def itb_config(scenario: Scenario, n_jobs: int) -> dict[str, Any]:
    itb_file = json.loads((USER_DATA / "itb-sample-5m.json").read_text())["itb"]
    config: dict[str, Any] = {
        "add_config_files": [str(scenario.config)],
        "exchange": {
            "name": "bitfinex",
            "pair_whitelist": list(scenario.pairs),
            "key": "",
            "secret": "",
        },
        "max_open_trades": len(scenario.pairs),
        "stake_currency": "USD",
        "dry_run_wallet": 10000,
        "fee": 0.001,
        # Bitfinex places no stop orders through FreqTrade; the backtest simulates the stop
        "order_types": {
            "entry": "limit",
            "exit": "limit",
            "stoploss": "limit",
            "stoploss_on_exchange": False,
        },
        "dataformat_ohlcv": "feather",
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "telegram": {"enabled": False},
        "freqai": {
            "identifier": "bench-pool",
            "train_period_days": scenario.train_days,
            "backtest_period_days": scenario.backtest_days,
        },
    }
    if scenario.synthetic_5m:  # the 5m sample's itb section with this run's worker count
        config["itb"] = {**itb_file, "compute": {"n_jobs": n_jobs}}
    else:
        config["itb"] = {"compute": {"n_jobs": n_jobs}}
    return config


def example_config(scenario: Scenario) -> dict[str, Any]:
    config = itb_config(scenario, 1)
    del config["itb"]
    config.update(
        add_config_files=[str(USER_DATA / "config.freqai-example.json")],
        timeframe="5m",
        strategy="FreqaiExampleSpot",
        freqaimodel="LightGBMRegressor",
    )
    config["freqai"].update(
        identifier="bench-example",
        feature_parameters={"include_timeframes": list(EXAMPLE_TIMEFRAMES)},
    )
    return config


@dataclass(frozen=True)
class Timing:
    """A backtest's wall and CPU seconds; ``indicators``: the wall seconds of FreqTrade's
    indicator stage (FreqAI's training and predictions), from its log."""

    wall: float
    cpu: float
    indicators: float
    manifests: list[dict[str, Any]]


def log_seconds(log: str, first: str, then: str) -> float:
    """Seconds between the first log line holding ``first`` and the next holding ``then``."""
    stamps = {}
    for line in log.splitlines():
        for marker in (first, then):
            if marker in line and marker not in stamps and (marker == first or first in stamps):
                stamps[marker] = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    if len(stamps) < 2:
        return float("nan")
    return (stamps[then] - stamps[first]).total_seconds()


def backtest(folder: Path, datadir: Path, config: dict[str, Any], scenario: Scenario) -> Timing:
    """One FreqTrade backtest in a child process, from an empty model folder."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    userdir = userdir_in(folder)
    path = folder / "config.json"
    path.write_text(json.dumps(config, indent=1))
    log = userdir / "logs" / "backtesting.log"
    argv = [
        sys.executable, "-m", "itb_ext.adapters.offline", "backtesting",
        "--config", str(path), "--userdir", str(userdir), "--datadir", str(datadir),
        "--strategy-path", str(userdir / "strategies"),
        "--freqaimodel-path", str(USER_DATA / "freqaimodels"),
        "--timerange", scenario.timerange, "--logfile", str(log),
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else done.stderr
        sys.exit(f"backtest failed ({done.returncode}):\n{text[-3000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    text = log.read_text(errors="replace")
    indicators = log_seconds(text, "Running backtesting for Strategy", "Backtesting with data from")
    manifests = [
        json.loads(p.read_text()) for p in sorted(userdir.glob("models/*/*/itb_pool_*.json"))
    ]
    return Timing(wall, cpu, indicators, manifests)


def pool_fits(manifests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every fit the pool ran, over every pair (models found fitted are left out)."""
    return [
        fit
        for manifest in manifests
        for window in manifest["windows"]
        for fit in window["fits"]
        if fit["fitted"]
    ]


def expected_wall(seconds: Sequence[float], workers: int) -> float:
    """The pool's wall time on ``workers`` workers: never below its longest task."""
    return max(max(seconds, default=0.0), sum(seconds) / workers)


def describe_pool(manifests: Sequence[dict[str, Any]]) -> str:
    fits = pool_fits(manifests)
    cpu = [fit["cpu_seconds"] for fit in fits]
    wall = [fit["seconds"] for fit in fits]
    windows = sum(len(m["windows"]) for m in manifests)
    return "\n".join(
        [
            f"  {len(fits)} fit tasks in {windows} windows: {sum(cpu):.1f} CPU s "
            f"({sum(wall):.1f} s wall on the workers); critical path {max(cpu, default=0):.2f} "
            "CPU s (the longest fit: the fits of a pair depend on nothing but their rows)",
            "  expected wall of the fits on N workers, max(critical path, total / N), CPU s: "
            + ", ".join(f"N={n}: {expected_wall(cpu, n):.1f}" for n in (1, 2, 4, 8, 16, 64)),
        ]
    )


def describe(timing: Timing) -> str:
    return (
        f"{timing.wall:.1f} s wall, {timing.cpu:.1f} s CPU; FreqAI (indicator stage) "
        f"{timing.indicators:.1f} s wall, the rest (start, trade simulation, report) "
        f"{timing.wall - timing.indicators:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--repeat", type=int, default=1, help="side-by-side rounds")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--loop", action="store_true", help="also FreqAI's own loop (itb.compute.pool false)"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}; every wall time below is an upper bound (shared cores)")
    for key in args.scenario or ["demo", "5m-year"]:
        scenario = SCENARIOS[key]
        print(
            f"\n{scenario.name}: {', '.join(scenario.pairs)} {scenario.timerange}, "
            f"train {scenario.train_days} d, predict {scenario.backtest_days} d"
        )
        with tempfile.TemporaryDirectory() as tmp:
            datadir = Path(tmp) / "data"
            write_candles(datadir, scenario)
            walls: dict[str, list[float]] = {}
            for round_ in range(args.repeat):
                runs = [(w, True) for w in args.workers] + [(1, False)] * args.loop
                for workers, pooled in runs:
                    name = f"ITB, {workers} worker{'s' if workers > 1 else ''}"
                    config = itb_config(scenario, workers)
                    if not pooled:
                        name = "ITB, FreqAI's loop"
                        config["itb"]["compute"]["pool"] = False
                    timing = backtest(Path(tmp) / "itb", datadir, config, scenario)
                    walls.setdefault(name, []).append(timing.wall)
                    print(f" round {round_ + 1} {name}: {describe(timing)}")
                    if round_ == 0 and pooled and workers == args.workers[0]:
                        print(describe_pool(timing.manifests))
                if scenario.example:
                    timing = backtest(Path(tmp) / "ex", datadir, example_config(scenario), scenario)
                    walls.setdefault("FreqaiExampleStrategy", []).append(timing.wall)
                    print(f" round {round_ + 1} FreqaiExampleStrategy: {describe(timing)}")
            if "FreqaiExampleStrategy" in walls:
                example = walls["FreqaiExampleStrategy"]
                for name, times in walls.items():
                    if name != "FreqaiExampleStrategy":
                        ratios = [a / b for a, b in zip(times, example, strict=True)]
                        print(
                            f" {name} / example, per round: "
                            + ", ".join(f"{r:.2f}x" for r in ratios)
                        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
