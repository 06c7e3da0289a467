"""The README's comparison table: rounding and layout of ``make compare``'s markdown."""

from __future__ import annotations

import math

import pandas as pd

from itb_ext.demo.compare import to_markdown


def test_markdown_table_rounds_and_marks_missing_values() -> None:
    table = pd.DataFrame(
        [
            {
                "strategy": "preset",
                "return_%": 12.345,
                "sharpe": 1.234,
                "calmar": 2.0,
                "max_drawdown_%": 5.5,
                "win_rate_%": 50.0,
                "profit_factor": math.nan,
                "average_trade_%": -0.123,
                "trades": 7.0,
            }
        ]
    )
    assert to_markdown(table).splitlines() == [
        "| strategy | return % | Sharpe | Calmar | max drawdown % | win rate % | profit factor "
        "| avg trade % | trades |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| preset | +12.35 | 1.23 | 2.00 | 5.50 | 50.00 | n/a | -0.12 | 7 |",
    ]


def test_each_set_up_row_carries_its_baselines_and_buy_and_hold_none() -> None:
    from itb_ext.demo.compare import costs_line, with_baselines
    from itb_ext.evaluation.rule_backtest import Costs

    row = {
        "return_%": 1.0,
        "sharpe": 0.5,
        "calmar": 1.0,
        "max_drawdown_%": 2.0,
        "win_rate_%": 40.0,
        "profit_factor": 1.1,
        "average_trade_%": 0.01,
        "trades": 3.0,
    }
    table = pd.DataFrame([{"strategy": "trend", **row}, {"strategy": "buy and hold", **row}])
    baselines = {
        "trend": {"buy-and-hold": 0.4, "trend gate alone": 1.234, "reversal rule in the gate": -0.2}
    }
    lines = to_markdown(with_baselines(table, baselines)).splitlines()
    assert lines[0].endswith("| buy-and-hold Sharpe | trend gate Sharpe | reversal Sharpe |")
    assert lines[2].endswith("| 3 | 0.40 | 1.23 | -0.20 |")
    assert lines[3].endswith("| 3 |  |  |  |")
    said = costs_line({"trend": Costs(0.001, 0.0005), "FreqAI": Costs(0.001, 0.0)})
    assert said == (
        "trend: fee 0.10 % + slippage 0.05 % per fill; FreqAI: fee 0.10 % + slippage 0.00 % "
        "per fill"
    )
