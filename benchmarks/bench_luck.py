"""Time the luck tests on one year of the embedded 1h candles of three pairs.

Data: the embedded Bitfinex BTC/USD, ETH/USD and LTC/USD 1h candles, the last 8760 candles of
each (about one year). Score: the reversal baseline's score inside the daily trend gate (enter at
1.0, leave at 0.0), default costs. Timed per pair: the placebo (200 shifts), the stationary
bootstrap (1,000 resamples of the daily returns) and the trade-order Monte Carlo (1,000 orders),
then the whole report of the three pairs, whose figures are printed (they are a sample, not a
result: the rule is a baseline). The placebo's cost grows with the trades (one Python step per
trade), so it is also timed on a busy score: Gaussian noise with the same levels and no gate.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_luck.py``
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from itb_ext.data.candles import read_table, validate_candles
from itb_ext.evaluation.baselines import ReversalRule, daily_trend_gate, reversal_score
from itb_ext.evaluation.luck import (
    bootstrap_intervals,
    luck_report,
    placebo_test,
    trade_order_drawdown,
)
from itb_ext.evaluation.rule_backtest import Costs, backtest_rules, candle_grid, threshold_signals

DATA = Path(__file__).resolve().parents[1] / "user_data/data/bitfinex"
PAIRS = ("BTC/USD", "ETH/USD", "LTC/USD")
YEAR = 8760


def main() -> None:
    costs, rule = Costs(), ReversalRule()
    names = ("placebo (200 shifts)", "bootstrap (1000)", "trade orders (1000)", "whole report")
    totals = dict.fromkeys(names, 0.0)
    reports = []
    for pair in PAIRS:
        path = DATA / f"{pair.replace('/', '_')}-1h.feather"
        candles = validate_candles(read_table(path), str(path)).iloc[-YEAR:].reset_index(drop=True)
        grid = candle_grid(candles, pair)
        score = reversal_score(grid, rule.horizon, rule.span)
        gate = daily_trend_gate(grid)
        entry, exit_ = threshold_signals(score, gate, rule.levels)
        strategy = backtest_rules(grid, entry, exit_, costs)

        started = time.perf_counter()
        placebo_test(grid, score, gate, rule.levels, costs, shifts=200, seed=0)
        placebo = time.perf_counter() - started
        started = time.perf_counter()
        bootstrap_intervals(strategy.daily_returns, resamples=1000, seed=0)
        bootstrap = time.perf_counter() - started
        started = time.perf_counter()
        trade_order_drawdown(strategy.equity_returns, orders=1000, seed=0)
        orders = time.perf_counter() - started
        print(
            f"{pair}: {len(candles)} candles, {len(strategy.trades)} trades; placebo "
            f"{placebo:.3f} s, bootstrap {bootstrap:.3f} s, trade orders {orders:.3f} s"
        )
        noise = np.random.default_rng(0).standard_normal(len(candles))
        busy = backtest_rules(grid, *threshold_signals(noise, None, rule.levels), costs)
        started = time.perf_counter()
        placebo_test(grid, noise, None, rule.levels, costs, shifts=200, seed=0)
        print(
            f"  a busy score (noise, no gate: {len(busy.trades)} trades): placebo "
            f"{time.perf_counter() - started:.3f} s"
        )

        started = time.perf_counter()
        reports.append(
            luck_report(
                candles, score, pair=pair, levels=rule.levels, costs=costs, trials=1, gate=gate
            )
        )
        whole = time.perf_counter() - started
        for name, seconds in zip(names, (placebo, bootstrap, orders, whole), strict=True):
            totals[name] += seconds
    print("three pairs: " + ", ".join(f"{name} {s:.2f} s" for name, s in totals.items()))
    print()
    for report in reports:
        print(report.figures.text())


if __name__ == "__main__":
    main()
