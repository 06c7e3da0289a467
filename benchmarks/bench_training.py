"""Training time of one walk-forward window against its rows, for 1h, 5m and 1m candles.

Each timeframe uses its shipped pipeline (``user_data/itb-sample-<tf>.json``: 1h with the exact
RBF SVC, 5m/1m with ``svc_fast`` and ``every_nth_row``); 1h candles are real Bitfinex BTC/USD,
5m/1m are synthetic (a seeded Brownian bridge through the real 30m candles). A window is the
last ``days`` of features and labels before 2019-09-01; times are the whole
``train_score_models`` call (every label and algorithm), serially and with ``itb.compute``'s
workers. Features and labels are built once per timeframe and not timed here.

    python benchmarks/bench_training.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import MINUTES, candles, machine, peak_memory_mb, setup

from itb_ext.algorithms import train_score_models, training_rows
from itb_ext.config.compute import ComputeConfig

END = pd.Timestamp("2019-09-01", tz="UTC")
WINDOW_DAYS = {"1h": (90, 180, 365), "5m": (7, 14, 30), "1m": (3, 7, 14)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the largest window of 5m/1m only")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        f"{'tf':>3} {'days':>5} {'rows':>7} {'fitted rows':>11} {'serial s':>9} {'2 workers s':>11}"
    )
    for tf, windows in WINDOW_DAYS.items():
        if args.quick and tf == "1h":
            continue
        itb = setup(tf)
        bars = candles(tf)
        bars = bars[bars["date"] < END].iloc[-(max(windows) + 3) * 1440 // MINUTES[tf] :]
        features, labels = itb.feature_frame(bars), itb.label_frame(bars)
        # start the worker pool before timing (a live bot starts it once)
        workers = ComputeConfig(n_jobs=2)
        train_score_models(
            features.iloc[-500:], labels.iloc[-500:], itb.algorithms[1:2], compute=workers
        )
        for days in windows[-1:] if args.quick else windows:
            rows = days * 1440 // MINUTES[tf]
            X, y = features.iloc[-rows:], labels.iloc[-rows:]
            fitted = max(len(training_rows(rows, a.params)) for a in itb.algorithms)
            timings = []
            for compute in (ComputeConfig(), workers):
                start = time.perf_counter()
                train_score_models(X, y, itb.algorithms, seed=itb.seed, compute=compute)
                timings.append(time.perf_counter() - start)
            print(
                f"{tf:>3} {days:>5} {rows:>7} {fitted:>11} {timings[0]:>9.1f} {timings[1]:>11.1f}"
            )
    print(f"peak memory: {peak_memory_mb():.0f} MB (this process; workers not counted)")


if __name__ == "__main__":
    main()
