"""Exact values of ITB's score aggregation and threshold rules on tiny frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.base import validate
from itb_ext.config.signals import (
    CombineConfig,
    SmoothenConfig,
    ThresholdRule2Config,
    ThresholdRuleConfig,
)
from itb_ext.errors import ConfigError, DataError
from itb_ext.signals.rules import generate_threshold_rule, generate_threshold_rule2
from itb_ext.signals.scores import generate_combine, generate_smoothen

NAN = float("nan")


def smoothen(df: pd.DataFrame, **cfg: object) -> list[float]:
    out = generate_smoothen(df, validate(SmoothenConfig, {"names": "s", **cfg}, "test"))
    return out["s"].tolist()


def combine(up: list[float], down: list[float], **cfg: object) -> list[float]:
    df = pd.DataFrame({"u": up, "d": down})
    raw = {"columns": ["u", "d"], "names": "score", **cfg}
    return generate_combine(df, validate(CombineConfig, raw, "test"))["score"].tolist()


def assert_same(actual: list[float], expected: list[float]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e, abs=1e-15), (
            actual,
            expected,
        )


def test_smoothen_averages_columns_ignoring_nan() -> None:
    df = pd.DataFrame({"a": [0.2, NAN, NAN], "b": [0.4, 0.6, NAN]})
    assert_same(smoothen(df, columns=["a", "b"]), [0.3, 0.6, NAN])


def test_smoothen_accepts_a_single_column_as_string() -> None:
    df = pd.DataFrame({"a": [0.1, 0.5]})
    assert_same(smoothen(df, columns="a"), [0.1, 0.5])


def test_smoothen_int_window_is_rolling_mean_with_half_window_min_periods() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0]})
    # W=4: min_periods 2, so row 0 is NaN, row 1 = mean(1,2), row 3 = mean(1..4), row 4 = mean(2..5)
    assert_same(smoothen(df, columns=["a"], window=4), [NAN, 1.5, 2.0, 2.5, 3.5])


def test_smoothen_float_window_is_exponential_mean_without_adjustment() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0, 4.0]})
    alpha = 2 / (3.0 + 1)
    y1 = (1 - alpha) * 1.0 + alpha * 2.0
    y2 = (1 - alpha) * y1 + alpha * 4.0
    # span 3.0: min_periods = 1, so the first row is already valid
    assert_same(smoothen(df, columns=["a"], window=3.0), [1.0, y1, y2])


def test_smoothen_point_threshold_binarises_and_counts_nan_as_below() -> None:
    df = pd.DataFrame({"a": [0.25, 0.24, NAN, 0.9]})
    assert_same(smoothen(df, columns=["a"], point_threshold=0.25), [1.0, 0.0, 0.0, 1.0])
    # then a rolling mean over the 0/1 values
    assert_same(smoothen(df, columns=["a"], point_threshold=0.25, window=2), [1.0, 0.5, 0.0, 0.5])


def test_smoothen_zero_point_threshold_means_not_set_as_in_itb() -> None:
    df = pd.DataFrame({"a": [0.3, -0.1]})
    assert_same(smoothen(df, columns=["a"], point_threshold=0), [0.3, -0.1])


def test_combine_difference() -> None:
    assert_same(combine([0.7, 0.1, NAN], [0.2, 0.6, 0.5], combine="difference"), [0.5, -0.5, NAN])


def test_combine_relative_is_difference_over_sum_and_nan_when_both_zero() -> None:
    assert_same(
        combine([0.6, 0.0, 0.3, 0.0], [0.2, 0.0, 0.0, 0.5], combine="relative"),
        [0.5, NAN, 1.0, -1.0],
    )


def test_combine_no_combine_takes_the_larger_side_with_sign() -> None:
    # u >= d -> u; else -d; NaN up -> -d; NaN down -> NaN (u >= NaN is False)
    up = [0.6, 0.3, 0.4, NAN, 0.5]
    down = [0.2, 0.7, 0.4, 0.3, NAN]
    expected = [0.6, -0.7, 0.4, -0.3, NAN]
    assert_same(combine(up, down, combine="no_combine"), expected)
    assert_same(combine(up, down), expected)
    assert_same(combine(up, down, combine=""), expected)


def test_combine_coefficient_then_constant() -> None:
    assert_same(combine([0.7], [0.2], combine="difference", coefficient=2, constant=-0.01), [0.99])


def test_combine_zero_coefficient_is_ignored_as_in_itb() -> None:
    assert_same(combine([0.7], [0.2], combine="difference", coefficient=0, constant=0), [0.5])


def test_combine_rejects_unknown_mode_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"combine.*'diff'"):
        validate(CombineConfig, {"columns": ["u", "d"], "names": "s", "combine": "diff"}, "x")


def test_combine_requires_exactly_two_columns() -> None:
    with pytest.raises(ConfigError, match="columns"):
        validate(CombineConfig, {"columns": ["u", "d", "e"], "names": "s"}, "x")


def rule(
    scores: list[float], buy: float | None, sell: float | None, columns: object
) -> pd.DataFrame:
    params = {}
    if buy is not None:
        params["buy_signal_threshold"] = buy
    if sell is not None:
        params["sell_signal_threshold"] = sell
    cfg = validate(
        ThresholdRuleConfig,
        {"columns": columns, "names": ["buy", "sell"], "parameters": params},
        "test",
    )
    return generate_threshold_rule(pd.DataFrame({"s": scores}), cfg)


def test_threshold_rule_is_inclusive_and_nan_never_signals() -> None:
    out = rule([0.08, 0.0799, -0.08, -0.0799, NAN], 0.08, -0.08, "s")
    assert out["buy"].tolist() == [True, False, False, False, False]
    assert out["sell"].tolist() == [False, False, True, False, False]
    assert out["buy"].dtype == bool


def test_threshold_rule_accepts_a_one_element_list_of_columns() -> None:
    out = rule([0.5, -0.5], 0.1, -0.1, ["s"])
    assert out["buy"].tolist() == [True, False]
    assert out["sell"].tolist() == [False, True]


def test_threshold_rule_missing_threshold_never_fires() -> None:
    out = rule([0.5, -0.5], None, -0.1, "s")
    assert out["buy"].tolist() == [False, False]
    assert out["sell"].tolist() == [False, True]


def test_threshold_rule_rejects_two_columns() -> None:
    with pytest.raises(ConfigError, match="columns"):
        rule([0.5], 0.1, -0.1, ["s", "t"])


def test_threshold_rule2_needs_both_scores() -> None:
    df = pd.DataFrame({"a": [0.05, 0.05, -0.05, -0.06, NAN], "b": [0.0, -0.01, 0.0, 0.01, 0.0]})
    cfg = validate(
        ThresholdRule2Config,
        {
            "columns": ["a", "b"],
            "names": ["buy", "sell"],
            "parameters": {
                "buy_signal_threshold": 0.05,
                "buy_signal_threshold_2": 0.0,
                "sell_signal_threshold": -0.05,
                "sell_signal_threshold_2": 0.0,
            },
        },
        "test",
    )
    out = generate_threshold_rule2(df, cfg)
    assert out["buy"].tolist() == [True, False, False, False, False]
    assert out["sell"].tolist() == [False, False, True, False, False]


def test_signals_do_not_depend_on_the_index() -> None:
    df = pd.DataFrame({"a": [0.1, 0.3, 0.2]}, index=pd.Index([10, 20, 30]))
    cfg = validate(SmoothenConfig, {"columns": ["a"], "names": "s", "window": 2}, "t")
    out = generate_smoothen(df, cfg)
    assert list(out.index) == [10, 20, 30]
    np.testing.assert_allclose(out["s"].to_numpy(), [0.1, 0.2, 0.25])


def test_smoothen_exponential_mean_carries_over_missing_scores_with_decayed_weight() -> None:
    # span 3 -> alpha 0.5; after one NaN the old weight has decayed twice: d = 0.25,
    # y = (0.25 * 1 + 0.5 * 3) / (0.25 + 0.5)
    df = pd.DataFrame({"a": [1.0, NAN, 3.0, NAN]})
    y2 = (0.25 * 1.0 + 0.5 * 3.0) / 0.75
    assert_same(smoothen(df, columns=["a"], window=3.0), [1.0, 1.0, y2, y2])


def test_smoothen_exponential_mean_starts_at_first_observation() -> None:
    df = pd.DataFrame({"a": [NAN, 2.0, 4.0]})
    assert_same(smoothen(df, columns=["a"], window=3.0), [NAN, 2.0, 3.0])


def gated_rule(scores: list[float], gate: list[object]) -> pd.DataFrame:
    cfg = validate(
        ThresholdRuleConfig,
        {
            "columns": "s",
            "names": ["buy", "sell"],
            "parameters": {"buy_signal_threshold": 0.1, "sell_signal_threshold": -0.1},
            "gate": "g",
        },
        "test",
    )
    return generate_threshold_rule(pd.DataFrame({"s": scores, "g": gate}), cfg)


def test_a_closed_gate_blocks_buys_and_forces_sells() -> None:
    # open, closed, open, closed, missing (closed)
    out = gated_rule([0.5, 0.5, -0.5, 0.0, 0.5], [1.0, 0.0, 1.0, 0.0, NAN])
    assert out["buy"].tolist() == [True, False, False, False, False]
    assert out["sell"].tolist() == [False, True, True, True, True]
    assert out["buy"].dtype == bool and out["sell"].dtype == bool
    boolean = gated_rule([0.5, 0.5, -0.5], [True, False, True])
    assert boolean["buy"].tolist() == [True, False, False]
    assert boolean["sell"].tolist() == [False, True, True]


def test_the_gate_is_an_input_column_of_the_rule_only_when_set() -> None:
    raw = {"columns": "s", "names": ["buy", "sell"]}
    assert validate(ThresholdRuleConfig, raw, "t").input_columns() == ("s",)
    gated = validate(ThresholdRuleConfig, {**raw, "gate": "g"}, "t")
    assert gated.input_columns() == ("s", "g")
    with pytest.raises(DataError, match="missing input column 'g'"):
        generate_threshold_rule(pd.DataFrame({"s": [0.5]}), gated)
    with pytest.raises(DataError, match="gate column 'g' is not yes/no"):
        generate_threshold_rule(pd.DataFrame({"s": [0.5], "g": ["up"]}), gated)


def test_threshold_rule2_with_a_gate() -> None:
    df = pd.DataFrame({"a": [0.1, 0.1, -0.1], "b": [0.1, 0.1, -0.1], "g": [1, 0, 1]})
    cfg = validate(
        ThresholdRule2Config,
        {
            "columns": ["a", "b"],
            "names": ["buy", "sell"],
            "parameters": {
                "buy_signal_threshold": 0.1,
                "buy_signal_threshold_2": 0.1,
                "sell_signal_threshold": -0.1,
                "sell_signal_threshold_2": -0.1,
            },
            "gate": "g",
        },
        "test",
    )
    assert cfg.input_columns() == ("a", "b", "g")
    out = generate_threshold_rule2(df, cfg)
    assert out["buy"].tolist() == [True, False, False]
    assert out["sell"].tolist() == [False, True, True]
