"""Walk-forward study behind ``user_data/itb-stationary-1h.json``: which stationary features and
windows give the high/low models out-of-sample skill.

Every variant is trained on 180 days and predicts the next 30, rolling (as FreqAI's backtesting
with the demo config), on the embedded Bitfinex 1h candles of BTC/USD, ETH/USD and LTC/USD. The
AUC is over candles each model never trained on. Choose on the selection period (default
2018-04-01..2018-10-01, before the demo year), then report the chosen preset on the demo year:

    python benchmarks/study_stationary.py                       # variants, selection period
    python benchmarks/study_stationary.py --period 20181001-20191001 --variants preset sample \
        --algorithms svc lc gb                                  # the demo year, all algorithms
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.evaluation.walk_forward_study import (
    WalkForward,
    auc_table,
    walk_forward_predictions,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "user_data" / "data" / "bitfinex"
PRESET = ROOT / "user_data" / "itb-stationary-1h.json"
SAMPLE = ROOT / "user_data" / "itb-sample-1h.json"
PAIRS = ("BTC/USD", "ETH/USD", "LTC/USD")


def _entry(generator: str, **config: Any) -> dict[str, Any]:
    return {"generator": generator, "config": config}


RETURNS = _entry("log_return", windows=[1, 3, 6, 12, 24, 48, 96, 168])
MA_VOL = _entry("ma_distance", windows=[12, 24, 72, 168], unit="volatility")
MA_PCT = _entry("ma_distance", windows=[12, 24, 72, 168], unit="percent")
NATR = _entry("atr", windows=[24, 168])
RVOL = _entry("realized_volatility", windows=[6, 24, 72, 168], ratios=[[6, 72], [24, 168]])
RANGE = _entry("range_position", windows=[24, 72, 168])
VOLUME = _entry("volume_zscore", windows=[24, 168])
TIME = _entry("cyclic_time", periods=["hour_of_day", "day_of_week"])
LONG_RVOL = _entry(
    "realized_volatility",
    windows=[6, 24, 72, 168, 336, 720],
    ratios=[[6, 72], [24, 168], [168, 720]],
)
LONG_NATR = _entry("atr", windows=[24, 168, 720])
LONG_RANGE = _entry("range_position", windows=[24, 72, 168, 720])
SHORT_RETURNS = _entry("log_return", windows=[1, 3, 6, 12, 24])
SHORT_NATR = _entry("atr", windows=[1, 3, 6, 24, 168])
SHORT_RVOL = _entry(
    "realized_volatility", windows=[3, 6, 12, 24, 72, 168], ratios=[[3, 24], [6, 72], [24, 168]]
)
SHORT_VOLUME = _entry("volume_zscore", windows=[6, 24, 168])

#: name -> feature_sets (None: the file's own)
VARIANTS: dict[str, list[dict[str, Any]] | None] = {
    "sample": None,
    "preset": None,
    "returns": [RETURNS],
    "volatility": [NATR, RVOL],
    "returns+volatility": [RETURNS, NATR, RVOL],
    "all": [RETURNS, MA_VOL, NATR, RVOL, RANGE, VOLUME, TIME],
    "all-time": [RETURNS, MA_VOL, NATR, RVOL, RANGE, VOLUME],
    "all-volume": [RETURNS, MA_VOL, NATR, RVOL, RANGE, TIME],
    "all-range": [RETURNS, MA_VOL, NATR, RVOL, VOLUME, TIME],
    "all,ma%": [RETURNS, MA_PCT, NATR, RVOL, RANGE, VOLUME, TIME],
    "all,long": [RETURNS, MA_VOL, LONG_NATR, LONG_RVOL, LONG_RANGE, VOLUME, TIME],
    "all,short-returns": [SHORT_RETURNS, MA_VOL, NATR, RVOL, RANGE, VOLUME, TIME],
    "short-volatility": [SHORT_NATR, SHORT_RVOL],
    "short-volatility+time": [SHORT_NATR, SHORT_RVOL, TIME],
    "all,short-volatility": [RETURNS, MA_VOL, SHORT_NATR, SHORT_RVOL, RANGE, SHORT_VOLUME, TIME],
}


def _section(variant: str, algorithms: list[str]) -> dict[str, Any]:
    source = SAMPLE if variant == "sample" else PRESET
    itb: dict[str, Any] = copy.deepcopy(json.loads(source.read_text())["itb"])
    features = VARIANTS[variant]
    if features is not None:
        itb["feature_sets"] = features
    itb["algorithms"] = [a for a in itb["algorithms"] if a["name"] in algorithms]
    names = [a["name"] for a in itb["algorithms"]]
    for entry in itb["signal_sets"]:  # keep the signal stage consistent with the algorithms
        if entry["generator"] == "smoothen":
            label = entry["config"]["names"]
            entry["config"]["columns"] = [f"{label}_{n}" for n in names]
    itb.pop("score_notification_model", None)
    return {"itb": itb}


def run_variant(
    variant: str, algorithms: list[str], schedule: WalkForward, pairs: tuple[str, ...]
) -> pd.DataFrame:
    setup = ITBSetup.from_freqtrade_config(_section(variant, algorithms))
    tables = []
    for pair in pairs:
        candles = pd.read_feather(DATA / f"{pair.replace('/', '_')}-1h.feather")
        predictions = walk_forward_predictions(setup, candles, schedule)
        tables.append(auc_table(predictions, setup.labels, setup.score_columns, pair))
    return pd.concat(tables, ignore_index=True).assign(variant=variant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="20180401-20181001", help="predicted period")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--algorithms", nargs="+", default=["lc", "gb"])
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS))
    args = parser.parse_args()
    start, stop = (pd.Timestamp(p, tz="UTC") for p in args.period.split("-"))
    schedule = WalkForward(start, stop, train_days=180, step_days=30)
    print(f"walk-forward: train 180 days, predict 30, {args.period}, {', '.join(args.pairs)}")
    print("AUC over candles each model never trained on (out of sample)\n", flush=True)
    summary = []
    for variant in args.variants:
        began = time.perf_counter()
        table = run_variant(variant, args.algorithms, schedule, tuple(args.pairs))
        wide = table.pivot(index="model", columns="pair", values="auc")
        print(f"== {variant} ({time.perf_counter() - began:.0f} s)")
        print(wide.to_string(float_format=lambda v: f"{v:.3f}"), flush=True)
        summary.append({"variant": variant, "mean_auc": table["auc"].mean()})
        print(f"mean AUC {table['auc'].mean():.3f}\n", flush=True)
    print(pd.DataFrame(summary).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
