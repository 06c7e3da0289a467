"""The offline walk-forward demo: FreqTrade backtests of ITBStrategy on the embedded candles with
the stationary preset and with ITB's sample, then their out-of-sample model quality side by side
and buy-and-hold over the same period.

Run with ``make demo`` (or ``python -m itb_ext.demo.run``). Each step is a function, so that
further comparisons can be added with one call in :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.adapters.backtest_command import offline_backtest_argv
from itb_ext.config.files import load_with_included
from itb_ext.data.files import write_atomically
from itb_ext.demo.risk import print_risk_comparison, risk_comparison
from itb_ext.evaluation.metrics import buy_and_hold
from itb_ext.evaluation.report import NA, OVERALL, PairData, graded_predictions, model_quality_rows
from itb_ext.evaluation.stored import (
    fill_missing_candles,
    read_backtest_result,
    read_window_predictions,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
USER_DATA = ROOT / "user_data"
CONFIG = USER_DATA / "config.demo.json"
SAMPLE_SECTION = USER_DATA / "itb-sample-1h.json"
DATADIR = USER_DATA / "data" / "bitfinex"
OUTPUT = ROOT / "demo_output"
DEFAULT_TIMERANGE = "20181001-20191001"
#: the out-of-sample AUC the preset aims at (mean over pairs and high/low models)
AUC_GOAL = 0.65


def _load_config(path: Path) -> dict[str, Any]:
    config: dict[str, Any] = load_with_included(path)
    return config


@dataclass(frozen=True)
class DemoRun:
    """One walk-forward backtest of the demo.

    :param name: how the tables call it.
    :param config_file: the FreqTrade config it runs.
    :param config: that config, loaded.
    :param log_file: FreqTrade's log.
    :param report_file: FreqTrade's printed report.
    :param results_dir: where FreqTrade exports the backtest result.
    :param strategy_path: folder of the strategy when it is not in ``user_data/strategies``.
    :param user_data: FreqTrade's user-data folder, where the models are stored.
    """

    name: str
    config_file: Path
    config: dict[str, Any]
    log_file: Path
    report_file: Path
    results_dir: Path
    strategy_path: Path | None = None
    user_data: Path = USER_DATA

    @property
    def setup(self) -> ITBSetup:
        return ITBSetup.from_freqtrade_config(self.config)

    @property
    def pairs(self) -> list[str]:
        pairs: list[str] = self.config["exchange"]["pair_whitelist"]
        return pairs

    @property
    def model_dir(self) -> Path:
        return self.user_data / "models" / str(self.config["freqai"]["identifier"])


#: svc trains on every n-th candle of a window in both runs (as the preset does): ITB's own
#: ``every_nth_row`` parameter, which keeps the two demo backtests within minutes.
SVC_EVERY_NTH_ROW = 4


def sample_config(folder: Path) -> Path:
    """The demo config with ITB's sample section instead of the preset, under its own model
    identifier (so that both keep their stored predictions). Its svc trains on every
    :data:`SVC_EVERY_NTH_ROW`-th candle, like the preset's; nothing else changes."""
    raw = json.loads(CONFIG.read_text())
    section = json.loads(SAMPLE_SECTION.read_text())["itb"]
    for algorithm in section["algorithms"]:
        if algorithm["algo"] == "svc":
            algorithm.setdefault("params", {})["every_nth_row"] = SVC_EVERY_NTH_ROW
    raw.pop("add_config_files", None)
    raw["itb"] = section
    raw["freqai"]["identifier"] = "itb-demo-itb-sample"
    path = folder / "config.demo-itb-sample.json"
    text = json.dumps(raw, indent=2)
    if not path.exists() or path.read_text() != text:
        write_atomically(path, text)
    return path


