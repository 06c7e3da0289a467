"""The demo's risk comparison rows, computed from backtest statistics."""

from __future__ import annotations

import pandas as pd
import pytest

from itb_ext.config.base import validate
from itb_ext.config.risk import RiskConfig
from itb_ext.demo.risk import summarise, without_risk_overrides
from itb_ext.evaluation.stored import BacktestResult


def test_summary_row_from_a_backtest_result() -> None:
    trades = pd.DataFrame(
        {
            "close_date": pd.to_datetime(["2024-01-02", "2024-01-01"], utc=True),
            "profit_abs": [-150.0, 100.0],
            "stake_amount": [500.0, 400.0],
        }
    )
    start = pd.Timestamp("2024-01-01", tz="UTC")
    result = BacktestResult(trades, 1000.0, 0.001, start, start + pd.Timedelta(days=2))
    row = summarise(result, "with risk layer", "BTC/USD")
    assert row["trades"] == 2
    assert row["return_%"] == pytest.approx(-5.0)
    # in closing order 1000 -> 1100 -> 950: 150 / 1100 from the peak
    assert row["max_drawdown_%"] == pytest.approx(100 * 150 / 1100)
    assert row["largest_stake_%"] == pytest.approx(50.0)


def test_without_risk_is_a_valid_section_staking_one_nth() -> None:
    overrides = without_risk_overrides(2)
    assert overrides["stake_amount"] == "unlimited"
    risk = validate(RiskConfig, overrides["itb"]["risk"], "itb.risk")
    assert risk.sizing.fraction == risk.sizing.max_fraction == 0.5
    assert risk.stop is None and risk.regime is None
    assert risk.protections.daily_loss_limit is None
    assert risk.backtest_slippage_bps == RiskConfig().backtest_slippage_bps
