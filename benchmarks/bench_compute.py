"""Speed of itb_ext's generators and of the whole ``itb-ext compute`` process.

Prints seconds and rows per second for each generator family of the ITB reference config, the
whole fixture config in one process, and a side-by-side ratio against ITB's own method for the
rolling statistics (``rolling(w).apply(scipy function)``, re-run here in the same process).

    python benchmarks/bench_compute.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats

from itb_ext.pipeline.steps import parse_section, run_steps

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "itbref" / "bitfinex_btcusd_1h_2018"
CANDLES = ROOT / "user_data" / "data" / "bitfinex" / "BTC_USD-1h.feather"
# ITB's own timings of the same config on 2 cores (fixtures' README, section 8): features + labels.
ITB_PUBLISHED_SECONDS = {"one year": 28.5 + 14.5}


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def datasets() -> dict[str, pd.DataFrame]:
    one_year = pd.read_parquet(FIXTURE / "input.parquet")
    full = pd.read_feather(CANDLES)
    two_years = full.iloc[-17520:].reset_index(drop=True).rename(columns={"date": "timestamp"})
    return {"one year": one_year, "two years": two_years}


def family_steps(config: dict) -> dict[str, tuple]:
    features = parse_section(config["feature_sets"], "feature_sets", config)
    labels = parse_section(config["label_sets"], "label_sets", config)
    by_family: dict[str, list] = {}
    for step in (*features, *labels):
        by_family.setdefault(step.generator, []).append(step)
    return {name: tuple(steps) for name, steps in by_family.items()}


def itb_method_itbstats(close: np.ndarray) -> None:
    """ITB's way: pandas rolling apply with a Python/scipy callback per window (2 functions)."""
    series = pd.Series(close)
    for w in (12, 24):
        roll = series.rolling(w, min_periods=max(1, w // 2))
        roll.apply(lambda x: scipy.stats.skew(x, 0, False), raw=True)
        roll.apply(lambda x: scipy.stats.linregress(np.arange(len(x)), x).slope, raw=True)


def whole_process(config: dict, data: pd.DataFrame, repeat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps({k: config[k] for k in ("feature_sets", "label_sets")}))
        inp = Path(tmp) / "input.parquet"
        data.to_parquet(inp, index=False)
        argv = [
            sys.executable,
            "-m",
            "itb_ext.cli",
            "compute",
            "--config",
            str(cfg),
            "--data",
            str(inp),
            "--out",
            str(Path(tmp) / "out.parquet"),
            "--quiet",
        ]
        return median_time(lambda: subprocess.run(argv, check=True), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    config = json.loads((FIXTURE / "config.json").read_text())
    families = family_steps(config)

    print(f"{'data':<10} {'generator family':<18} {'columns':>7} {'seconds':>9} {'rows/s':>12}")
    for name, data in datasets().items():
        rows = len(data)
        features = run_steps(data, parse_section(config["feature_sets"], "feature_sets", config))
        for family, steps in families.items():
            frame = features if family in ("highlow", "highlow2", "topbot2") else data
            secs = median_time(lambda f=frame, s=steps: run_steps(f, s), args.repeat)
            ncols = sum(len(s.output_columns() or ()) for s in steps)
            print(f"{name:<10} {family:<18} {ncols:>7} {secs:>9.4f} {rows / secs:>12,.0f}")
        secs = whole_process(config, data, max(3, args.repeat // 2))
        line = f"{name:<10} {'compute process':<18} {'':>7} {secs:>9.3f} {rows / secs:>12,.0f}"
        if name in ITB_PUBLISHED_SECONDS:
            itb = ITB_PUBLISHED_SECONDS[name]
            line += f"   (ITB published: {itb:.1f} s -> {itb / secs:.0f}x; not run here)"
        print(line)

    close = datasets()["one year"]["close"].to_numpy()
    itb_way = median_time(lambda: itb_method_itbstats(close), 1)
    steps = parse_section(
        [
            {
                "generator": "itbstats",
                "config": {
                    "columns": "close",
                    "windows": [12, 24],
                    "functions": ["scipy_skew", "slope"],
                },
            }
        ],
        "feature_sets",
    )
    frame = datasets()["one year"]
    ours = median_time(lambda: run_steps(frame, steps), args.repeat)
    print(
        f"\nside by side, one year, itbstats scipy_skew+slope (4 columns): ITB's rolling.apply "
        f"{itb_way:.3f} s, itb_ext {ours:.4f} s -> {itb_way / ours:.0f}x"
    )


if __name__ == "__main__":
    main()