def demo_runs(folder: Path = OUTPUT) -> list[DemoRun]:
    """The preset's run (``config.demo.json``) and the ITB sample's run."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for name, path in (("stationary preset", CONFIG), ("ITB sample", sample_config(folder))):
        slug = "preset" if path == CONFIG else "itb-sample"
        runs.append(
            DemoRun(
                name=name,
                config_file=path,
                config=_load_config(path),
                log_file=folder / f"backtest-{slug}.log",
                report_file=folder / f"backtest-{slug}.txt",
                results_dir=folder / f"backtest_results-{slug}",
            )
        )
    return runs


def _backtest_argv(run: DemoRun, timerange: str) -> list[str]:
    argv = offline_backtest_argv(
        run.config_file, run.user_data, DATADIR, timerange, run.results_dir, run.log_file
    )
    return argv + (["--strategy-path", str(run.strategy_path)] if run.strategy_path else [])


def run_backtests(runs: Sequence[DemoRun], timerange: str) -> dict[str, tuple[int, float]]:
    """Run the backtests side by side (one process each, FreqTrade's log to the log file and its
    report to the report file); return each run's exit code and seconds."""
    started = {}
    for run in runs:
        run.results_dir.mkdir(parents=True, exist_ok=True)
        run.log_file.unlink(missing_ok=True)
        report = run.report_file.open("w")
        process = subprocess.Popen(
            _backtest_argv(run, timerange),
            cwd=ROOT,
            stdout=report,
            stderr=subprocess.DEVNULL,
        )
        started[run.name] = (process, report, time.perf_counter())
    outcome: dict[str, tuple[int, float]] = {}
    while len(outcome) < len(started):
        for name, (process, report, began) in started.items():
            if name not in outcome and (code := process.poll()) is not None:
                report.close()
                outcome[name] = (code, time.perf_counter() - began)
        time.sleep(0.2)
    return outcome


def training_seconds(log_file: Path) -> tuple[int, float]:
    """Number of trainings and their total seconds, from FreqTrade's log."""
    pattern = re.compile(r"Done training .* \(([\d.]+) secs\)")
    times = [float(m.group(1)) for m in pattern.finditer(log_file.read_text(errors="replace"))]
    return len(times), float(sum(times))


def _candles(pair: str, timeframe: str) -> pd.DataFrame:
    # as FreqTrade hands them to the strategy, like the report reads them
    frame = pd.read_feather(DATADIR / f"{pair.replace('/', '_')}-{timeframe}.feather")
    return fill_missing_candles(frame, timeframe)


def out_of_sample_quality(run: DemoRun) -> pd.DataFrame:
    """AUC, average precision and Brier score of every (pair, label, algorithm) model of a run,
    from FreqAI's stored walk-forward predictions (candles each model never trained on)."""
    setup = run.setup
    rows = []
    for pair in run.pairs:
        data = PairData(
            pair,
            _candles(pair, run.config["timeframe"]),
            read_window_predictions(run.model_dir, pair),
        )
        graded, label_of = graded_predictions(setup, data)
        rows += model_quality_rows(graded, label_of, pair, OVERALL)
    return pd.DataFrame(rows).drop(columns="window")


