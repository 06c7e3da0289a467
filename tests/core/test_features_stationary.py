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
    ZMaxDistanceConfig,
    ZMovingAverageDistanceConfig,
    ZReturnConfig,
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


# ---- in units of volatility ----------------------------------------------------------------

# 14 closes: with volatility_span 2, sigma uses 8 returns and first exists at row 8
Z_CLOSE = [100.0, 102.0, 101.0, 105.0, 104.0, 103.0, 108.0, 107.0, 110.0, 109.0, 111.0, 106.0,
           107.0, 112.0]  # fmt: skip


def pandas_sigma(close: list[float], span: int) -> np.ndarray:
    """sigma by pandas: ewm(span).std() at the last of the 4 * span returns ending at each row."""
    returns = np.diff(np.log(close))
    length = 4 * span
    sigma = np.full(len(close), nan)
    for t in range(length, len(close)):
        window = pd.Series(returns[t - length : t])  # returns ending at row t
        sigma[t] = window.ewm(span=span).std().iloc[-1]
    return sigma


def test_ewm_volatility_is_pandas_ewm_std_of_the_last_four_spans() -> None:
    rng = np.random.default_rng(7)
    returns = rng.normal(0.0, 0.02, 40)
    sigma = gen.ewm_volatility(returns, 3)
    expected = [nan] * 11 + [
        pd.Series(returns[t - 11 : t + 1]).ewm(span=3).std().iloc[-1] for t in range(11, 40)
    ]
    np.testing.assert_allclose(sigma, expected, rtol=1e-12)
    # the weights: (1 - 2 / (3 + 1)) ** j = 0.5 ** j, and a window of 12 values
    window = returns[28:40][::-1]
    w = 0.5 ** np.arange(12)
    mean = (w * window).sum() / w.sum()
    variance = (
        (w * (window - mean) ** 2).sum() / w.sum() * w.sum() ** 2 / (w.sum() ** 2 - (w**2).sum())
    )
    assert sigma[39] == pytest.approx(math.sqrt(variance), rel=1e-12)


def test_z_return_is_the_k_candle_return_in_sigma_sqrt_k() -> None:
    cfg = validate(ZReturnConfig, {"windows": [1, 3], "volatility_span": 2}, "t")
    out = gen.generate_z_return(candles(Z_CLOSE), cfg)
    assert list(out.columns) == ["close_z_return_1", "close_z_return_3"]
    sigma = pandas_sigma(Z_CLOSE, 2)
    for k in (1, 3):
        expected = [
            math.log(Z_CLOSE[t] / Z_CLOSE[t - k]) / (sigma[t] * math.sqrt(k)) if t >= 8 else nan
            for t in range(len(Z_CLOSE))
        ]
        np.testing.assert_allclose(out[f"close_z_return_{k}"], expected, rtol=1e-12)


def test_z_ma_distance_is_the_log_distance_to_the_mean_in_sigma_sqrt_w() -> None:
    cfg = validate(ZMovingAverageDistanceConfig, {"windows": [2, 10], "volatility_span": 2}, "t")
    out = gen.generate_z_ma_distance(candles(Z_CLOSE), cfg)
    sigma = pandas_sigma(Z_CLOSE, 2)
    for w in (2, 10):
        expected = [
            math.log(Z_CLOSE[t] / np.mean(Z_CLOSE[t - w + 1 : t + 1])) / (sigma[t] * math.sqrt(w))
            if t >= max(8, w - 1)
            else nan
            for t in range(len(Z_CLOSE))
        ]
        np.testing.assert_allclose(out[f"close_z_ma_distance_{w}"], expected, rtol=1e-12)


