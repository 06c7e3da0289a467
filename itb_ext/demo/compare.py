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
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.demo import run as demo
from itb_ext.evaluation.metrics import (
    Trade,
    buy_and_hold_trades,
    daily_closes,
    equity_curve,
    metrics,
    period_days,
)

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


def backtest_result(results_dir: Path) -> dict[str, Any]:
    """The strategy statistics of the newest backtest exported into ``results_dir``."""
    latest = json.loads((results_dir / ".last_result.json").read_text())["latest_backtest"]
    archive = results_dir / latest
    with zipfile.ZipFile(archive) as bundle:
        stats: dict[str, Any] = json.loads(bundle.read(f"{Path(archive).stem}.json"))
    strategies: dict[str, Any] = stats["strategy"]
    return next(iter(strategies.values()))


def trades_of(result: dict[str, Any]) -> list[Trade]:
    """FreqTrade's exported trades as :class:`Trade` (long and short alike: profit after fees)."""
    trades = []
    for t in result["trades"]:
        trades.append(
            Trade(
                pair=t["pair"],
                open_date=pd.Timestamp(t["open_date"]),
                close_date=pd.Timestamp(t["close_date"]),
                amount=float(t["amount"]) * (-1.0 if t.get("is_short") else 1.0),
                open_rate=float(t["open_rate"]),
                profit_abs=float(t["profit_abs"]),
                profit_ratio=float(t["profit_ratio"]),
                entry_fee=float(t["stake_amount"]) * float(t["fee_open"]),
            )
        )
    return trades


def comparison_table(
    runs: Sequence[demo.DemoRun], pairs: Sequence[str], timerange: str, fee: float
) -> pd.DataFrame:
    """One row per strategy plus buy-and-hold, metrics after fees."""
    period = demo._period(timerange)
    days = period_days(period)
    candles = {p: demo._candles(p, "1h") for p in pairs}
    closes = {p: daily_closes(c, days) for p, c in candles.items()}
    rows = []
    balance = 0.0
    for run in runs:
        result = backtest_result(run.results_dir)
        balance = float(result["starting_balance"])
        trades = trades_of(result)
        equity = equity_curve(trades, closes, days, balance)
        rows.append({"strategy": run.name, **metrics(equity, [t.profit_ratio for t in trades])})
    hold = buy_and_hold_trades(candles, period, balance or 10_000.0, fee)
    equity = equity_curve(hold, closes, days, balance or 10_000.0)
    rows.append({"strategy": "buy and hold", **metrics(equity, [t.profit_ratio for t in hold])})
    return pd.DataFrame(rows)


COLUMNS = {
    "strategy": "strategy",
    "return_%": "return %",
    "sharpe": "Sharpe",
    "calmar": "Calmar",
    "max_drawdown_%": "max drawdown %",
    "win_rate_%": "win rate %",
    "profit_factor": "profit factor",
    "avg_trade_%": "avg trade %",
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
                cells.append("–")
            elif key.endswith("%"):
                cells.append(
                    f"{value:+.2f}" if key in ("return_%", "avg_trade_%") else f"{value:.2f}"
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
    table = comparison_table(runs, pairs, args.timerange, fee)
    text = to_markdown(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
