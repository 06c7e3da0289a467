"""Hyperopt's signal parameters applied to the typed signal steps (``itb_ext.signals.tuning``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.signals import CombineConfig, SmoothenConfig, ThresholdRuleConfig
from itb_ext.errors import ConfigError
from itb_ext.pipeline.steps import parse_section, run_steps
from itb_ext.signals.tuning import (
    SignalOverrides,
    configured_parameters,
    smoothing_step,
    tuned_signal_steps,
)

SIGNALS = [
    {
        "generator": "combine",
        "config": {"columns": ["up", "down"], "names": "trade_score", "combine": "difference"},
    },
    {
        "generator": "threshold_rule",
        "config": {
            "columns": "trade_score",
            "names": ["buy", "sell"],
            "parameters": {"buy_signal_threshold": 0.1, "sell_signal_threshold": -0.1},
        },
    },
]
SCORES = pd.DataFrame({"up": [0.2, 0.6, 0.8, 0.4], "down": [0.4, 0.2, 0.2, 0.6]})


def steps(signals: list[dict] | None = None) -> tuple:
    return parse_section(signals or SIGNALS, "signal_sets")


def test_thresholds_and_combine_mode_replace_the_configured_ones() -> None:
    tuned = tuned_signal_steps(steps(), 1, 0, SignalOverrides(0.3, -0.15, 1, "relative"))
    assert [s.generator for s in tuned] == ["combine", "threshold_rule"]
    rule = tuned[1].config
    assert isinstance(rule, ThresholdRuleConfig)
    assert (rule.parameters.buy_signal_threshold, rule.parameters.sell_signal_threshold) == (
        0.3,
        -0.15,
    )
    out = run_steps(SCORES, tuned)
    # relative: (u - d) / (u + d)
    np.testing.assert_allclose(out["trade_score"], [-1 / 3, 0.5, 0.6, -0.2])
    assert out["buy"].tolist() == [False, True, True, False]
    assert out["sell"].tolist() == [True, False, False, True]


def test_smoothing_inserts_one_typed_step_per_combine_input() -> None:
    configured = steps()
    tuned = tuned_signal_steps(configured, 1, 0, SignalOverrides(0.1, -0.1, 2, "difference"))
    assert [s.where for s in tuned] == [
        "smoothing_window[0] (smoothen)",
        "smoothing_window[1] (smoothen)",
        "signal_sets[0] (combine)",
        "signal_sets[1] (threshold_rule)",
    ]
    assert tuned[0].config == SmoothenConfig(columns=("up",), names="up_sm2", window=2)
    combine = tuned[2].config
    assert isinstance(combine, CombineConfig)
    assert combine.columns == ("up_sm2", "down_sm2")
    # the configured steps are left as they were
    assert configured[0].config == CombineConfig(
        columns=("up", "down"), names="trade_score", combine="difference"
    )
    out = run_steps(SCORES, tuned)
    # rolling means over 2 candles (the first over one): up 0.2, 0.4, 0.7, 0.6; down 0.4, 0.3,
    # 0.2, 0.4
    np.testing.assert_allclose(out["trade_score"], [-0.2, 0.1, 0.5, 0.2])


def test_a_smoothing_step_is_the_rolling_mean_of_its_column() -> None:
    step = smoothing_step("up", 3, "here")
    out = step.run(SCORES)
    # min_periods = 3 // 2 = 1
    np.testing.assert_allclose(out["up_sm3"], [0.2, 0.4, 1.6 / 3, 0.6])


def test_without_a_combine_only_the_thresholds_change() -> None:
    rule_only = [dict(SIGNALS[1], config=dict(SIGNALS[1]["config"], columns="up"))]
    tuned = tuned_signal_steps(steps(rule_only), 0, None, SignalOverrides(0.5, 0.3, 4, "relative"))
    assert len(tuned) == 1
    out = run_steps(SCORES, tuned)
    assert out["buy"].tolist() == [False, True, True, False]
    assert out["sell"].tolist() == [True, False, False, False]


def test_configured_parameters_read_the_rule_and_the_combine() -> None:
    configured = steps()
    rule, combine = configured[1].config, configured[0].config
    assert isinstance(rule, ThresholdRuleConfig) and isinstance(combine, CombineConfig)
    assert configured_parameters(rule, combine) == SignalOverrides(0.1, -0.1, 1, "difference")
    # ITB's empty mode computes no_combine
    empty = combine.model_copy(update={"combine": ""})
    assert configured_parameters(rule, empty).combine_mode == "no_combine"
    unset = rule.model_copy(
        update={"parameters": rule.parameters.model_copy(update={"sell_signal_threshold": None})}
    )
    with pytest.raises(
        ConfigError, match=r"threshold_rule needs parameters\.sell_signal_threshold"
    ):
        configured_parameters(unset, combine)
