"""Time the vectorised 100x100 threshold grid search against a per-pair loop.

Data: the embedded Bitfinex BTC/USD 1h candles (about 2 years), first 8760 rows (1 year) and all
rows (2 years). Score: the fixtures' deterministic stand-in (README section 4),
``lin_up = 1 / (1 + exp(-z))`` with ``z = clip(24 * LINEARREG_SLOPE_24 / STDDEV_24, -30, 30)``
(0 where STDDEV <= 0) and ``score = lin_up - lin_down = 2 * lin_up - 1``.

Run: ``.venv/bin/python benchmarks/bench_grid_search.py``
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import talib

from itb_ext.config.base import validate
from itb_ext.config.simulate import SimulateModelConfig
from itb_ext.simulate import grid_search, parameter_grid, simulate

CANDLES = Path(__file__).resolve().parents[1] / "user_data/data/bitfinex/BTC_USD-1h.feather"
NAIVE_POINTS = 200
REPEATS = 3


def stand_in_score(close: np.ndarray) -> np.ndarray:
    slope = talib.LINEARREG_SLOPE(close, timeperiod=24)
    std = talib.STDDEV(close, timeperiod=24)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, np.clip(24 * slope / std, -30, 30), 0.0)
    z[np.isnan(slope) | np.isnan(std)] = np.nan
    lin_up = 1 / (1 + np.exp(-z))
    return lin_up - (1 - lin_up)


def main() -> None:
    candles = pd.read_feather(CANDLES)
    cfg = validate(
        SimulateModelConfig,
        {
            "grid": {
                "buy_signal_threshold": "np.linspace(0.0, 0.2, 100)",
                "sell_signal_threshold": "np.linspace(0.0, -0.2, 100)",
            },
            "direction": "long",
            "fee": 0.001,
        },
        "simulate_model",
    )
    grid = parameter_grid(cfg, "threshold_rule")
    n_points = grid["buy_signal_threshold"].size
    print(f"grid: {n_points} points, fee {cfg.fee}, fill {cfg.fill}, direction {cfg.direction}")
    for label, rows in (("1 year", 8760), ("2 years", len(candles))):
        df = candles.iloc[:rows].reset_index(drop=True)
        df = df.assign(score=stand_in_score(df["close"].to_numpy(dtype="float64")))
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            table = grid_search(df, ["score"], "threshold_rule", cfg, time_column="date")
            times.append(time.perf_counter() - start)
        grid_s = statistics.median(times)

        score = df["score"].to_numpy()
        close = df["close"].to_numpy(dtype="float64")
        picks = np.linspace(0, n_points - 1, NAIVE_POINTS).astype(int)
        start = time.perf_counter()
        with np.errstate(invalid="ignore"):
            for i in picks:
                simulate(
                    score >= grid["buy_signal_threshold"][i],
                    score <= grid["sell_signal_threshold"][i],
                    close,
                    timestamps=df["date"],
                    fee=cfg.fee,
                )
        naive_per_point = (time.perf_counter() - start) / NAIVE_POINTS
        best = table.iloc[0]
        print(
            f"{label} ({rows} bars): grid {grid_s:.3f} s (median of {REPEATS}), "
            f"{n_points / grid_s:,.0f} points/s; "
            f"per-pair loop {naive_per_point * 1e3:.2f} ms/point "
            f"-> {naive_per_point * n_points:.1f} s extrapolated, "
            f"ratio {naive_per_point * n_points / grid_s:.0f}x; best B={best.iloc[0]:.4f} "
            f"S={best.iloc[1]:.4f} %profit/M={best['%profit/M']:.2f} "
            f"#transactions={int(best['#transactions'])}"
        )


if __name__ == "__main__":
    main()
