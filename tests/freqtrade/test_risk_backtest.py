"""The risk layer in FreqTrade's backtest: stake sizes, ATR stops, slippage, entry halts, and
bad ``itb.risk`` settings refused at start-up."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from itb_ext.evaluation.stored import read_window_predictions
from tests.freqtrade.conftest import (
    CANDLES,
    USER_DATA,
    Run,
    latest_backtest,
    make_userdir,
    run_offline,
    write_config,
)

TIMERANGE = "20190101-20190301"
SMALL = {
    "exchange": {"pair_whitelist": ["BTC/USD"]},
    "max_open_trades": 1,
    "freqai": {"identifier": "itb-risk", "train_period_days": 60, "backtest_period_days": 30},
}
SECTION = json.loads((USER_DATA / "itb-sample-1h.json").read_text())["itb"]
WALLET = 10_000.0


def section_with(risk: dict[str, Any]) -> dict[str, Any]:
    section = copy.deepcopy(SECTION)
    section["risk"] = risk
    return section


def trades_of(run: Run) -> list[dict[str, Any]]:
    assert run.returncode == 0, run.output[-3000:]
    assert "Traceback" not in run.output
    stats = latest_backtest(run.userdir / "backtest_results")["strategy"]["ITBStrategy"]
    trades: list[dict[str, Any]] = stats["trades"]
    return trades


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    """The default risk section (10 % of equity per trade, ATR stop, 5 bps slippage)."""
    folder = tmp_path_factory.mktemp("risk")
    userdir = make_userdir(folder)
    config = write_config(folder, **SMALL, itb=section_with({}))
    return run_offline(
        "backtesting", config, userdir, "--timerange", TIMERANGE, "--export", "trades"
    )


def candles() -> pd.DataFrame:
    return pd.read_feather(CANDLES / "BTC_USD-1h.feather").set_index("date")


def test_no_stake_exceeds_the_configured_fraction_of_the_wallet(backtest: Run) -> None:
    trades = trades_of(backtest)
    assert len(trades) >= 5
    for trade in trades:
        opened = pd.Timestamp(trade["open_date"])
        realised = sum(t["profit_abs"] for t in trades if pd.Timestamp(t["close_date"]) < opened)
        # one trade at a time: nothing else is open; FreqTrade trades 99 % of the wallet
        equity = 0.99 * (WALLET + realised)
        assert trade["stake_amount"] <= 0.10 * equity * (1 + 1e-9), trade
        # sized by the risk layer, not FreqTrade's fixed 1000 stake: the regime halves it
        assert trade["stake_amount"] == pytest.approx(0.10 * equity, rel=1e-6) or trade[
            "stake_amount"
        ] == pytest.approx(0.05 * equity, rel=1e-6), trade
    assert any(t["stake_amount"] < 0.06 * WALLET for t in trades)  # a high-volatility entry


def test_atr_stops_close_trades_and_fills_carry_slippage(backtest: Run) -> None:
    trades = trades_of(backtest)
    bars = candles()
    reasons = {t["exit_reason"] for t in trades}
    assert reasons & {"stop_loss", "trailing_stop_loss"}, reasons
    assert reasons <= {"itb_sell", "stop_loss", "trailing_stop_loss", "force_exit"}
    for trade in trades:
        bar = bars.loc[pd.Timestamp(trade["open_date"])]
        # 5 bps above the open, but never above the candle's high
        assert trade["open_rate"] == pytest.approx(min(bar["open"] * 1.0005, bar["high"]))
        # the stop is never further than the 20 % safety net
        assert trade["profit_ratio"] > -0.21
        if trade["exit_reason"] == "itb_sell":
            exit_bar = bars.loc[pd.Timestamp(trade["close_date"])]
            assert trade["close_rate"] == pytest.approx(
                max(exit_bar["open"] * 0.9995, exit_bar["low"])
            )


def test_protections_from_the_strategy_lock_entries_after_exits(backtest: Run) -> None:
    trades = trades_of(backtest)
    stats = latest_backtest(backtest.userdir / "backtest_results")["strategy"]["ITBStrategy"]
    reasons = [lock["reason"] for lock in stats["locks"]]
    assert any("Cooldown" in r for r in reasons), reasons
    # a 2-candle cooldown: no trade opens within two hours of the previous exit
    for before, after in itertools.pairwise(trades):
        gap = pd.Timestamp(after["open_date"]) - pd.Timestamp(before["close_date"])
        assert gap >= pd.Timedelta(hours=2), (before["close_date"], after["open_date"])


def test_daily_loss_limit_stops_entries_for_the_rest_of_the_utc_day(backtest: Run) -> None:
    """Same predictions (no retraining), a 0.1 % daily loss limit and no other halt."""
    folder = backtest.userdir.parent
    risk = {
        "protections": {
            "max_drawdown": None,
            "stoploss_guard": None,
            "cooldown_candles": 0,
            "daily_loss_limit": 0.001,
        }
    }
    config = write_config(folder, **SMALL, itb=section_with(risk))
    run = run_offline(
        "backtesting", config, backtest.userdir, "--timerange", TIMERANGE, "--export", "trades"
    )
    trades = trades_of(run)
    assert "daily loss limit (0.1% of equity) reached" in run.log
    halted_days = 0
    for trade in trades:
        opened = pd.Timestamp(trade["open_date"])
        day = opened.floor("D")
        lost = -sum(
            t["profit_abs"]
            for t in trades
            if day <= pd.Timestamp(t["close_date"]) <= opened and t is not trade
        )
        equity_now = WALLET + sum(
            t["profit_abs"] for t in trades if pd.Timestamp(t["close_date"]) <= opened
        )
        assert lost < 0.001 * (equity_now + lost), (trade["open_date"], lost)
    for day in {pd.Timestamp(t["close_date"]).floor("D") for t in trades}:
        closed = [t for t in trades if pd.Timestamp(t["close_date"]).floor("D") == day]
        if -sum(t["profit_abs"] for t in closed) > 0.001 * WALLET * 1.1:
            halted_days += 1
    assert halted_days > 0  # the limit was reached at least once, so it was exercised
    assert len(trades) < len(trades_of(backtest)) + 5


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        (
            {"sizing": {"fraction": -0.1}},
            "itb: risk.sizing.fraction: Input should be greater than 0 (got -0.1)",
        ),
        (
            {"sizing": {"mode": "kelly", "kelly_fraction": 1.5}},
            "itb: risk.sizing.kelly_fraction: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            {"sizing": {"mode": "all_in"}},
            "itb: risk.sizing.mode: Input should be 'fixed', 'volatility', 'kelly' or "
            "'volatility_target'",
        ),
    ],
)
def test_bad_risk_settings_stop_the_bot_at_start_up(
    tmp_path: Path, risk: dict[str, Any], message: str, freqtrade_installed: None
) -> None:
    userdir = make_userdir(tmp_path)
    config = write_config(tmp_path, **SMALL, itb=section_with(risk))
    run = run_offline("backtesting", config, userdir, "--timerange", TIMERANGE)
    assert run.returncode != 0
    lines = [line for line in run.output.splitlines() if message in line]
    assert lines, run.output[-2000:]
    assert "Traceback" not in run.stderr
    assert not list((userdir / "backtest_results").glob("*.zip"))
    assert not list((userdir / "models").glob("*"))


NO_HALTS = {
    "protections": {
        "max_drawdown": None,
        "stoploss_guard": None,
        "cooldown_candles": 0,
        "daily_loss_limit": 0.03,
    }
}


def test_freqtrade_and_the_risk_simulation_agree_on_the_same_predictions(backtest: Run) -> None:
    """FreqTrade's backtest and :func:`simulate_with_risk` on the stored predictions.

    Both size with ``itb.risk`` (10 % of equity, halved in the high-volatility regime), stop
    with the trailing ATR stop, pay 0.1 % fee per side and 5 bps slippage, and apply the daily
    loss limit; FreqTrade's own protections are off (they are not simulated). Tolerance of the
    total return: 0.05 percentage points of the wallet, for FreqTrade rounding stop prices and
    amounts to the market's precision (the simulation does not round).
    """
    from itb_ext.config.risk import RiskConfig
    from itb_ext.simulate.risk import simulate_with_risk
    from itb_ext.strategy.setup import ITBSetup

    folder = backtest.userdir.parent
    config = write_config(folder, **SMALL, itb=section_with(NO_HALTS))
    run = run_offline(
        "backtesting", config, backtest.userdir, "--timerange", TIMERANGE, "--export", "trades"
    )
    freqtrade = trades_of(run)

    predictions = read_window_predictions(backtest.userdir / "models" / "itb-risk", "BTC/USD")
    setup = ITBSetup.from_freqtrade_config({"itb": section_with(NO_HALTS)})
    bars = candles().reset_index()
    bars = bars.loc[bars["date"] <= predictions["date"].max()].reset_index(drop=True)
    scores = bars[["date"]].merge(predictions, on="date", how="left")
    signals = setup.signal_frame(scores[setup.score_columns], setup.default_overrides())
    trusted = (scores["do_predict"] == 1).to_numpy()
    simulated = simulate_with_risk(
        bars,
        signals["buy"].to_numpy(dtype=bool) & trusted,
        signals["sell"].to_numpy(dtype=bool) & trusted,  # an exit signal needs trust too
        RiskConfig.model_validate(NO_HALTS),
        fee=0.001,
        wallet=WALLET,
    )
    assert len(freqtrade) >= 5
    assert len(simulated.trades) == len(freqtrade)
    for ours, theirs in zip(simulated.trades, freqtrade, strict=True):
        assert ours.open_date == pd.Timestamp(theirs["open_date"])
        assert ours.close_date == pd.Timestamp(theirs["close_date"])
    freqtrade_return = sum(t["profit_abs"] for t in freqtrade) / WALLET
    print(
        f"{len(freqtrade)} trades; total return FreqTrade {freqtrade_return:.6%}, "
        f"simulation {simulated.total_return:.6%}"
    )
    assert simulated.total_return == pytest.approx(freqtrade_return, abs=0.0005)
