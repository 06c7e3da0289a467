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
