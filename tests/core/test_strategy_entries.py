"""ITB's signals as FreqTrade's entry and exit columns, without FreqTrade
(``itb_ext.strategy.signals``), on ITB's sample section: ``trade_score = mean(high_30_*) -
mean(low_30_*)``, levels 0.08 / -0.08."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.errors import ConfigError
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.setup import ITBSetup
from itb_ext.strategy.signals import (
    entry_signals,
    exit_signals,
    score_excess,
    signal_parameters,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())
FIXED = SignalOverrides(0.08, -0.08)


def setup(mode: str = "fixed") -> ITBSetup:
    section = copy.deepcopy(SAMPLE["itb"])
    section["thresholds"] = {"mode": mode}
    return ITBSetup.from_freqtrade_config({"itb": section})


def scored(up: list[float], down: list[float], do_predict: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"close": 100.0, "do_predict": do_predict}, index=range(len(up)))
    for algo in ("svc", "lc", "gb"):
        frame[f"high_30_{algo}"] = up
        frame[f"low_30_{algo}"] = down
    return frame


def marks(frame: pd.DataFrame, column: str) -> list[int]:
    return frame[column].fillna(0).astype(int).tolist() if column in frame else [0] * len(frame)


def test_entries_are_marked_where_the_score_passes_the_level_and_the_model_is_trusted() -> None:
    # trade_score: +0.125, +0.0625, -0.125, +0.125 (untrusted), 0.0
    frame = scored([0.5, 0.5, 0.375, 0.625, 0.5], [0.375, 0.4375, 0.5, 0.5, 0.5], [1, 1, 1, 0, 1])
    out = entry_signals(setup(), frame, FIXED, can_short=True)
    assert out["trade_score"].tolist() == [0.125, 0.0625, -0.125, 0.125, 0.0]
    assert marks(out, "enter_long") == [1, 0, 0, 0, 0]
    assert marks(out, "enter_short") == [0, 0, 1, 0, 0]
    assert (out.loc[0, "enter_tag"], out.loc[2, "enter_tag"]) == ("itb_buy", "itb_sell")
    assert pd.isna(out.loc[1, "enter_tag"])
    assert (out["buy_threshold"] == 0.08).all() and (out["sell_threshold"] == -0.08).all()
    # the scores the rule combined, for the chart
    assert out["high_30"].tolist() == [0.5, 0.5, 0.375, 0.625, 0.5]
    assert "enter_long" not in frame  # the caller's frame is left as it was


def test_spot_never_enters_short_and_a_health_pause_blocks_entries() -> None:
    frame = scored([0.5, 0.375, 0.5], [0.375, 0.5, 0.375], [1, 1, 1])
    frame["health_pause"] = [1, 0, 0]
    out = entry_signals(setup(), frame, FIXED, can_short=False)
    assert marks(out, "enter_long") == [0, 0, 1]
    assert "enter_short" not in out


def test_exits_need_a_trusted_prediction_and_mirror_for_shorts() -> None:
    # trade_score: +0.125, -0.125, -0.125 (do_predict 0), 0.0, -0.125 (paused), +0.125
    frame = scored(
        [0.5, 0.375, 0.375, 0.5, 0.375, 0.5],
        [0.375, 0.5, 0.5, 0.5, 0.5, 0.375],
        [1, 1, 0, 1, 1, 1],
    )
    frame["health_pause"] = [0, 0, 0, 0, 1, 0]
    out = exit_signals(setup(), frame, FIXED, can_short=True)
    assert marks(out, "exit_long") == [0, 1, 0, 0, 0, 0]
    assert marks(out, "exit_short") == [1, 0, 0, 0, 0, 1]
    assert out["exit_tag"].iloc[1] == "itb_sell" and out["exit_tag"].iloc[0] == "itb_buy"
    assert out["exit_tag"].iloc[2:5].isna().all()
    # without do_predict (no model yet) nothing is trusted: no exit signal at all
    bare = exit_signals(setup(), frame.drop(columns="do_predict"), FIXED, can_short=True)
    assert marks(bare, "exit_long") == [0] * 6 and marks(bare, "exit_short") == [0] * 6


def test_walk_forward_entries_trade_against_the_levels_of_each_candle() -> None:
    # trade_score +0.125 on every candle; the windows' levels differ
    frame = scored([0.5] * 4, [0.375] * 4, [1] * 4)
    frame["buy_threshold"] = [0.1, 0.2, np.nan, 0.125]
    frame["sell_threshold"] = [-0.1, 0.13, np.nan, -0.1]
    walk_forward = setup("walk_forward")
    out = entry_signals(walk_forward, frame, walk_forward.default_overrides(), can_short=True)
    assert marks(out, "enter_long") == [1, 0, 0, 1]
    assert marks(out, "enter_short") == [0, 1, 0, 0]
    # the levels in force stay as FreqAI returned them
    np.testing.assert_array_equal(out["buy_threshold"], [0.1, 0.2, np.nan, 0.125])


def test_signal_parameters_follow_hyperopt_in_fixed_mode_only() -> None:
    assert signal_parameters(setup(), 0.1, -0.05, 3, "relative") == SignalOverrides(
        0.1, -0.05, 3, "relative"
    )
    walk_forward = setup("walk_forward")
    assert signal_parameters(walk_forward, 0.1, -0.05, 3, "relative") == SignalOverrides(
        0.08, -0.08, 1, "difference"
    )
    with pytest.raises(ConfigError, match="combine_mode: 'ratio' is not one of"):
        signal_parameters(setup(), 0.1, -0.05, 3, "ratio")


def test_score_excess_is_measured_against_the_level_in_force() -> None:
    candle = {"trade_score": 0.3, "buy_threshold": 0.2, "sell_threshold": -0.1}
    params = SignalOverrides(0.1, -0.2)
    assert score_excess(setup(), candle, params, short=False) == pytest.approx(0.2)
    assert score_excess(setup(), candle, params, short=True) == pytest.approx(-0.5)
    walk_forward = setup("walk_forward")
    assert score_excess(walk_forward, candle, params, short=False) == pytest.approx(0.1)
    assert score_excess(walk_forward, candle, params, short=True) == pytest.approx(-0.4)
    assert math.isnan(score_excess(walk_forward, {"trade_score": 0.3}, params, short=False))
    assert math.isnan(score_excess(setup(), {}, params, short=False))
