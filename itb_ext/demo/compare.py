"""The comparison table of the README: the stationary preset, ITB's sample, FreqAI's own
``FreqaiExampleStrategy`` and buy-and-hold on the embedded pairs over the demo year, after fees.

All three strategies are FreqAI walk-forward backtests (train 180 days, predict the next 30,
roll): every traded candle is out of sample. Their trades and buy-and-hold go through one set of
metric definitions (:mod:`itb_ext.evaluation.metrics`).

    python -m itb_ext.demo.compare [--out demo_output/comparison.md]   # or: make compare

The ITB runs are the demo's (stored predictions are reused when ``make demo`` ran before).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from itb_ext.data.files import write_atomically
from itb_ext.demo import run as demo
from itb_ext.evaluation.metrics import account, buy_and_hold
from itb_ext.evaluation.report import NA
from itb_ext.evaluation.stored import BacktestResult, read_backtest_result

FREQAI_EXAMPLE_CONFIG = demo.USER_DATA / "config.freqai-example.json"
DEFAULT_OUT = demo.OUTPUT / "comparison.md"


def freqai_example_run(folder: Path = demo.OUTPUT) -> demo.DemoRun:
    """FreqAI's example strategy with LightGBMRegressor on the demo's pairs, stake and fees."""
    folder.mkdir(parents=True, exist_ok=True)
    return demo.DemoRun(
        name="FreqaiExampleStrategy (long only)",
        config_file=FREQAI_EXAMPLE_CONFIG,
        config=demo._load_config(FREQAI_EXAMPLE_CONFIG),
        log_file=folder / "backtest-freqai-example.log",
        report_file=folder / "backtest-freqai-example.txt",
        results_dir=folder / "backtest_results-freqai-example",
    )


def buy_and_hold_name(fee: float) -> str:
    """The buy-and-hold row's name: after fees, and which."""
    return f"buy and hold, after fees ({fee:.2%} per side)"


def comparison_table(
    results: Mapping[str, BacktestResult],
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    fee: float,
    starting_balance: float = 10_000.0,
) -> pd.DataFrame:
    """One row per strategy plus buy-and-hold, metrics after fees.

    :param results: per strategy name, its backtest result.
    :param candles: per pair, its candles.
    :param period: ``[start, stop)`` of the backtests.
    :param fee: fee per side that buy-and-hold pays (the strategies' trades carry theirs).
    :param starting_balance: buy-and-hold's wallet when there is no backtest to take it from.
    """
    rows = []
    for name, result in results.items():
        traded = account(result.closed_trades(), candles, period, result.starting_balance)
        rows.append({"strategy": name, **traded.metrics()})
    if results:
        starting_balance = next(iter(results.values())).starting_balance
    hold = buy_and_hold(candles, period, starting_balance, fee)
    rows.append({"strategy": buy_and_hold_name(fee), **hold.metrics()})
    return pd.DataFrame(rows)


COLUMNS = {
    "strategy": "strategy",
    "return_%": "return %",
    "sharpe": "Sharpe",
    "calmar": "Calmar",
    "max_drawdown_%": "max drawdown %",
    "win_rate_%": "win rate %",
    "profit_factor": "profit factor",
    "average_trade_%": "avg trade %",
    "trades": "trades",
}


def to_markdown(table: pd.DataFrame) -> str:
    """The table as GitHub markdown, figures rounded for reading."""
    lines = [
        "| " + " | ".join(COLUMNS.values()) + " |",
        "|---" + "|---:" * (len(COLUMNS) - 1) + "|",
    ]
    for row in table.to_dict("records"):
        cells = []
        for key in COLUMNS:
            value = row[key]
            if key == "strategy":
                cells.append(str(value))
            elif key == "trades":
                cells.append(f"{value:.0f}")
            elif pd.isna(value):
                cells.append(NA)
            elif key.endswith("%"):
                cells.append(
                    f"{value:+.2f}" if key in ("return_%", "average_trade_%") else f"{value:.2f}"
                )
            else:
                cells.append(f"{value:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timerange", default=demo.DEFAULT_TIMERANGE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    args = parser.parse_args(argv)
    runs = [*demo.demo_runs(), freqai_example_run()]
    pairs = runs[0].pairs
    print(
        f"== walk-forward backtests, offline: {', '.join(r.name for r in runs)} on "
        f"{', '.join(pairs)} 1h, {args.timerange} (a few minutes the first time)",
        flush=True,
    )
    outcome = demo.run_backtests(runs, args.timerange)
    failed = [r for r in runs if outcome[r.name][0] != 0]
    for run in failed:
        print(f"{run.name}: backtest failed; log: {run.log_file}", file=sys.stderr)
    if failed:
        return 1
    fee = float(runs[0].config.get("fee", 0.001))
    results = {run.name: read_backtest_result(run.results_dir, strategy=None) for run in runs}
    timeframe = runs[0].config["timeframe"]
    candles = {pair: demo._candles(pair, timeframe) for pair in pairs}
    table = comparison_table(results, candles, results[runs[0].name].period, fee)
    text = to_markdown(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(args.out, text)
    print(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
