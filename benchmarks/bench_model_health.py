"""Time the model-health columns (rolling AUC, hit rate, drift, pause) that ITBStrategy adds in
``populate_indicators`` when ``itb.risk.model_health`` is on.

Data: the embedded Bitfinex BTC/USD 1h candles, the sample's ``highlow2`` labels (3 % within 24
candles), and 6 synthetic probability columns (the label plus noise: the figures' values do not
matter here, only the work). Sizes: one live dataframe (1000 candles, what FreqTrade analyses
per new candle) and a backtest year (8760 candles), window 336, min_samples 48.

Run: ``.venv/bin/python benchmarks/bench_model_health.py``
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from itb_ext.config.risk_controls import ModelHealthConfig
from itb_ext.strategy.model_health import candle_health
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[1]
CANDLES = ROOT / "user_data/data/bitfinex/BTC_USD-1h.feather"
REPEATS = 3


def main() -> None:
    section = json.loads((ROOT / "user_data/itb-sample-1h.json").read_text())["itb"]
    setup = ITBSetup.from_freqtrade_config({"itb": section})
    cfg = ModelHealthConfig(enabled=True)
    candles = pd.read_feather(CANDLES)
    rng = np.random.default_rng(0)
    labels = setup.label_frame(candles)
    for column in setup.score_columns:
        label = labels[column.rsplit("_", 1)[0]].astype("float64").fillna(0.5)
        candles[column] = np.clip(label * 0.3 + rng.random(len(candles)) * 0.7, 0, 1)
        candles[column + "_mean"] = 0.4
    candles["do_predict"] = 1
    print(f"models: {len(setup.score_columns)}, window {cfg.window}, min_samples {cfg.min_samples}")
    for rows in (1000, 8760):
        frame = candles.iloc[:rows].reset_index(drop=True)
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            candle_health(setup, frame, cfg)
            times.append(time.perf_counter() - started)
        print(f"{rows:5d} candles: median {statistics.median(times):.3f} s of {REPEATS} runs")


if __name__ == "__main__":
    main()
