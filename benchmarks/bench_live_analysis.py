"""Per-candle analysis time of a live bot with 20 pairs, 5m candles, config.5m's pipeline.

On every new candle the strategy builds the ITB features over the dataframe FreqTrade holds
(``--rows`` candles), the trained models score the newest candle, and the signal stage turns
the scores into ``trade_score`` and entry/exit levels. This times that path (itb_ext's part;
FreqAI's own bookkeeping and the exchange round trip are not included) for 20 pairs one after
another, as FreqTrade analyses them, with models trained once beforehand. The 20 series are
synthetic 5m candles drawn through the real BTC/USD 30m candles with different seeds.

    python benchmarks/bench_live_analysis.py [--pairs 20] [--rows 1000] [--candles 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import DATA, machine, peak_memory_mb, setup

from itb_ext.algorithms import train_score_models
from itb_ext.data.synthetic import brownian_bridge_bars

END = pd.Timestamp("2019-09-01", tz="UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--candles", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    itb = setup("5m")
    overrides = itb.default_overrides()
    thirty = pd.read_feather(DATA / "BTC_USD-30m.feather")
    thirty = thirty[thirty["date"] < END].iloc[-(60 * 48) :]
    # a different random path through the same 30m candles per pair
    series = [
        brownian_bridge_bars(thirty, 6, seed=100 + i).reset_index(drop=True)
        for i in range(args.pairs)
    ]
    # one training (30 days, the config's window) serves every pair: training is not timed here
    window = series[0].iloc[: -args.rows - args.candles]
    models = train_score_models(
        itb.feature_frame(window).iloc[-8640:],
        itb.label_frame(window).iloc[-8640:],
        itb.algorithms,
        seed=itb.seed,
        compute=itb.raw.compute,
    )
    per_pair: list[float] = []
    per_candle: list[float] = []
    for step in range(args.candles):
        start_all = time.perf_counter()
        for bars in series:
            end = len(bars) - args.candles + step + 1
            frame = bars.iloc[end - args.rows : end]
            start = time.perf_counter()
            features = itb.feature_frame(frame)
            newest = models.predict(features.iloc[-1:])
            scores = pd.DataFrame(index=frame.index, columns=newest.columns, dtype="float64")
            scores.iloc[-1] = newest.iloc[0]
            itb.signal_frame(scores, overrides)
            per_pair.append(time.perf_counter() - start)
        per_candle.append(time.perf_counter() - start_all)
    print(
        f"{args.pairs} pairs x {args.candles} candles, {args.rows} rows each: per pair median "
        f"{1000 * statistics.median(per_pair):.0f} ms (max {1000 * max(per_pair):.0f} ms), "
        f"all pairs per candle median {statistics.median(per_candle):.2f} s"
    )
    print(f"peak memory: {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
