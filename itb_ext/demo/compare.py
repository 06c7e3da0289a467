"""The comparison table of the README: the default (trend) preset, the stationary preset, ITB's
sample and FreqAI's own ``FreqaiExampleStrategy`` on the embedded pairs over the demo year, each
beside buy-and-hold, the trend gate alone and the reversal rule inside the gate with that set-up's
own fills, fee and slippage.

Every strategy is a FreqAI walk-forward backtest (train 180 days, predict the next 30, roll):
every traded candle is out of sample. Their trades go through one set of metric definitions
(:mod:`itb_ext.evaluation.metrics`); the baselines are the project's simulation
(:mod:`itb_ext.evaluation.baselines`), each pair on an equal share of the account.

    python -m itb_ext.demo.compare [--out demo_output/comparison.md]   # or: make compare

The default preset's run reuses the demo's stored predictions when ``make demo`` ran before.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.data.files import write_atomically
from itb_ext.demo import run as demo
from itb_ext.errors import ITBError
from itb_ext.evaluation.baselines import all_baselines
from itb_ext.evaluation.edge import (
    BASELINES,
    BUY_AND_HOLD,
    REVERSAL,
    TREND_GATE,
    edge_settings,
    equal_share_figures,
    wrapped,
)
from itb_ext.evaluation.metrics import account, buy_and_hold
from itb_ext.evaluation.report import NA
from itb_ext.evaluation.rule_backtest import Costs
from itb_ext.evaluation.stored import BacktestResult, read_backtest_result
from itb_ext.strategy.setup import ITBSetup

STATIONARY_CONFIG = demo.USER_DATA / "config.demo-stationary.json"
SAMPLE_SECTION = demo.USER_DATA / "itb-sample-1h.json"
FREQAI_EXAMPLE_CONFIG = demo.USER_DATA / "config.freqai-example.json"
COMPARE_OUTPUT = demo.OUTPUT / "compare"
DEFAULT_OUT = demo.OUTPUT / "comparison.md"
#: svc trains on every n-th candle of a window in ITB's sample (as the stationary preset does):
#: ITB's own ``every_nth_row`` parameter, which keeps the sample's backtest within minutes.
SVC_EVERY_NTH_ROW = 4


@dataclass(frozen=True)
class SetUp:
    """One backtest of the comparison.

    :param name: how the table calls it.
    :param paths: its config and its own output folder.
    :param itb: an ITBStrategy run (its costs and parameters come from its ``itb`` section).
    """

    name: str
    paths: demo.DemoPaths
    itb: bool = True

    @property
    def config(self) -> dict[str, Any]:
        return demo._load_config(self.paths.config)


def sample_config(folder: Path) -> Path:
    """The stationary demo config with ITB's sample section instead of the preset, under its
    own model identifier. Its svc trains on every :data:`SVC_EVERY_NTH_ROW`-th candle; nothing
    else changes."""
    raw = json.loads(STATIONARY_CONFIG.read_text())
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


def set_ups(folder: Path = COMPARE_OUTPUT) -> list[SetUp]:
    """The default preset, the stationary preset, ITB's sample and FreqAI's example."""
    folder.mkdir(parents=True, exist_ok=True)

    def paths(config: Path, slug: str) -> demo.DemoPaths:
        return demo.DemoPaths(config=config, output=folder / slug)

    return [
        SetUp("trend preset (default)", paths(demo.CONFIG, "trend")),
        SetUp("stationary preset", paths(STATIONARY_CONFIG, "stationary")),
        SetUp("ITB sample", paths(sample_config(folder), "itb-sample")),
        SetUp(
            "FreqaiExampleStrategy (long only)",
            paths(FREQAI_EXAMPLE_CONFIG, "freqai-example"),
            itb=False,
        ),
    ]


def costs_of(set_up: SetUp) -> Costs:
    """The fee and slippage of a set-up's fills: the risk layer's backtest slippage for ITB's,
    none for FreqAI's example (it fills at the open)."""
    config = set_up.config
    if not set_up.itb:
        return Costs(fee=float(config.get("fee", 0.001)), slippage=0.0)
    setup = ITBSetup.from_freqtrade_config(config)
    return edge_settings(setup, config, setup.default_overrides()).costs


