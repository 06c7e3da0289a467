"""The per-pair edge the demo prints and the report shows (itb_ext.evaluation.edge), on small
synthetic frames with figures worked out by hand."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from itb_ext.evaluation import edge
from itb_ext.evaluation.metrics import Trade
from itb_ext.evaluation.rule_backtest import Costs, backtest_rules
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
TREND = ROOT / "user_data" / "itb-trend-1h.json"
START = pd.Timestamp("2024-03-01", tz="UTC")


def trend_setup(risk: dict[str, Any] | None = None) -> ITBSetup:
    section = json.loads(TREND.read_text())["itb"]
    if risk is not None:
        section["risk"] = risk
    return ITBSetup.from_freqtrade_config({"itb": section, "fee": 0.001, "timeframe": "1h"})


def candles(days: int, drift: float, seed: int = 1) -> pd.DataFrame:
    """Hourly candles from 40 days before START to ``days`` after it."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(START - pd.Timedelta(days=40), periods=(40 + days) * 24, freq="1h")
    close = 100 * np.exp(np.cumsum(rng.normal(drift, 0.004, len(dates))))
    opens = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "date": dates,
            "open": opens,
            "high": np.maximum(opens, close) * 1.002,
            "low": np.minimum(opens, close) * 0.998,
            "close": close,
            "volume": 1.0,
        }
    )