def auc_side_by_side(quality: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (pair, model), one AUC column per run, plus each run's mean."""
    joined: pd.DataFrame | None = None
    for name, table in quality.items():
        part = table.loc[:, ["pair", "model", "auc"]].rename(columns={"auc": name})
        joined = part if joined is None else joined.merge(part, on=["pair", "model"], how="outer")
    if joined is None:
        raise ValueError("no quality table to compare")
    mean = {"pair": "mean", "model": "", **{n: joined[n].mean() for n in quality}}
    return pd.concat([joined, pd.DataFrame([mean])], ignore_index=True)


#: the row of all pairs together in the buy-and-hold table
ALL_PAIRS = "all, equal stakes"
#: the buy-and-hold figures the demo prints
BUY_AND_HOLD_FIGURES = ("return_%", "sharpe", "sortino", "calmar", "max_drawdown_%")


def buy_and_hold_table(
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    fee: float,
    starting_balance: float = 10_000.0,
) -> pd.DataFrame:
    """Buy-and-hold after fees over ``period``: each pair alone, then all of them with equal
    stakes (see :func:`itb_ext.evaluation.metrics.buy_and_hold`).

    :param candles: per pair, its candles.
    :param period: ``[start, stop)`` of the backtest.
    :param fee: fee per side.
    """
    groups = {pair: {pair: frame} for pair, frame in candles.items()}
    if len(candles) > 1:
        groups[ALL_PAIRS] = dict(candles)
    rows = []
    for name, group in groups.items():
        figures = buy_and_hold(group, period, starting_balance, fee).metrics()
        rows.append({"pairs": name, **{key: figures[key] for key in BUY_AND_HOLD_FIGURES}})
    return pd.DataFrame(rows)


def buy_and_hold_heading(fee: float) -> str:
    """The line above every buy-and-hold figure: after fees, and which."""
    return (
        f"Buy and hold over the same period, after fees ({fee:.2%} per side): bought at the "
        "first open, sold at the last close, equity marked daily"
    )


def _fmt(value: float) -> str:
    return f"{value:.3f}"


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

    runs = demo_runs()
    preset = runs[0]
    freqai = preset.config["freqai"]
    print(
        f"== ITBStrategy walk-forward backtests, offline: {', '.join(preset.pairs)} "
        f"{preset.config['timeframe']}, {args.timerange}, train {freqai['train_period_days']} "
        f"days, retrain every {freqai['backtest_period_days']} days; "
        + " and ".join(r.name for r in runs),
        flush=True,
    )
    print(
        f"   svc trains on every {SVC_EVERY_NTH_ROW}th candle in both (ITB's every_nth_row); "
        f"training takes several minutes the first time; logs in {OUTPUT}",
        flush=True,
    )
    params = USER_DATA / "strategies" / "ITBStrategy.json"
    if params.exists():
        print(f"   note: hyperopt result {params} overrides the config's thresholds", flush=True)
    outcome = run_backtests(runs, args.timerange)
    failed = [r for r in runs if outcome[r.name][0] != 0]
    for run in failed:
        text = run.log_file.read_text(errors="replace") if run.log_file.exists() else ""
        print("\n".join(text.splitlines()[-15:]), file=sys.stderr)
        print(
            f"{run.name}: backtest failed (exit {outcome[run.name][0]}); log: {run.log_file}",
            file=sys.stderr,
        )
    if failed:
        return outcome[failed[0].name][0] or 1

    for run in runs:
        print(f"\n== FreqTrade backtest: {run.name}")
        print(run.report_file.read_text(errors="replace").rstrip())

    quality = {run.name: out_of_sample_quality(run) for run in runs}
    print(f"\n== Out-of-sample model quality of the {preset.name} (candles each model never saw)")
    print(quality[preset.name].to_string(index=False, float_format=_fmt))
    print("\n== Out-of-sample AUC, walk-forward, side by side")
    print(auc_side_by_side(quality).to_string(index=False, float_format=_fmt))
    mean_auc = float(quality[preset.name]["auc"].mean())
    verdict = "reaches" if mean_auc >= AUC_GOAL else "falls short of"
    print(f"mean out-of-sample AUC of the {preset.name}: {mean_auc:.3f} ({verdict} {AUC_GOAL})")

    fee = float(preset.config["fee"])
    backtest = read_backtest_result(preset.results_dir, strategy=None)
    candles = {pair: _candles(pair, preset.config["timeframe"]) for pair in preset.pairs}
    hold = buy_and_hold_table(candles, backtest.period, fee, backtest.starting_balance)
    print(f"\n== {buy_and_hold_heading(fee)}")
    print(hold.to_string(index=False, float_format=lambda v: f"{v:,.2f}", na_rep=NA))
    risk_work = OUTPUT / "risk-comparison"
    risk_work.mkdir(parents=True, exist_ok=True)
    # All pairs only, reusing the preset's own backtest as the "with" row: the per-pair rows cost
    # six more backtests (python -m itb_ext.demo.risk prints them).
    try:
        table = risk_comparison(
            CONFIG,
            USER_DATA,
            DATADIR,
            args.timerange,
            risk_work,
            per_pair=False,
            with_risk_results=preset.results_dir,
        )
    except RuntimeError as exc:
        print(f"risk comparison: {exc}", file=sys.stderr)
    else:
        print_risk_comparison(table, args.timerange, fee)
    print("each pair alone, with and without the risk layer: python -m itb_ext.demo.risk")
    report_seconds = write_demo_report(preset.results_dir)
    print("\n== Stage times")
    for run in runs:
        trainings, seconds = training_seconds(run.log_file)
        print(
            f"{run.name}: model training ({trainings} trainings) {seconds:7.1f} s, "
            f"FreqTrade backtest process {outcome[run.name][1]:7.1f} s"
        )
    print("(the two backtests run side by side)")
    print(f"walk-forward report: {report_seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