def run_backtests(runs: Sequence[SetUp], timerange: str) -> dict[str, tuple[int, float]]:
    """Run the backtests side by side (one process each; FreqTrade's report to each run's
    report file); return each run's exit code and seconds, saying each as it ends."""
    started = {}
    for run in runs:
        paths = run.paths
        paths.results_dir.mkdir(parents=True, exist_ok=True)
        paths.log_file.unlink(missing_ok=True)
        if run.itb:
            config = run.config
            setup = ITBSetup.from_freqtrade_config(config)
            demo.prepare_strategy(paths, setup, config, use_hyperopt_result=False)
        report = paths.freqtrade_report.open("w")
        process = subprocess.Popen(
            demo.backtest_argv(run.paths, timerange, own_strategy=run.itb),
            cwd=demo.ROOT,
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
                print(f"{name}: backtest done ({outcome[name][1]:.0f} s)", flush=True)
        time.sleep(0.2)
    return outcome


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


def baseline_sharpes(
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    costs: Costs,
) -> dict[str, float]:
    """The Sharpe ratio of each baseline over ``period`` with ``costs``, every pair on an equal
    share of the account (:func:`~itb_ext.evaluation.edge.equal_share_figures`)."""
    runs = []
    for frame in candles.values():
        dates = pd.to_datetime(frame["date"], utc=True)
        inside = frame[(dates >= period[0]) & (dates < period[1])].reset_index(drop=True)
        runs.append(all_baselines(inside, costs))
    picked = {
        BUY_AND_HOLD: [r.buy_and_hold for r in runs],
        TREND_GATE: [r.trend_gate for r in runs],
        REVERSAL: [r.reversal for r in runs],
    }
    return {name: equal_share_figures(picked[name])["sharpe"] for name in BASELINES}


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
#: the baselines' columns, beside each set-up's row
BASELINE_COLUMNS = {
    BUY_AND_HOLD: "buy-and-hold Sharpe",
    TREND_GATE: "trend gate Sharpe",
    REVERSAL: "reversal Sharpe",
}


def _cell(key: str, value: Any) -> str:
    if key == "strategy":
        return str(value)
    if value is None or pd.isna(value):
        return NA if value is not None else ""
    if key == "trades":
        return f"{value:.0f}"
    if key in ("return_%", "average_trade_%"):
        return f"{value:+.2f}"
    return f"{value:.2f}"


def to_markdown(table: pd.DataFrame) -> str:
    """The table as GitHub markdown, figures rounded for reading (the baselines' columns when
    the table has them; an empty cell where a row has none)."""
    columns = dict(COLUMNS)
    columns.update({k: v for k, v in BASELINE_COLUMNS.items() if k in table.columns})
    lines = [
        "| " + " | ".join(columns.values()) + " |",
        "|---" + "|---:" * (len(columns) - 1) + "|",
    ]
    for row in table.to_dict("records"):
        cells = []
        for key in columns:
            value = row.get(key)
            cells.append("" if key in BASELINE_COLUMNS and pd.isna(value) else _cell(key, value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def with_baselines(
    table: pd.DataFrame, baselines: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """``table`` with each set-up's baselines (by its row's ``strategy``) in their columns."""
    out = table.copy()
    for key in BASELINE_COLUMNS:
        out[key] = [baselines.get(name, {}).get(key) for name in out["strategy"]]
    return out


def costs_line(costs: Mapping[str, Costs]) -> str:
    """What each set-up's fills paid, in one line."""
    said = [
        f"{name}: fee {100 * c.fee:.2f} % + slippage {100 * c.slippage:.2f} % per fill"
        for name, c in costs.items()
    ]
    return "; ".join(said)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timerange", default=demo.DEFAULT_TIMERANGE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    args = parser.parse_args(argv)
    try:
        return _compare(args.timerange, args.out)
    except ITBError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2


def _compare(timerange: str, out: Path) -> int:
    runs = set_ups()
    pairs = runs[0].config["exchange"]["pair_whitelist"]
    said = (
        f"== walk-forward backtests, offline: {', '.join(r.name for r in runs)} on "
        f"{', '.join(pairs)} 1h, {timerange} (several minutes the first time)"
    )
    print("\n".join(wrapped(said, "   ")), flush=True)
    outcome = run_backtests(runs, timerange)
    failed = [r for r in runs if outcome[r.name][0] != 0]
    for run in failed:
        print(f"{run.name}: backtest failed; log: {run.paths.log_file}", file=sys.stderr)
    if failed:
        return 1
    results = {r.name: read_backtest_result(r.paths.results_dir, strategy=None) for r in runs}
    timeframe = runs[0].config["timeframe"]
    candles = {pair: demo._candles(pair, timeframe) for pair in pairs}
    period = results[runs[0].name].period
    fee = float(runs[0].config.get("fee", 0.001))
    costs = {r.name: costs_of(r) for r in runs}
    baselines = {name: baseline_sharpes(candles, period, c) for name, c in costs.items()}
    table = with_baselines(comparison_table(results, candles, period, fee), baselines)
    text = "\n".join(
        [
            *wrapped(
                f"Walk-forward, out of sample, {timerange}, {', '.join(pairs)} {timeframe}. "
                "Strategies: FreqTrade's trades, after costs. Baselines beside each row: the "
                "project's simulation with that row's fills and costs, each pair on an equal "
                "share."
            ),
            *wrapped(f"Costs: {costs_line(costs)}."),
            "",
            to_markdown(table),
        ]
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, text)
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
