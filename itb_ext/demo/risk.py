"""The risk layer's effect on the demo: the same walk-forward predictions backtested with the
``itb.risk`` defaults and without them (all-in stakes, no ATR stop, no protections), for all
pairs together and for each pair alone.

Every run reuses the stored FreqAI predictions (no retraining) and pays the config's fee and the
risk section's backtest slippage, so the rows differ only by sizing, stops and entry halts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.adapters.backtest_command import offline_backtest_argv
from itb_ext.config.files import load_with_included
from itb_ext.data.files import write_atomically
from itb_ext.evaluation.stored import BacktestResult, read_backtest_result
from itb_ext.risk.report import closed_trade_drawdown

ROOT = Path(__file__).resolve().parents[2]


def without_risk_overrides(pairs: int) -> dict[str, Any]:
    """Config keys that switch sizing, stops and halts off but keep the slippage: each of
    ``pairs`` open trades stakes ``1/pairs`` of equity, as FreqTrade's ``"unlimited"`` does."""
    share = 1.0 / pairs
    return {
        "stake_amount": "unlimited",
        "itb": {
            "risk": {
                "sizing": {"mode": "fixed", "fraction": share, "max_fraction": share},
                # one pair alone stakes all of it: the comparison's "without" row, on purpose
                "i_accept": ["whole_balance"] if share > 0.5 else [],
                "stop": None,
                "regime": None,
                "protections": {
                    "max_drawdown": None,
                    "stoploss_guard": None,
                    "cooldown_candles": 0,
                    "daily_loss_limit": None,
                },
            }
        },
    }


def _backtest(
    config: Path,
    userdir: Path,
    datadir: Path,
    timerange: str,
    results: Path,
    pairs: Sequence[str] = (),
) -> BacktestResult:
    results.mkdir(parents=True, exist_ok=True)
    log_file = results / "backtest.log"
    argv = offline_backtest_argv(config, userdir, datadir, timerange, results, log_file)
    if pairs:
        argv += ["--pairs", *pairs]
    done = subprocess.run(argv, cwd=ROOT, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"backtest failed (exit {done.returncode}); log: {results}")
    return read_backtest_result(results, strategy=None)


def summarise(result: BacktestResult, label: str, pairs: str) -> dict[str, Any]:
    """One row of the comparison from a FreqTrade backtest's result."""
    start = result.starting_balance
    trades = result.trades
    closed = trades.sort_values("close_date", kind="stable") if len(trades) else trades
    profits = [float(p) for p in closed.get("profit_abs", [])]
    largest = float(trades["stake_amount"].max()) if len(trades) else 0.0
    return {
        "pairs": pairs,
        "set-up": label,
        "trades": len(trades),
        "return_%": 100 * sum(profits) / start,
        "max_drawdown_%": 100 * closed_trade_drawdown(profits, start),
        "largest_stake_%": 100 * largest / start,
    }


def risk_comparison(
    config: Path,
    userdir: Path,
    datadir: Path,
    timerange: str,
    workdir: Path,
    *,
    per_pair: bool = True,
    with_risk_results: Path | None = None,
) -> pd.DataFrame:
    """Backtest ``config`` with and without the risk layer, all pairs and (``per_pair``) each pair
    alone.

    The models must already exist (run the demo's backtest first): these runs only read the
    stored predictions.

    :param with_risk_results: the results folder of a backtest of ``config`` itself over the same
        timerange and all pairs (the demo's own run), reused instead of running it again.
    :return: one row per (pairs, set-up): trades, return %, max drawdown % of closed-trade
        equity, largest stake as % of the starting wallet.
    """
    loaded = load_with_included(config)
    pairs: list[str] = list(loaded["exchange"]["pair_whitelist"])
    subsets = [pairs, *([p] for p in pairs)] if per_pair and len(pairs) > 1 else [pairs]
    rows = []
    for subset in subsets:
        name = "all" if subset == pairs and len(pairs) > 1 else subset[0]
        without = workdir / f"without-risk-{len(subset)}.json"
        write_atomically(
            without,
            json.dumps({"add_config_files": [str(config)], **without_risk_overrides(len(subset))}),
        )
        tag = name.replace("/", "_")
        for label, cfg in (("with risk layer", config), ("without", without)):
            if cfg == config and subset == pairs and with_risk_results is not None:
                result = read_backtest_result(with_risk_results, strategy=None)
            else:
                results = workdir / f"{tag}-{'with' if cfg == config else 'without'}"
                result = _backtest(cfg, userdir, datadir, timerange, results, subset)
            rows.append(summarise(result, label, ", ".join(subset)))
    return pd.DataFrame(rows)


def print_risk_comparison(table: pd.DataFrame, timerange: str, fee: float) -> None:
    """Print a :func:`risk_comparison` table as the demo shows it."""
    print(
        f"\n== Risk layer: walk-forward {timerange}, after {fee:.2%} fee per side and "
        "the configured backtest slippage"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(
        "without = 1/N of equity per trade (FreqTrade's 'unlimited' with N open trades), "
        "no ATR stop, no protections; drawdown of closed-trade equity"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m itb_ext.demo.risk``: the demo's risk comparison for every pair alone
    too (after ``make demo``, which trains the models this reads)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--timerange", default="20181001-20191001", help="backtest period")
    args = parser.parse_args(argv)
    user_data = ROOT / "user_data"
    config = user_data / "config.demo.json"
    workdir = ROOT / "demo_output" / "risk-comparison"
    workdir.mkdir(parents=True, exist_ok=True)
    loaded = json.loads(config.read_text())
    try:
        table = risk_comparison(
            config, user_data, user_data / "data" / "bitfinex", args.timerange, workdir
        )
    except RuntimeError as exc:
        print(f"risk comparison: {exc}", file=sys.stderr)
        return 1
    print_risk_comparison(table, args.timerange, float(loaded["fee"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
