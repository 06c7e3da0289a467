"""Stationary feature generators: exact values on tiny frames, config errors, causality."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.stationary import (
    AverageTrueRangeConfig,
    CyclicTimeConfig,
    LogReturnConfig,
    MovingAverageDistanceConfig,
    RangePositionConfig,
    RealizedVolatilityConfig,
    VolumeZScoreConfig,
)
from itb_ext.errors import ConfigError, DataError
from itb_ext.features import stationary as gen
from itb_ext.pipeline.steps import ITBPipeline

nan = math.nan


def candles(close: list[float], **extra: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"close": close, **extra})


def test_log_return_over_k_candles() -> None:
    df = candles([100.0, 110.0, 121.0, 100.0])
    out = gen.generate_log_return(df, validate(LogReturnConfig, {"windows": [1, 2]}, "t"))
    assert list(out.columns) == ["close_log_return_1", "close_log_return_2"]
    np.testing.assert_allclose(
        out["close_log_return_1"], [nan, math.log(1.1), math.log(1.1), math.log(100 / 121)]
    )
    np.testing.assert_allclose(
        out["close_log_return_2"], [nan, nan, math.log(1.21), math.log(100 / 110)]
    )


def test_ma_distance_in_percent() -> None:
    df = candles([10.0, 20.0, 30.0])
    cfg = validate(MovingAverageDistanceConfig, {"windows": 2}, "t")
    out = gen.generate_ma_distance(df, cfg)
    # means 15, 25 -> 20/15 - 1 and 30/25 - 1
    np.testing.assert_allclose(out["close_ma_distance_2"], [nan, 100 / 3, 20.0])


def test_ma_distance_in_units_of_volatility() -> None:
    df = candles([100.0, 100.0, 110.0, 99.0])
    cfg = validate(MovingAverageDistanceConfig, {"windows": [2], "unit": "volatility"}, "t")
    out = gen.generate_ma_distance(df, cfg)["close_ma_distance_2"].to_numpy()
    r = [nan, 0.0, math.log(1.1), math.log(0.9)]
    # row 2: returns (0, ln 1.1): population std ln(1.1)/2; mean 105
    assert math.isnan(out[0]) and math.isnan(out[1])
    assert out[2] == pytest.approx(math.log(110 / 105) / (math.log(1.1) / 2))
    assert out[3] == pytest.approx(math.log(99 / 104.5) / (abs(r[3] - r[2]) / 2))


def test_natr_and_atr_use_the_previous_close() -> None:
    df = candles([10.0, 12.0, 9.0], high=[11.0, 12.5, 11.0], low=[9.0, 10.5, 8.5])
    # true ranges: row 1 max(12.5,10)-min(10.5,10) = 2.5; row 2 max(11,12)-min(8.5,12) = 3.5
    natr = gen.generate_atr(df, validate(AverageTrueRangeConfig, {"windows": [1, 2]}, "t"))
    np.testing.assert_allclose(natr["natr_1"], [nan, 2.5 / 12 * 100, 3.5 / 9 * 100])
    np.testing.assert_allclose(natr["natr_2"], [nan, nan, 3.0 / 9 * 100])
    raw = validate(AverageTrueRangeConfig, {"windows": 2, "normalized": False}, "t")
    np.testing.assert_allclose(gen.generate_atr(df, raw)["atr_2"], [nan, nan, 3.0])


def test_realized_volatility_and_its_ratio() -> None:
    df = candles([100.0, 110.0, 99.0, 99.0])
    cfg = validate(RealizedVolatilityConfig, {"windows": [2], "ratios": [[2, 3]]}, "t")
    out = gen.generate_realized_volatility(df, cfg)
    r = np.array([math.log(1.1), math.log(0.9), 0.0])
    vol2 = [nan, nan, 100 * np.std(r[:2]), 100 * np.std(r[1:])]
    np.testing.assert_allclose(out["close_realized_vol_2"], vol2)
    np.testing.assert_allclose(
        out["close_vol_ratio_2_3"], [nan, nan, nan, vol2[3] / (100 * np.std(r))]
    )


def test_range_position_within_the_high_low_range() -> None:
    df = candles([5.0, 8.0, 6.0, 6.0], high=[6.0, 10.0, 7.0, 6.0], low=[4.0, 6.0, 6.0, 6.0])
    out = gen.generate_range_position(df, validate(RangePositionConfig, {"windows": [2]}, "t"))
    # row 1: range 4..10 -> (8-4)/6; rows 2, 3: range 6..10 / 6..7, close at the bottom -> 0;
    # w = 1: the candle's own range, 0.5 when it is empty (row 3)
    np.testing.assert_allclose(out["range_position_2"], [nan, 4 / 6, 0.0, 0.0])
    one = gen.generate_range_position(df, validate(RangePositionConfig, {"windows": 1}, "t"))
    np.testing.assert_allclose(one["range_position_1"], [0.5, 0.5, 0.0, 0.5])


def test_volume_zscore_raw_and_log() -> None:
    df = candles([1.0] * 4, volume=[1.0, 3.0, 3.0, 0.0])
    raw = validate(VolumeZScoreConfig, {"windows": 2, "log": False}, "t")
    # windows (1,3): (3-2)/1; (3,3): constant -> 0; (3,0): (0-1.5)/1.5
    np.testing.assert_allclose(
        gen.generate_volume_zscore(df, raw)["volume_zscore_2"], [nan, 1, 0, -1]
    )
    logged = gen.generate_volume_zscore(df, validate(VolumeZScoreConfig, {"windows": 2}, "t"))
    np.testing.assert_allclose(logged["volume_zscore_2"], [nan, 1, 0, -1])


def test_cyclic_time_of_day_and_week() -> None:
    dates = pd.to_datetime(
        ["2019-01-07 00:00", "2019-01-07 06:00", "2019-01-09 12:30", "2019-01-13 18:00"], utc=True
    )
    df = pd.DataFrame({"date": dates, "close": 1.0})
    out = gen.generate_cyclic_time(df, validate(CyclicTimeConfig, {}, "t"))
    assert list(out.columns) == [
        "hour_of_day_sin",
        "hour_of_day_cos",
        "day_of_week_sin",
        "day_of_week_cos",
    ]
    hours = np.array([0.0, 6.0, 12.5, 18.0])
    np.testing.assert_allclose(out["hour_of_day_sin"], np.sin(2 * np.pi * hours / 24), atol=1e-12)
    np.testing.assert_allclose(out["hour_of_day_cos"], np.cos(2 * np.pi * hours / 24), atol=1e-12)
    # 2019-01-07 is a Monday (day 0); the Wednesday 12:30 is 2.52 days into the week
    days = np.array([0.0, 0.25, 2 + 12.5 / 24, 6.75])
    np.testing.assert_allclose(out["day_of_week_sin"], np.sin(2 * np.pi * days / 7), atol=1e-12)
    # ITB's ``timestamp``: milliseconds since the epoch
    millis = (dates - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    stamped = pd.DataFrame({"timestamp": millis, "close": 1.0})
    from_millis = validate(CyclicTimeConfig, {"columns": "timestamp"}, "t")
    pd.testing.assert_frame_equal(gen.generate_cyclic_time(stamped, from_millis), out)


def test_generators_run_from_itb_entries() -> None:
    entries = [
        {"generator": "log_return", "config": {"columns": ["close"], "windows": [1]}},
        {"generator": "ma_distance", "config": {"windows": [2], "unit": "volatility"}},
        {"generator": "atr", "config": {"windows": [2]}},
        {"generator": "realized_volatility", "config": {"windows": [2], "ratios": [[2, 3]]}},
        {"generator": "range_position", "config": {"windows": [2]}},
        {"generator": "volume_zscore", "config": {"windows": [2]}},
        {"generator": "cyclic_time", "config": {"periods": ["hour_of_day"]}},
    ]
    pipeline = ITBPipeline.from_config({"feature_sets": entries})
    steps = pipeline.feature_sets
    assert [c for s in steps for c in s.output_columns() or ()] == [
        "close_log_return_1",
        "close_ma_distance_2",
        "natr_2",
        "close_realized_vol_2",
        "close_vol_ratio_2_3",
        "range_position_2",
        "volume_zscore_2",
        "hour_of_day_sin",
        "hour_of_day_cos",
    ]
    assert [s.config.lookback() for s in steps] == [2, 3, 3, 4, 2, 2, 1]


@pytest.mark.parametrize(
    ("model", "raw", "message"),
    [
        (LogReturnConfig, {"windows": [0]}, "window 0 must be a positive"),
        (LogReturnConfig, {"windows": [1], "column": "close"}, "unknown key 'column'"),
        (MovingAverageDistanceConfig, {"windows": [5], "unit": "usd"}, "unit"),
        (MovingAverageDistanceConfig, {"windows": [1]}, "at least 2 rows"),
        (AverageTrueRangeConfig, {"windows": [3], "columns": ["high", "low"]}, "three columns"),
        (RealizedVolatilityConfig, {"windows": [4], "ratios": [[24, 12]]}, "short < long"),
        (VolumeZScoreConfig, {"windows": []}, "windows"),
        (CyclicTimeConfig, {"periods": ["minute"]}, "periods"),
        (LogReturnConfig, {"columns": ["open", "close"], "windows": 1}, "exactly one input"),
    ],
)
def test_bad_config_names_the_key(model: type, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(model, raw, "feature_sets[0]")


def test_missing_time_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="cyclic_time: missing input column 'date'"):
        gen.generate_cyclic_time(candles([1.0]), validate(CyclicTimeConfig, {}, "t"))


# ---- causality ------------------------------------------------------------------------------

rows = st.lists(
    st.tuples(st.floats(1.0, 1000.0), st.floats(0.0, 0.05), st.floats(0.0, 100.0)),
    min_size=1,
    max_size=60,
)

ENTRIES: list[tuple[Any, type, dict[str, Any]]] = [
    (gen.generate_log_return, LogReturnConfig, {"windows": [1, 3, 7]}),
    (gen.generate_ma_distance, MovingAverageDistanceConfig, {"windows": [2, 5]}),
    (
        gen.generate_ma_distance,
        MovingAverageDistanceConfig,
        {"windows": [3, 8], "unit": "volatility"},
    ),
    (gen.generate_atr, AverageTrueRangeConfig, {"windows": [1, 4]}),
    (
        gen.generate_realized_volatility,
        RealizedVolatilityConfig,
        {"windows": [3], "ratios": [[2, 6]]},
    ),
    (gen.generate_range_position, RangePositionConfig, {"windows": [1, 5]}),
    (gen.generate_volume_zscore, VolumeZScoreConfig, {"windows": [2, 6]}),
    (gen.generate_cyclic_time, CyclicTimeConfig, {}),
]


@settings(max_examples=40, deadline=None)
@given(rows=rows, data=st.data())
def test_features_never_read_the_future(
    rows: list[tuple[float, float, float]], data: st.DataObject
) -> None:
    """A prefix of the candles gives the same first rows, bit for bit, and a candle's value does
    not depend on how many candles precede its window."""
    close = np.array([r[0] for r in rows])
    spread = np.array([r[1] for r in rows])
    df = pd.DataFrame(
        {
            "date": pd.date_range("2019-01-01", periods=len(rows), freq="37min", tz="UTC"),
            "high": close * (1 + spread),
            "low": close * (1 - spread),
            "close": close,
            "volume": [r[2] for r in rows],
        }
    )
    k = data.draw(st.integers(1, len(rows)))
    skip = data.draw(st.integers(0, len(rows) - 1))
    for fn, model, raw in ENTRIES:
        cfg = validate(model, raw, "t")
        full = fn(df, cfg).to_numpy()
        np.testing.assert_array_equal(fn(df.iloc[:k], cfg).to_numpy(), full[:k])
        later = fn(df.iloc[skip:], cfg).to_numpy()
        settled = cfg.lookback()
        np.testing.assert_array_equal(later[settled:], full[skip + settled :])
