"""What ``svc_fast`` costs in quality: exact and fast SVC side by side on the same windows.

Real Bitfinex BTC/USD 1h candles with the 1h sample's features and labels (``high_30``,
``low_30``: +/-3 % within 24 h). Each window trains on ``rows`` candles and is scored on the
720 candles that follow it, after a gap of the label horizon so that no training label reads a
test price: the AUCs are out of sample. Fit time is one model (Platt scaling included).

    python benchmarks/bench_fast_svc.py [--rows 2000 4320 8640] [--windows 2]
    python benchmarks/bench_fast_svc.py --rows 17280 --windows 1 --algorithms svc_fast
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import candles, machine, peak_memory_mb, setup

from itb_ext.algorithms import train_score_models
from itb_ext.config.base import validate
from itb_ext.config.models import AlgorithmConfig

TEST_ROWS = 720
ALGORITHMS = {
    "svc": {"name": "svc", "algo": "svc", "train": {"C": 1.0}},
    "svc_fast": {"name": "svc_fast", "algo": "svc_fast", "train": {"C": 1.0, "n_components": 300}},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 4320, 8640])
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument(
        "--algorithms", nargs="+", choices=list(ALGORITHMS), default=list(ALGORITHMS)
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    itb = setup("1h")
    bars = candles("1h")
    features, labels = itb.feature_frame(bars), itb.label_frame(bars)
    known = (features.notna().all(axis=1) & labels.notna().all(axis=1)).to_numpy()
    features, labels = features[known], labels[known]
    horizon = itb.label_horizon() or 0
    print(f"{'rows':>6} {'algorithm':>9} {'fit s (median)':>15} {'OOS AUC (mean)':>15}")
    for rows in args.rows:
        results: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in args.algorithms}
        for window in range(args.windows):
            test_end = len(features) - window * TEST_ROWS
            test = slice(test_end - TEST_ROWS, test_end)
            train = slice(test.start - horizon - rows, test.start - horizon)
            for name in args.algorithms:
                cfg = validate(AlgorithmConfig, ALGORITHMS[name], name)
                for label in labels.columns:
                    start = time.perf_counter()
                    models = train_score_models(
                        features[train], labels[train][[label]], [cfg], seed=itb.seed
                    )
                    results[name][0].append(time.perf_counter() - start)
                    truth = labels[test][label].to_numpy(dtype=bool)
                    score = models.predict(features[test]).iloc[:, 0].to_numpy()
                    if truth.any() and not truth.all():
                        results[name][1].append(roc_auc_score(truth, score))
        for name, (fits, aucs) in results.items():
            print(
                f"{rows:>6} {name:>9} {statistics.median(fits):>15.2f} "
                f"{float(np.mean(aucs)):>15.3f}"
            )
    print(f"peak memory: {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
