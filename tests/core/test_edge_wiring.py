"""The trend preset's signal stage as the strategy runs it: the regime gate reads the candles,
AND-s the buy and forces the sell (fixed and walk-forward levels), and centred scores."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from itb_ext.algorithms import train_score_models
from itb_ext.errors import ConfigError
from itb_ext.signals.levels import BUY_LEVEL, SELL_LEVEL
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy import signals
from itb_ext.strategy.charts import plot_config
from itb_ext.strategy.parameters import start_decision
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
PRESET = json.loads((ROOT / "user_data" / "itb-trend-1h.json").read_text())


def setup_of(**changes: Any) -> ITBSetup:
    doc = copy.deepcopy(PRESET)
    doc["itb"].update(changes.pop("itb", {}))
    doc.update(changes)
    return ITBSetup.from_freqtrade_config(doc)


def candles(days: int = 30, falling_from: int | None = None) -> pd.DataFrame:
    """1h candles rising 1 % a day, falling 3 % a day from day ``falling_from`` on."""
    n = 24 * days
    day = np.arange(n) // 24
    rate = np.full(n, 0.01)
    if falling_from is not None:
        rate[day >= falling_from] = -0.03
    close = 100 * np.exp(np.cumsum(np.log1p(rate / 24)))
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": 1.0,
        }
    )


def with_scores(frame: pd.DataFrame, setup: ITBSetup, up: float, down: float) -> pd.DataFrame:
    out = frame.copy()
    for column in setup.score_columns:
        out[column] = up if column.startswith("up_") else down
    out["do_predict"] = 1
    return out


def test_the_gate_reads_the_candles_and_the_rule_obeys_it() -> None:
    setup = setup_of()
    assert setup.candle_inputs == ("date", "close")
    assert setup.gate_column == "trend_gate"
    # a steady score well above the entry level; the trend turns down on day 24
    frame = with_scores(candles(30, falling_from=24), setup, up=0.10, down=-0.10)
    out = signals.trade_signals(setup, frame, setup.default_overrides())
    gate = out["trend_gate"].to_numpy()
    # closed until 20 daily closes are complete (the 23:00 candle of day 19 sees day 19's close)
    assert not gate[: 24 * 19 + 23].any()
    assert gate[24 * 19 + 23]
    # the first day of falling closes brings the close below the 20-day mean a few days later
    closes = frame.set_index("date")["close"].resample("1D").last()
    above = closes > closes.rolling(20).mean()
    first_below = int(np.flatnonzero(~above.to_numpy() & (np.arange(len(above)) >= 20))[0])
    assert not gate[24 * first_below + 23 :].any()
    assert gate[24 * first_below + 22]
    np.testing.assert_array_equal(out["buy"].to_numpy(), gate)  # buy only inside the gate
    np.testing.assert_array_equal(out["sell"].to_numpy(), ~gate)  # a closed gate sells


def test_walk_forward_levels_also_obey_the_gate() -> None:
    setup = setup_of(itb={"thresholds": {"mode": "walk_forward"}})
    frame = with_scores(candles(30, falling_from=24), setup, up=0.10, down=-0.10)
    frame[BUY_LEVEL], frame[SELL_LEVEL] = 0.05, -0.05
    fixed = signals.trade_signals(setup_of(), frame, setup.default_overrides())
    walked = signals.trade_signals(setup, frame, setup.default_overrides())
    np.testing.assert_array_equal(walked["buy"].to_numpy(), fixed["trend_gate"].to_numpy())
    np.testing.assert_array_equal(walked["sell"].to_numpy(), ~fixed["trend_gate"].to_numpy())


def test_entries_draw_the_gate_and_stored_predictions_still_give_the_score() -> None:
    setup = setup_of()
    frame = with_scores(candles(25), setup, up=0.04, down=0.01)
    out = signals.entry_signals(setup, frame, setup.default_overrides(), can_short=False)
    assert set(out["trend_gate"].unique()) <= {0.0, 1.0}
    assert "gate trend_gate" in plot_config(setup)["subplots"]
    # the score alone, from columns that hold no candles (stored predictions)
    score = setup.trade_score(frame[setup.score_columns], setup.default_overrides())
    np.testing.assert_allclose(score.dropna(), 0.03, rtol=0, atol=1e-12)


def test_a_gate_in_futures_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"gate: a regime gate is for long positions"):
        setup_of(trading_mode="futures")


def test_a_buy_level_not_above_the_sell_level_is_refused_at_start() -> None:
    doc = copy.deepcopy(PRESET)
    doc["itb"]["signal_sets"][-1]["config"]["parameters"] = {
        "buy_signal_threshold": -0.02,
        "sell_signal_threshold": 0.02,
    }
    setup = ITBSetup.from_freqtrade_config(doc)
    config = {**doc, "freqai": {"identifier": "x"}, "exchange": {"pair_whitelist": ["A/B"]}}
    with pytest.raises(ConfigError, match=r"buy_threshold \(-0\.02\) must be above sell_thr"):
        start_decision(setup, config, {}, None)
    doc["itb"]["signal_sets"][-1]["config"]["parameters"] = {
        "buy_signal_threshold": 0.02,
        "sell_signal_threshold": -0.02,
    }
    assert start_decision(ITBSetup.from_freqtrade_config(doc), config, {}, None).values


def test_the_preset_trains_centred_scores() -> None:
    setup = setup_of()
    assert setup.raw.centred_scores
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    labels = pd.DataFrame({"up_3": X["a"] > 0.8, "down_3": X["b"] < -0.8})
    models = train_score_models(X, labels, setup.algorithms, centred=setup.raw.centred_scores)
    rates = models.base_rates()
    scores = models.predict(X)
    for column in scores.columns:
        label = column.rsplit("_", 1)[0]
        # centred: the mean prediction is near zero, not near the base rate
        assert abs(scores[column].mean()) < 0.05 < rates[label]
    overrides = SignalOverrides(0.02, -0.02, combine_mode="difference")
    assert setup.trade_score(scores, overrides).notna().any()
