"""Exact values and invariants of the legacy ``highlow`` labels."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.labels import HighlowConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.labels.highlow import generate_highlow

NAN = float("nan")
NA = None

RISES = ["10", "15", "20", "25", "30"]
CALMS = ["01", "02", "03", "04", "05"]


def highlow(close: list[float], high: list[float], low: list[float], h: int) -> pd.DataFrame:
    df = pd.DataFrame({"close": close, "high": high, "low": low})
    return generate_highlow(df, validate(HighlowConfig, {"horizon": h}, "test"))


def flags(out: pd.DataFrame, row: int, names: list[str]) -> list[Any]:
    values = []
    for name in names:
        col = out[name]
        assert str(col.dtype) == "boolean"
        v = col.iloc[row]
        values.append(None if v is pd.NA else bool(v))
    return values


# close 100 everywhere, H = 2. Exact binary values: 101 -> +1.0 %, 100.25 -> +0.25 %,
# 99 -> -1.0 %, 99.875 -> -0.125 %.
CLOSE = [100.0] * 5
HIGH = [500.0, 101.0, 100.25, 99.0, 100.0]
LOW = [1.0, 99.5, 99.0, 99.875, 100.5]


def test_highlow_names_columns_like_itb() -> None:
    out = highlow(CLOSE, HIGH, LOW, 2)
    assert list(out.columns) == [
        "high_max_2",
        *[f"high_{s}" for s in RISES + CALMS],
        "low_min_2",
        *[f"low_{s}" for s in CALMS + RISES],
    ]
    assert out["high_max_2"].dtype == "float64"
    assert out["low_min_2"].dtype == "float64"


def test_highlow_future_max_and_min_in_percent_of_close() -> None:
    out = highlow(CLOSE, HIGH, LOW, 2)
    # row 0: max(101, 100.25) = 101 -> +1 %; min(99.5, 99) = 99 -> -1 % (returned as +1)
    # row 1: max(100.25, 99) -> +0.25 %; min(99, 99.875) -> -1 %
    # row 2: max(99, 100) -> 0 %; min(99.875, 100.5) -> -0.125 %
    assert out["high_max_2"].tolist()[:3] == [1.0, 0.25, 0.0]
    assert out["low_min_2"].tolist()[:3] == [1.0, 1.0, 0.125]
    assert all(math.isnan(v) for v in out["high_max_2"].tolist()[3:])
    assert all(math.isnan(v) for v in out["low_min_2"].tolist()[3:])


def test_highlow_rise_thresholds_are_inclusive() -> None:
    out = highlow(CLOSE, HIGH, LOW, 2)
    assert flags(out, 0, [f"high_{s}" for s in RISES]) == [True, False, False, False, False]
    assert flags(out, 0, [f"low_{s}" for s in RISES]) == [True, False, False, False, False]


def test_highlow_small_thresholds_mean_staying_within() -> None:
    out = highlow(CLOSE, HIGH, LOW, 2)
    # up = 0.25: <= 0.1, 0.2 False; <= 0.3, 0.4, 0.5 True
    assert flags(out, 1, [f"high_{s}" for s in CALMS]) == [False, False, True, True, True]
    # up = 0: all "stays below" flags True, no rise
    assert flags(out, 2, [f"high_{s}" for s in CALMS]) == [True] * 5
    assert flags(out, 2, [f"high_{s}" for s in RISES]) == [False] * 5
    # down = -0.125: >= -0.1 False, >= -0.2 ... -0.5 True
    assert flags(out, 2, [f"low_{s}" for s in CALMS]) == [False, True, True, True, True]


def test_highlow_returned_columns_are_clipped_like_itb() -> None:
    # up = -1 % -> high_max 0; down = +0.5 % -> low_min 0
    out = highlow([100.0, 100.0], [100.0, 99.0], [100.0, 100.5], 1)
    assert out["high_max_1"].iloc[0] == 0.0
    assert out["low_min_1"].iloc[0] == 0.0
    assert flags(out, 0, ["high_01", "low_01"]) == [True, True]


def test_highlow_tail_rows_keep_itbs_false_flags_and_nan_values() -> None:
    out = highlow(CLOSE, HIGH, LOW, 2)
    names = [c for c in out.columns if not c.endswith("_2")]
    for row in (3, 4):
        assert flags(out, row, names) == [False] * 20


def test_highlow_missing_price_in_window_is_unknown() -> None:
    high = [100.0, 101.0, NAN, 100.0, 100.0, 100.0]
    out = highlow([100.0] * 6, high, [100.0] * 6, 2)
    # rows 0 and 1 see the missing high of row 2
    assert math.isnan(out["high_max_2"].iloc[0])
    assert flags(out, 0, ["high_10", "high_01"]) == [NA, NA]
    assert flags(out, 1, ["high_10", "high_01"]) == [NA, NA]
    assert flags(out, 2, ["high_10", "high_01"]) == [False, True]
    # the low side is not affected
    assert flags(out, 0, ["low_01"]) == [True]


def test_highlow_missing_close_is_unknown() -> None:
    out = highlow([NAN, 100.0, 100.0], [100.0, 102.0, 100.0], [100.0] * 3, 1)
    assert flags(out, 0, ["high_10", "low_01"]) == [NA, NA]


def test_highlow_config_horizon_and_columns() -> None:
    cfg = validate(HighlowConfig, {"horizon": 24}, "test")
    assert cfg.horizon() == 24
    assert cfg.input_columns() == ("close", "high", "low")
    assert len(cfg.output_columns()) == 22
    with pytest.raises(ConfigError, match="horizon"):
        validate(HighlowConfig, {"horizon": 0}, "test")
    with pytest.raises(ConfigError, match="unknown key 'columns'"):
        validate(HighlowConfig, {"horizon": 3, "columns": ["close"]}, "test")


def test_highlow_reports_missing_input_column() -> None:
    df = pd.DataFrame({"close": [1.0], "high": [1.0]})
    with pytest.raises(DataError, match="highlow: missing input column 'low'"):
        generate_highlow(df, validate(HighlowConfig, {"horizon": 1}, "test"))


def test_highlow_keeps_any_index() -> None:
    idx = pd.date_range("2024-01-01", periods=5, freq="1h", tz="UTC")
    df = pd.DataFrame({"close": CLOSE, "high": HIGH, "low": LOW}, index=idx)
    out = generate_highlow(df, validate(HighlowConfig, {"horizon": 2}, "test"))
    assert out.index.equals(idx)
    assert out["high_max_2"].tolist()[:3] == [1.0, 0.25, 0.0]


PRICES = st.sampled_from([98.0, 99.0, 99.5, 99.875, 100.0, 100.25, 101.0, 102.0, 103.5, NAN])


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 12),
    h=st.integers(1, 4),
    t_frac=st.floats(0, 1),
    data=st.data(),
)
def test_highlow_label_depends_only_on_rows_t_to_t_plus_h(
    n: int, h: int, t_frac: float, data: st.DataObject
) -> None:
    cols = [data.draw(st.lists(PRICES, min_size=n, max_size=n)) for _ in range(3)]
    other = [data.draw(st.lists(PRICES, min_size=n, max_size=n)) for _ in range(3)]
    t = min(n - 1, int(t_frac * n))
    alt = [
        [o if not t <= j <= t + h else v for j, (v, o) in enumerate(zip(c, oc, strict=True))]
        for c, oc in zip(cols, other, strict=True)
    ]
    before = highlow(cols[0], cols[1], cols[2], h).iloc[t]
    after = highlow(alt[0], alt[1], alt[2], h).iloc[t]
    pd.testing.assert_series_equal(before, after)
