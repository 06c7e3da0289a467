"""The offline walk-forward demo: FreqTrade backtest of ITBStrategy on the embedded candles,
then an out-of-sample model-quality table and buy-and-hold over the same period.

Run with ``make demo`` (or ``python -m itb_ext.adapters.demo``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from itb_ext.adapters.backtest_command import offline_backtest_argv
from itb_ext.adapters.risk_demo import print_risk_comparison
from itb_ext.evaluation import buy_and_hold, model_quality, read_backtest_predictions
from itb_ext.freqai_setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
USER_DATA = ROOT / "user_data"
CONFIG = USER_DATA / "config.demo.json"
DATADIR = USER_DATA / "data" / "bitfinex"
DEFAULT_TIMERANGE = "20181001-20191001"


def _load_config(path: Path) -> dict:
    from freqtrade.configuration.load_config import load_from_files

    config: dict = load_from_files([str(path)])
    return config


def _run_backtest(timerange: str, log_file: Path, results_dir: Path) -> tuple[int, float]:
    """Run FreqTrade's backtesting offline in a child process; its report goes to our stdout."""
    argv = offline_backtest_argv(CONFIG, USER_DATA, DATADIR, timerange, results_dir, log_file)
    start = time.perf_counter()
    # FreqTrade's log goes to the log file; only its report is shown here.
    result = subprocess.run(argv, cwd=ROOT, check=False, stderr=subprocess.DEVNULL)
    return result.returncode, time.perf_counter() - start


def _training_seconds(log_file: Path) -> tuple[int, float]:
    pattern = re.compile(r"Done training .* \(([\d.]+) secs\)")
    times = [float(m.group(1)) for m in pattern.finditer(log_file.read_text(errors="replace"))]
    return len(times), float(sum(times))


def _candles(pair: str, timeframe: str) -> pd.DataFrame:
    path = DATADIR / f"{pair.replace('/', '_')}-{timeframe}.feather"
    return pd.read_feather(path)


def _feature_seconds(setup: ITBSetup, candles: pd.DataFrame) -> float:
    start = time.perf_counter()
    setup.feature_frame(candles)
    return time.perf_counter() - start


REPORT_DIR = ROOT / "demo_output" / "report"


def write_demo_report(results_dir: Path) -> float:
    """Write the walk-forward report of the demo's backtest; print where, and its headline."""
    from itb_ext.adapters.report import walk_forward_report

    start = time.perf_counter()
    report, files = walk_forward_report(
        CONFIG, USER_DATA, REPORT_DIR, datadir=DATADIR, backtest_results=results_dir
    )
    overall = report.quality[report.quality["window"] == "all"]
    print(f"\n== Walk-forward report: {files.html} (opens offline), summary {files.text}")
    print(f"mean out-of-sample AUC over {len(overall)} models: {overall['auc'].mean():.3f}")
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timerange", default=DEFAULT_TIMERANGE, help="backtest period")
    args = parser.parse_args(argv)

    config = _load_config(CONFIG)
    setup = ITBSetup.from_freqtrade_config(config)
    pairs: list[str] = config["exchange"]["pair_whitelist"]
    timeframe: str = config["timeframe"]
    identifier: str = config["freqai"]["identifier"]
    logs = USER_DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results_dir = USER_DATA / "backtest_results"
    results_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs / "demo-backtest.log"
    log_file.unlink(missing_ok=True)

    print(
        f"== ITBStrategy walk-forward backtest, offline: {', '.join(pairs)} {timeframe}, "
        f"{args.timerange}, train {config['freqai']['train_period_days']} days, "
        f"retrain every {config['freqai']['backtest_period_days']} days",
        flush=True,
    )
    print(f"   (training takes a few minutes the first time; log: {log_file})", flush=True)
    params = USER_DATA / "strategies" / "ITBStrategy.json"
    if params.exists():
        print(f"   note: hyperopt result {params} overrides the config's thresholds", flush=True)
    code, backtest_seconds = _run_backtest(args.timerange, log_file, results_dir)
    if code != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-15:] if log_file.exists() else []
        print("\n".join(tail), file=sys.stderr)
        print(f"backtest failed (exit {code}); full log: {log_file}", file=sys.stderr)
        return code
    trainings, training_seconds = _training_seconds(log_file)

    start, stop = args.timerange.split("-")
    period = (pd.Timestamp(start, tz="UTC"), pd.Timestamp(stop, tz="UTC"))
    predictions = read_backtest_predictions(USER_DATA / "models" / identifier, pairs)
    quality_rows = []
    hold_rows = []
    feature_seconds = 0.0
    for pair in pairs:
        candles = _candles(pair, timeframe)
        feature_seconds += _feature_seconds(setup, candles)
        labels = setup.label_frame(candles).assign(date=candles["date"].to_numpy())
        quality_rows.append(model_quality(predictions[pair], labels, setup.score_columns, pair))
        hold_rows.append(buy_and_hold(candles, period, pair))
    quality = pd.concat(quality_rows, ignore_index=True)
    print("\n== Out-of-sample model quality (candles each model never trained on)")
    print(quality.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    hold = pd.DataFrame(hold_rows)
    print("\n== Buy and hold over the same period")
    print(hold.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print(f"mean of the pairs: {hold['buy_and_hold_%'].mean():+.2f} %")
    risk_work = results_dir / "risk-comparison"
    risk_work.mkdir(parents=True, exist_ok=True)
    print_risk_comparison(CONFIG, USER_DATA, DATADIR, args.timerange, risk_work, config["fee"])
    report_seconds = write_demo_report(results_dir)
    print("\n== Stage times")
    print(f"feature build (all pairs, full history): {feature_seconds:8.2f} s")
    print(f"model training ({trainings} trainings):  {training_seconds:8.2f} s")
    print(f"FreqTrade backtest process, total:      {backtest_seconds:8.2f} s")
    print(f"walk-forward report:                    {report_seconds:8.2f} s")
    print(f"FreqTrade log: {log_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
