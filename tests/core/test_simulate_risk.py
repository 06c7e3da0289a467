"""The risk simulation (``itb-ext simulate`` with ``simulate_model.risk``) on tiny frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.risk import ProtectionsConfig, RiskConfig, SizingConfig, StopConfig
from itb_ext.simulate.risk import add_risk_columns, simulate_with_risk

ROOT = Path(__file__).resolve().parents[2]
NO_HALTS = ProtectionsConfig(daily_loss_limit=None)


def bars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"),
            "open": [100.0, 100.0, 101.0, 102.0, 103.0, 104.0],
            "high": [101.0, 102.0, 103.0, 104.0, 105.0, 106.0],
            "low": [99.0, 99.0, 100.0, 101.0, 102.0, 103.0],
            "close": [100.0, 101.0, 102.0, 103.0, 104.0, 105.0],
        }
    )


def flags(*rows: int) -> np.ndarray:
    out = np.zeros(6, dtype=bool)
    out[list(rows)] = True
    return out


def long_profit(stake: float, entry: float, exit_: float, fee: float) -> float:
    amount = stake / entry
    return amount * exit_ * (1 - fee) - amount * entry * (1 + fee)


def test_trailing_atr_stop_closes_at_the_raised_stop() -> None:
    # ATR over 2 candles: row 1 = (2 + 3) / 2 = 2.5. Entry at row 1's open (100); on row 2 the
    # stop rises to high - 1 ATR of the last closed candle = 103 - 2.5 = 100.5 >= low 100.
    risk = RiskConfig(
        stop=StopConfig(atr_window=2, atr_multiple=1.0, max_distance=0.5),
        regime=None,
        protections=NO_HALTS,
        backtest_slippage_bps=0,
    )
    result = simulate_with_risk(bars(), flags(0), flags(2), risk, fee=0.001, wallet=10_000)
    (trade,) = result.trades
    dates = bars()["date"]
    assert (trade.open_date, trade.close_date, trade.exit_reason) == (
        dates[1],
        dates[2],
        "stop_loss",
    )
    assert trade.open_rate == 100.0
    assert trade.close_rate == pytest.approx(100.5)
    assert trade.stake_amount == pytest.approx(990.0)  # 10 % of 99 % of the wallet
    assert trade.entry_fee == pytest.approx(990.0 * 0.001)
    assert trade.profit_abs == pytest.approx(long_profit(990.0, 100.0, 100.5, 0.001))
    assert result.total_return == pytest.approx(trade.profit_abs / 10_000)


def test_slippage_on_both_fills_and_exit_signal_at_next_open() -> None:
    risk = RiskConfig(stop=None, regime=None, protections=NO_HALTS, backtest_slippage_bps=10)
    (trade,) = simulate_with_risk(bars(), flags(0), flags(2), risk, fee=0.0).trades
    assert trade.open_rate == pytest.approx(100.1)
    assert trade.close_rate == pytest.approx(101.898)
    assert (trade.close_date, trade.exit_reason) == (bars()["date"][3], "exit_signal")


def test_position_open_at_the_end_is_force_exited_at_the_last_close() -> None:
    risk = RiskConfig(
        sizing=SizingConfig(fraction=0.2),
        stop=None,
        regime=None,
        protections=NO_HALTS,
        backtest_slippage_bps=0,
    )
    (trade,) = simulate_with_risk(bars(), flags(2), flags(), risk, fee=0.0).trades
    dates = bars()["date"]
    assert (trade.open_date, trade.close_date, trade.exit_reason) == (
        dates[3],
        dates[5],
        "force_exit",
    )
    assert trade.stake_amount == pytest.approx(0.2 * 0.99 * 10_000)
    assert trade.close_rate == 105.0


def test_daily_loss_limit_blocks_the_rest_of_the_day() -> None:
    frame = bars()
    frame["open"] = [100.0, 100.0, 90.0, 100.0, 100.0, 100.0]
    frame["low"] = [99.0, 99.0, 89.0, 99.0, 99.0, 99.0]
    risk = RiskConfig(
        sizing=SizingConfig(fraction=0.25, max_fraction=0.25),
        stop=None,
        regime=None,
        protections=ProtectionsConfig(daily_loss_limit=0.01),
        backtest_slippage_bps=0,
    )
    # buy 100 -> sell 90 loses 2.5 % of equity; the buy signal on row 3 is refused that day
    result = simulate_with_risk(frame, flags(0, 3), flags(1), risk, fee=0.0)
    assert len(result.trades) == 1
    assert result.max_drawdown == pytest.approx(0.25 * 0.99 * 0.1)


def test_risk_columns_for_each_ranked_threshold_pair() -> None:
    frame = bars().assign(score=[0.5, 0.0, -0.5, 0.0, 0.0, 0.0])
    table = pd.DataFrame(
        {"buy_signal_threshold": [0.4, 0.9], "sell_signal_threshold": [-0.4, -0.9]}
    )
    risk = RiskConfig(stop=None, regime=None, protections=NO_HALTS, backtest_slippage_bps=0)
    out = add_risk_columns(table, frame, ["score"], risk, fee=0.0, time_column="date")
    assert out["risk_trades"].tolist() == [1, 0]
    expected = 100 * long_profit(990.0, 100.0, 102.0, 0.0) / 10_000
    assert out["risk_return_%"].tolist() == pytest.approx([expected, 0.0])


def test_cli_simulate_adds_the_risk_columns(tmp_path: Path) -> None:
    from itb_ext.cli import main
    from itb_ext.config.jsonc import loads_jsonc

    sample = ROOT / "examples" / "itb-sample-1h.jsonc"
    # the last 3000 hours of the embedded BTC candles: enough for every window of the sample
    candles = tmp_path / "candles.feather"
    full = pd.read_feather(ROOT / "user_data" / "data" / "bitfinex" / "BTC_USD-1h.feather")
    full.tail(3000).reset_index(drop=True).to_feather(candles)
    signals = tmp_path / "signals.parquet"
    argv = ["compute", "--config", str(sample), "--data", str(candles), "--out", str(signals)]
    assert main([*argv, "--quiet"]) == 0
    document = loads_jsonc(sample.read_text())
    document["simulate_model"]["risk"] = {"backtest_slippage_bps": 5}
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document))
    out = tmp_path / "table.csv"
    argv = ["simulate", "--config", str(config), "--data", str(signals), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    table = pd.read_csv(out)
    assert {"risk_trades", "risk_return_%", "risk_max_drawdown_%"} <= set(table.columns)
    assert (table["risk_trades"] > 0).any()
    assert (table["risk_max_drawdown_%"] >= 0).all()
