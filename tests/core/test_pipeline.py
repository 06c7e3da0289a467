"""Parsing ITB generator entries and running them in order over a frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.jsonc import loads_jsonc, strip_line_comments
from itb_ext.errors import ConfigError, DataError
from itb_ext.pipeline.steps import ITBPipeline, parse_section, run_steps


def combine_entry(up: str, down: str, name: str, **extra: object) -> dict[str, object]:
    return {
        "generator": "combine",
        "config": {"columns": [up, down], "names": name, "combine": "difference"},
        **extra,
    }


def test_jsonc_comments_are_removed_but_not_inside_strings() -> None:
    text = '{"url": "http://x//y", // trailing comment\n // whole line\n "n": 1}'
    assert loads_jsonc(text) == {"url": "http://x//y", "n": 1}
    assert strip_line_comments('"a\\"//b" // c') == '"a\\"//b" '


def test_jsonc_error_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"cfg\.jsonc: invalid JSON at line 2"):
        loads_jsonc('{"a": 1,\n "b": }', "cfg.jsonc")


def test_column_prefix_selects_and_strips_and_feature_prefix_renames() -> None:
    df = pd.DataFrame({"m_up": [0.7], "m_down": [0.2], "up": [0.0], "down": [1.0]})
    steps = parse_section(
        [combine_entry("up", "down", "score", column_prefix="m", feature_prefix="agg")],
        "signal_sets",
    )
    assert steps[0].input_columns() == ("m_up", "m_down")
    assert steps[0].output_columns() == ("agg_score",)
    out = run_steps(df, steps)
    assert out["agg_score"].tolist() == pytest.approx([0.5])


def test_later_generator_overwrites_a_column_of_the_same_name() -> None:
    df = pd.DataFrame({"u": [0.7], "d": [0.2]})
    steps = parse_section(
        [combine_entry("u", "d", "s"), combine_entry("d", "u", "s")], "signal_sets"
    )
    out = run_steps(df, steps)
    assert list(out.columns) == ["u", "d", "s"]
    assert out["s"].tolist() == pytest.approx([-0.5])


def test_infinite_scores_become_nan_after_the_stage() -> None:
    df = pd.DataFrame({"u": [1.0, 0.5], "d": [-1.0, 0.5]})
    entry = {
        "generator": "combine",
        "config": {"columns": ["u", "d"], "names": "s", "combine": "relative"},
    }
    out = run_steps(df, parse_section([entry], "signal_sets"))
    assert np.isnan(out["s"].iloc[0])
    assert out["s"].iloc[1] == 0.0


def test_custom_generator_in_itb_signature_is_called() -> None:
    df = pd.DataFrame({"close": [1.0, 2.0]})
    entry = {
        "generator": "tests.core.custom_generators.shift:add_constant",
        "config": {"columns": ["close"], "parameter": 2.0},
    }
    steps = parse_section([entry], "feature_sets", {"freq": "1h"})
    out = run_steps(df, steps)
    assert out["close_add"].tolist() == [3.0, 4.0]
    assert list(df.columns) == ["close"]  # the caller's frame is untouched


def test_custom_generator_failure_names_the_entry() -> None:
    entry = {"generator": "tests.core.custom_generators.shift:broken", "config": {}}
    steps = parse_section([entry], "feature_sets")
    with pytest.raises(DataError, match=r"feature_sets\[0\].*ValueError: no such thing"):
        run_steps(pd.DataFrame({"close": [1.0]}), steps)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"generator": "nope", "config": {}},
            r"signal_sets\[0\] \(nope\): unknown generator 'nope'",
        ),
        ({"generator": "topbot", "config": {}}, "deprecated"),
        ({"generator": "highlow2", "config": {}}, "produces labels, not signals"),
        ({"generator": "combine", "config": {}, "colour": 1}, "unknown key 'colour'"),
        ({"config": {}}, "missing required key 'generator'"),
        ({"generator": "no.such.module:fn", "config": {}}, "cannot import module 'no.such.module'"),
        ({"generator": "itb_ext.errors:missing_fn", "config": {}}, "has no function 'missing_fn'"),
        (combine_entry("u", "d", 5), r"signal_sets\[0\] \(combine\): config: names"),
    ],
)
def test_bad_entries_are_rejected_naming_entry_and_key(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_section([entry], "signal_sets")


def test_missing_input_column_names_the_step_and_column() -> None:
    steps = parse_section([combine_entry("u", "d", "s")], "signal_sets")
    with pytest.raises(DataError, match=r"signal_sets\[0\] \(combine\): missing input column 'd'"):
        run_steps(pd.DataFrame({"u": [1.0]}), steps)


def test_pipeline_ignores_other_itb_keys_and_orders_stages() -> None:
    doc = {"venue": "binance", "signal_sets": [combine_entry("u", "d", "s")], "feature_sets": []}
    pipeline = ITBPipeline.from_config(doc)
    assert [name for name, _ in pipeline.stages()] == ["features", "labels", "signals"]
    assert [name for name, _ in pipeline.stages(["signals"])] == ["signals"]