def constant_predictions(setup: ITBSetup, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Every up model says 0.2 and every down model 0.1 (centred scores), all trusted."""
    frame = pd.DataFrame({"date": dates, "do_predict": 1})
    for column in setup.score_columns:
        frame[column] = 0.2 if column.startswith("up_") else 0.1
    return frame


def settings_of(setup: ITBSetup, slippage: float = 0.0005) -> edge.EdgeSettings:
    config = {"fee": 0.001, "timeframe": "1h"}
    found = edge.edge_settings(setup, config, setup.default_overrides())
    return edge.EdgeSettings(
        overrides=found.overrides,
        costs=Costs(fee=0.001, slippage=slippage),
        min_hold=found.min_hold,
        timeframe="1h",
        horizon=24,
    )


# --- the configured settings ------------------------------------------------------------------


def literal_size(path: Path, name: str) -> int:
    """Entries of the tuple or dict literal assigned to ``name`` in a Python file."""
    for node in ast.parse(path.read_text()).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign):
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == name:
            value = node.value
            if isinstance(value, ast.Tuple):
                return len(value.elts)
            if isinstance(value, ast.Dict):
                return len(value.keys)
    raise AssertionError(f"{name} not found in {path}")


def test_the_configurations_tried_are_those_of_the_studies() -> None:
    benchmarks = ROOT / "benchmarks"
    study = benchmarks / "study_edge.py"
    # the gated candidates and the ungated reference run beside them
    candidates = literal_size(study, "CANDIDATES") + study.read_text().count("\nREFERENCE = ")
    variants = literal_size(benchmarks / "study_stationary.py", "VARIANTS")
    assert candidates + variants == edge.CONFIGURATIONS_TRIED


def test_settings_come_from_the_config_and_the_risk_layer() -> None:
    setup = trend_setup()
    found = edge.edge_settings(setup, {"fee": 0.002}, setup.default_overrides())
    assert found.costs == Costs(fee=0.002, slippage=0.0005)  # the risk layer's 5 bps default
    assert (found.levels.buy_level, found.levels.sell_level) == (0.02, -0.02)
    assert found.horizon == 24 and found.gate_window == 20
    assert found.trials == edge.CONFIGURATIONS_TRIED
    off = trend_setup({"enabled": False, "min_hold_candles": 5})
    found = edge.edge_settings(off, {}, off.default_overrides())
    assert found.costs == Costs(fee=0.001, slippage=0.0) and found.min_hold == 0
    assert found.costs_text() == "fee 0.10 % and slippage 0.00 % per fill"


# --- the signal stage as backtested -----------------------------------------------------------


def test_scores_start_from_freqais_zeros_before_the_first_window() -> None:
    """FreqAI hands the strategy zeros before its first prediction, so the EMA-12 smoothing
    starts from zero: after k predicted candles trade_score = 0.1 (1 - (1 - a)^k), a = 2/13."""
    setup = trend_setup({"enabled": False})
    frame = candles(70, 0.0005)
    period = (START, START + pd.Timedelta(days=70))
    dates = pd.date_range(START, period[1], freq="1h", inclusive="left")
    predictions = constant_predictions(setup, dates)
    predictions.loc[5, "do_predict"] = 0
    signals = edge.backtested_signals(setup, settings_of(setup), frame, predictions, period, 3)
    k = np.arange(1, len(dates) + 1)
    expected = 0.1 * (1 - (1 - 2 / 13) ** k)
    expected[5] = np.nan  # FreqAI did not trust it: no entry there
    np.testing.assert_allclose(signals.trade_score, expected, rtol=1e-9)
    assert len(signals.candles) == len(dates)
    assert signals.candles["date"].iloc[0] == START
    # risk layer off: all of the pair's share
    np.testing.assert_array_equal(signals.stake, np.ones(len(dates)))


def test_the_gate_reads_the_days_before_the_period() -> None:
    setup = trend_setup({"enabled": False})
    period = (START, START + pd.Timedelta(days=70))
    dates = pd.date_range(START, period[1], freq="1h", inclusive="left")
    rising, falling = candles(70, 0.001), candles(70, -0.001)
    for frame, is_open in ((rising, True), (falling, False)):
        predictions = constant_predictions(setup, dates)
        signals = edge.backtested_signals(setup, settings_of(setup), frame, predictions, period, 1)
        assert signals.gate is not None
        # the first candle already knows 20 completed days before START
        assert bool(signals.gate[0]) is is_open and bool(signals.gate.mean() > 0.9) is is_open


def test_stakes_are_the_risk_layers_fraction_of_the_pairs_share() -> None:
    fixed = {
        "sizing": {"mode": "fixed", "fraction": 0.1, "max_fraction": 0.5},
        "regime": None,
        "stop": None,
    }
    setup = trend_setup(fixed)
    period = (START, START + pd.Timedelta(days=70))
    dates = pd.date_range(START, period[1], freq="1h", inclusive="left")
    predictions = constant_predictions(setup, dates)
    frame = candles(70, 0.0)
    three = edge.backtested_signals(setup, settings_of(setup), frame, predictions, period, 3)
    np.testing.assert_allclose(three.stake, 0.3)  # 10 % of equity is 30 % of a third of it
    big = dict(fixed, sizing={"mode": "fixed", "fraction": 0.5, "max_fraction": 0.5})
    setup = trend_setup(big)
    three = edge.backtested_signals(setup, settings_of(setup), frame, predictions, period, 3)
    np.testing.assert_allclose(three.stake, 1.0)  # never more than the share


# --- FreqTrade's figures ----------------------------------------------------------------------


def trade(opened: str, closed: str, ratio: float, stake: float = 1000.0) -> Trade:
    return Trade(
        pair="BTC/USD",
        open_date=pd.Timestamp(opened, tz="UTC"),
        close_date=pd.Timestamp(closed, tz="UTC"),
        amount=stake / 100.0,
        open_rate=100.0,
        profit_abs=stake * ratio,
        profit_ratio=ratio,
        entry_fee=0.0,
    )


def test_exposure_is_the_share_of_the_period_in_a_position() -> None:
    period = (pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-11", tz="UTC"))
    trades = [
        trade("2024-01-01 00:00", "2024-01-02 00:00", 0.01),  # a day
        trade("2024-01-05 12:00", "2024-01-06 00:00", 0.01),  # half a day
        trade("2024-01-10 12:00", "2024-01-12 00:00", 0.01),  # half a day inside the period
    ]
    assert edge.exposure(trades, period) == pytest.approx(2 / 10)
    assert edge.exposure([], period) == 0.0


def test_freqtrade_figures_of_one_pair_on_its_share() -> None:
    period = (START, START + pd.Timedelta(days=73))
    frame = candles(73, 0.0)
    trades = [
        trade("2024-03-02 00:00", "2024-03-03 00:00", 0.02),
        trade("2024-03-10 00:00", "2024-03-11 00:00", -0.01),
        trade("2024-03-20 00:00", "2024-03-20 12:00", 0.04),
    ]
    figures = edge.freqtrade_figures(trades, frame, period, 5000.0, "BTC/USD")
    # the profits 20 - 10 + 40 on 5000
    assert figures["return_%"] == pytest.approx(100 * 50 / 5000)
    assert figures["trades_per_year"] == pytest.approx(3 / (73 / 365))
    assert figures["exposure_%"] == pytest.approx(100 * 2.5 / 73)
    assert figures["win_rate_%"] == pytest.approx(100 * 2 / 3)
    assert figures["profit_factor"] == pytest.approx(60 / 10)
    assert figures["average_trade_%"] == pytest.approx(100 * 0.05 / 3)


# --- every figure of a pair and the text ------------------------------------------------------


@pytest.fixture(scope="module")
def pair_edge() -> edge.PairEdge:
    setup = trend_setup({"enabled": False})
    period = (START, START + pd.Timedelta(days=80))
    dates = pd.date_range(START, period[1], freq="1h", inclusive="left")
    rng = np.random.default_rng(3)
    predictions = constant_predictions(setup, dates)
    for column in setup.score_columns:
        predictions[column] = rng.normal(0.0, 0.1, len(dates))
    settings = settings_of(setup)
    signals = edge.backtested_signals(setup, settings, candles(80, 0.0003), predictions, period, 1)
    trades = [trade("2024-03-05 00:00", "2024-03-06 00:00", 0.01)]
    return edge.pair_edge("BTC/USD", signals, trades, period, 10_000.0, settings)


def test_buy_and_hold_pays_both_fills_fee_and_slippage(pair_edge: edge.PairEdge) -> None:
    frame = candles(80, 0.0003)
    inside = frame[frame["date"] >= START].reset_index(drop=True)
    first, last = inside["open"].iloc[0] * 1.0005, inside["close"].iloc[-1] * 0.9995
    expected = 100 * (last * 0.999 / (first * 1.001) - 1)
    assert pair_edge.baselines[edge.BUY_AND_HOLD]["return_%"] == pytest.approx(expected)
    assert set(pair_edge.baselines) == set(edge.BASELINES)
    assert pair_edge.luck is not None
    assert pair_edge.luck.trials == edge.CONFIGURATIONS_TRIED
    assert pair_edge.luck.placebo_shifts == 200
    assert pair_edge.verdict == pair_edge.luck.verdict


def test_the_simulated_strategy_is_the_rule_on_the_backtested_score(
    pair_edge: edge.PairEdge,
) -> None:
    setup = trend_setup({"enabled": False})
    period = (START, START + pd.Timedelta(days=80))
    dates = pd.date_range(START, period[1], freq="1h", inclusive="left")
    rng = np.random.default_rng(3)
    predictions = constant_predictions(setup, dates)
    for column in setup.score_columns:
        predictions[column] = rng.normal(0.0, 0.1, len(dates))
    settings = settings_of(setup)
    signals = edge.backtested_signals(setup, settings, candles(80, 0.0003), predictions, period, 1)
    score, gate = signals.trade_score, signals.gate
    assert gate is not None
    entry = (score >= 0.02) & gate  # the preset's levels, by hand
    exit_ = (score <= -0.02) | ~gate
    again = backtest_rules(signals.candles, entry, exit_, settings.costs)
    assert pair_edge.luck is not None
    assert pair_edge.simulated["sharpe"] == pytest.approx(again.sharpe)
    assert pair_edge.luck.sharpe == pytest.approx(again.sharpe)
    assert pair_edge.luck.trades == len(again.trades) > 0


def test_results_are_plain_json(pair_edge: edge.PairEdge) -> None:
    row = pair_edge.row()
    text = json.dumps(row, allow_nan=False)  # NaN and infinity became null
    assert json.loads(text)["pair"] == "BTC/USD"
    assert row["strategy"]["trades"] == 1


def context_of(edges: list[edge.PairEdge]) -> edge.EdgeContext:
    setup = trend_setup({"enabled": False})
    period = (START, START + pd.Timedelta(days=80))
    return edge.EdgeContext(period, settings_of(setup), 10_000.0, "USD")


def test_the_text_says_walk_forward_the_costs_and_a_verdict(pair_edge: edge.PairEdge) -> None:
    text = edge.edge_text([pair_edge], context_of([pair_edge]))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len(lines) < 60
    assert lines[0].startswith("Walk-forward, out of sample, 2024-03-01 .. 2024-05-20")
    assert "fee 0.10 % and slippage 0.05 % per fill" in text
    assert f"BTC/USD: {pair_edge.verdict}" in " ".join(text.split())
    assert "== Conclusion" in text and f"deflated Sharpe (N = {edge.CONFIGURATIONS_TRIED})" in text
    assert "placebo percentile (200 shifts)" in text


def test_yardsticks_are_marked_met_or_not_met_from_the_figures() -> None:
    good = {
        "sharpe": 1.6,
        "max_drawdown_%": 19.9,
        "win_rate_%": 52.5,
        "profit_factor": math.inf,
        "average_trade_%": 0.31,
    }
    assert all(y.met(good) for y in edge.YARDSTICKS)
    bad = {
        "sharpe": 1.5,
        "max_drawdown_%": 20.0,
        "win_rate_%": 52.0,
        "profit_factor": math.nan,
        "average_trade_%": -0.5,
    }
    assert not any(y.met(bad) for y in edge.YARDSTICKS)


def test_yardstick_lines_say_met_per_pair(pair_edge: edge.PairEdge) -> None:
    lines = edge.yardstick_lines([pair_edge])
    assert lines[0].split() == ["BTC/USD"]
    sharpe = pair_edge.strategy["sharpe"]
    word = "met" if sharpe > 1.5 else "not met"
    assert lines[1].split("Sharpe > 1.5", 1)[1].strip() == word


def test_equal_shares_grow_on_their_own() -> None:
    days = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")

    class Run:
        def __init__(self, values: list[float]) -> None:
            self.daily_equity = pd.Series(values, index=days)

    runs = [Run([1.0, 1.1, 1.21, 1.1]), Run([1.0, 0.9, 0.9, 1.0])]
    figures = edge.equal_share_figures(runs)  # type: ignore[arg-type]
    equity = np.array([1.0, 1.0, 1.055, 1.05])
    returns = equity[1:] / equity[:-1] - 1
    assert figures["return_%"] == pytest.approx(5.0)
    assert figures["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(365))
    assert figures["max_drawdown_%"] == pytest.approx(100 * (1 - 1.05 / 1.055))


def test_a_period_too_short_for_the_placebo_has_every_other_figure() -> None:
    setup = trend_setup({"enabled": False})
    period = (START, START + pd.Timedelta(days=59))
    dates = pd.date_range(START, period[1], freq="1h", inclusive="left")
    settings = settings_of(setup)
    frame = candles(59, 0.001)
    predictions = constant_predictions(setup, dates)
    signals = edge.backtested_signals(setup, settings, frame, predictions, period, 1)
    short = edge.pair_edge("BTC/USD", signals, [], period, 10_000.0, settings)
    assert short.luck is None
    assert short.verdict.endswith("; no luck tests (they need 60 days or more)")
    hold = short.baselines[edge.BUY_AND_HOLD]["sharpe"]
    mine = short.simulated["sharpe"]
    assert short.verdict.startswith("beats buy-and-hold" if mine > hold else "")
    text = edge.edge_text([short], edge.EdgeContext(period, settings, 10_000.0))
    assert "  placebo percentile (200 shifts)" in text
    row = next(line for line in text.splitlines() if line.startswith("  deflated Sharpe"))
    assert row.split()[-1] == "n/a"
    assert json.loads(json.dumps(short.row()))["luck"] is None