def test_z_max_distance_is_the_drop_from_the_highest_high_in_sigma_sqrt_w() -> None:
    high = [c * 1.01 for c in Z_CLOSE]
    high[10] = 130.0  # a spike: the next rows measure from it
    cfg = validate(ZMaxDistanceConfig, {"windows": [3], "volatility_span": 2}, "t")
    out = gen.generate_z_max_distance(candles(Z_CLOSE, high=high), cfg)
    assert list(out.columns) == ["z_max_distance_3"]
    sigma = pandas_sigma(Z_CLOSE, 2)
    expected = [
        math.log(Z_CLOSE[t] / max(high[t - 2 : t + 1])) / (sigma[t] * math.sqrt(3))
        if t >= 8
        else nan
        for t in range(len(Z_CLOSE))
    ]
    np.testing.assert_allclose(out["z_max_distance_3"], expected, rtol=1e-12)
    assert out["z_max_distance_3"].iloc[12] == pytest.approx(
        math.log(107.0 / 130.0) / (sigma[12] * math.sqrt(3))
    )


def test_z_features_are_missing_without_volatility() -> None:
    flat = candles([100.0] * 12, high=[100.0] * 12)
    for fn, model in (
        (gen.generate_z_return, ZReturnConfig),
        (gen.generate_z_ma_distance, ZMovingAverageDistanceConfig),
        (gen.generate_z_max_distance, ZMaxDistanceConfig),
    ):
        out = fn(flat, validate(model, {"windows": [2], "volatility_span": 2}, "t"))
        assert out.isna().all().all()


def test_z_generators_run_from_itb_entries() -> None:
    entries = [
        {"generator": "z_return", "config": {"windows": [1, 24], "volatility_span": 2}},
        {"generator": "z_ma_distance", "config": {"windows": 2, "volatility_span": 4}},
        {"generator": "z_max_distance", "config": {"windows": [20], "volatility_span": 2}},
        {"generator": "z_return", "config": {"windows": [720]}},
    ]
    steps = ITBPipeline.from_config({"feature_sets": entries}).feature_sets
    assert [s.output_columns() for s in steps] == [
        ("close_z_return_1", "close_z_return_24"),
        ("close_z_ma_distance_2",),
        ("z_max_distance_20",),
        ("close_z_return_720",),
    ]
    # rows: the longest window + 1, or the 4 * span returns of sigma + 1
    assert [s.config.lookback() for s in steps] == [25, 17, 20, 721]
    default = validate(ZReturnConfig, {"windows": [1]}, "t")
    assert default.volatility_span == 168 and default.lookback() == 4 * 168 + 1


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
        (ZReturnConfig, {"windows": [1], "volatility_span": 1}, "volatility_span"),
        (ZReturnConfig, {"windows": [0]}, "window 0 must be a positive"),
        (ZMovingAverageDistanceConfig, {"windows": [1]}, "at least 2 rows"),
        (ZMaxDistanceConfig, {"windows": [5], "columns": ["high"]}, "two columns high, close"),
        (ZMaxDistanceConfig, {"windows": [5], "span": 3}, "unknown key 'span'"),
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
    (gen.generate_z_return, ZReturnConfig, {"windows": [1, 5, 11], "volatility_span": 2}),
    (
        gen.generate_z_ma_distance,
        ZMovingAverageDistanceConfig,
        {"windows": [3], "volatility_span": 3},
    ),
    (gen.generate_z_max_distance, ZMaxDistanceConfig, {"windows": [1, 9], "volatility_span": 2}),
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


@settings(max_examples=40, deadline=None)
@given(rows=rows, data=st.data())
def test_z_features_need_no_more_than_lookback_rows(
    rows: list[tuple[float, float, float]], data: st.DataObject
) -> None:
    """The value of a row with ``lookback - 1`` rows before it ignores every earlier row."""
    close = np.array([r[0] for r in rows])
    df = pd.DataFrame({"high": close * (1 + np.array([r[1] for r in rows])), "close": close})
    skip = data.draw(st.integers(0, len(rows) - 1))
    for fn, model, raw in ENTRIES[-3:]:
        cfg = validate(model, raw, "t")
        full = fn(df, cfg).to_numpy()
        later = fn(df.iloc[skip:], cfg).to_numpy()
        settled = cfg.lookback() - 1
        np.testing.assert_array_equal(later[settled:], full[skip + settled :])
        # and the row before that still lacks history: it is missing
        if 0 < settled <= len(later):
            assert np.isnan(later[settled - 1]).any()
