"""The legacy ``itblib`` feature generator: aggregations relative to a base window."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.features import ItblibConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.features.itblib import generate_itblib

NAN = np.nan
INF = np.inf


def cfg(**raw: Any) -> ItblibConfig:
    return validate(ItblibConfig, raw, "feature_sets[0] (itblib): config")


CANDLES = pd.DataFrame(
    {
        "close": [100.0, 110.0, 99.0, 99.0, 108.9, 98.01],  # changes: -, 10, -10, 0, 10, -10 %
        "volume": [10.0, 20.0, 10.0, 5.0, 10.0, 20.0],  # changes: -, 100, -50, -50, 100, 100 %
        "high": [101.0, 112.0, 101.0, 100.0, 110.0, 100.0],
        "low": [99.0, 108.0, 98.0, 98.0, 107.0, 97.0],
    }
)
CLOSE_PCT = [NAN, 10.0, -10.0, 0.0, 10.0, -10.0]
VOLUME_PCT = [NAN, 100.0, -50.0, -50.0, 100.0, 100.0]


def windows_of(values: list[float], w: int) -> list[np.ndarray]:
    """The window of each row: the last w values, shorter at the start."""
    return [np.array(values[max(0, t - w + 1) : t + 1]) for t in range(len(values))]


def agg(values: list[float], w: int, fn: Any) -> np.ndarray:
    """fn over each window with at least max(1, w // 2) non-NaN values, else NaN."""
    mp = max(1, w // 2)
    return np.array([fn(x) if np.sum(~np.isnan(x)) >= mp else NAN for x in windows_of(values, w)])


def rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (a - b) / b


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_relative_aggregations_on_percent_changes() -> None:
    c = cfg(base_window=4, windows=[2, 3], functions=["close_STD", "volume_SMA", "span_SMA"])
    out = generate_itblib(CANDLES, c)
    assert list(out.columns) == [
        "close_std_2",
        "close_std_3",
        "volume_2",
        "volume_3",
        "span_2",
        "span_3",
    ]
    span = list(CANDLES["high"] - CANDLES["low"])  # never differenced
    for w in (2, 3):
        np.testing.assert_allclose(
            out[f"close_std_{w}"], rel(agg(CLOSE_PCT, w, np.nanstd), agg(CLOSE_PCT, 4, np.nanstd))
        )
        np.testing.assert_allclose(
            out[f"volume_{w}"], rel(agg(VOLUME_PCT, w, np.nanmean), agg(VOLUME_PCT, 4, np.nanmean))
        )
        np.testing.assert_allclose(
            out[f"span_{w}"], rel(agg(span, w, np.nanmean), agg(span, 4, np.nanmean))
        )
    # by hand: row 2 volume_2 = mean(100, -50) = 25 against the base mean(100, -50) = 25 -> 0;
    # row 5 = mean(100, 100) = 100 against mean(-50, -50, 100, 100) = 25 -> 300 %
    assert out["volume_2"].iloc[2] == 0.0
    assert out["volume_2"].iloc[5] == pytest.approx(300.0)
    # row 3: base mean(100, -50, -50) = 0 -> division by zero gives -inf, as ITB
    assert out["volume_2"].iloc[3] == -INF


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_close_wma_is_the_volume_weighted_mean_of_the_changes() -> None:
    out = generate_itblib(CANDLES, cfg(base_window=4, windows=[2], functions=["close_WMA"]))
    products = [c * v for c, v in zip(CLOSE_PCT, VOLUME_PCT, strict=True)]
    wma2 = agg(products, 2, np.nanmean) / agg(VOLUME_PCT, 2, np.nanmean)
    wma4 = agg(products, 4, np.nanmean) / agg(VOLUME_PCT, 4, np.nanmean)
    np.testing.assert_allclose(out["close_2"], rel(wma2, wma4))
    # row 5 by hand: (1000 - 1000) / 2 / 100 = 0 against (500 + 0 + 1000 - 1000) / 4 / 25 = 5
    assert out["close_2"].iloc[5] == pytest.approx(-100.0)


def test_area_and_trends_are_not_relative() -> None:
    out = generate_itblib(
        CANDLES,
        cfg(base_window=4, windows=[3], functions=["close_AREA", "close_SLOPE", "volume_SLOPE"]),
    )
    # area = sum(d) / sum(|d|) with d = x - x_last over the close changes:
    # row 1 [NaN, 10]: d = [NaN, 0] -> 0/0 = NaN; row 2 [NaN, 10, -10]: d = [NaN, 20, 0] -> 1;
    # row 3 [10, -10, 0] -> 0; row 4 [-10, 0, 10]: d = [-20, -10, 0] -> -1; row 5 [0, 10, -10] -> 1
    np.testing.assert_allclose(out["close_area_3"], [NAN, NAN, 1.0, 0.0, -1.0, 1.0])
    # trends: least-squares slope, NaN points dropped, NaN below 2 points
    # row 2: points (1, 10), (2, -10) -> -20; row 3: sum((i-1) y) / 2 = (-10 + 0) / 2 = -5
    np.testing.assert_allclose(out["close_trend_3"], [NAN, NAN, -20.0, -5.0, 10.0, -5.0])
    np.testing.assert_allclose(out["volume_trend_3"], [NAN, NAN, -150.0, -75.0, 75.0, 75.0])


def test_use_differences_false_aggregates_the_raw_values() -> None:
    out = generate_itblib(
        CANDLES,
        cfg(use_differences=False, base_window=4, windows=[2], functions=["volume_SMA"]),
    )
    vol = list(CANDLES["volume"])
    np.testing.assert_allclose(out["volume_2"], rel(agg(vol, 2, np.mean), agg(vol, 4, np.mean)))


def test_zero_volume_change_is_a_missing_value_in_the_rolling_windows() -> None:
    # pandas' rolling (ITB's mechanism) turns the +inf change after a zero volume into NaN
    df = pd.DataFrame({"volume": [10.0, 0.0, 5.0, 6.0, 9.0, 4.5]})
    out = generate_itblib(df, cfg(base_window=4, windows=[2], functions=["volume_SMA"]))
    # changes: NaN, -100, +inf, 20, 50, -50
    # row 2: window [-100, inf->NaN] = -100, base [NaN, -100, NaN] has 1 value < 2 -> NaN
    # row 3: [NaN, 20] = 20 against [-100, NaN, 20] = -40 -> 100 * 60 / -40 = -150
    # row 4: [20, 50] = 35 against [-100, NaN, 20, 50] = -10 -> -450
    # row 5: [50, -50] = 0 against [NaN, 20, 50, -50] = 20/3 -> -100
    np.testing.assert_allclose(out["volume_2"], [NAN, NAN, NAN, -150.0, -450.0, -100.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_two_zero_volume_candles_leave_the_volume_trend_unknown_as_itb() -> None:
    # ITB fits a line through the finite points of each window (pandas turns +inf into NaN);
    # a single point has no slope, so ITB writes NaN there, never 0.0
    df = pd.DataFrame({"volume": [10.0, 0.0, 0.0, 5.0, 6.0, 9.0]})
    out = generate_itblib(df, cfg(base_window=4, windows=[3], functions=["volume_SLOPE"]))
    # changes: NaN, -100, 0/0 = NaN, 5/0 = +inf, 20, 50
    # row 3: [-100, NaN, inf] and row 4: [NaN, inf, 20] hold one finite point each -> NaN
    # row 5: [inf, 20, 50] -> points (1, 20), (2, 50) -> slope 30
    np.testing.assert_allclose(out["volume_trend_3"], [NAN, NAN, NAN, NAN, NAN, 30.0])


def test_tb_base_is_the_taker_share_of_the_raw_volume() -> None:
    df = CANDLES.assign(tb_base_av=[5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    out = generate_itblib(df, cfg(base_window=4, windows=[2], functions=["tb_base_SMA"]))
    share = list(5.0 / CANDLES["volume"])
    np.testing.assert_allclose(
        out["tb_base_2"], rel(agg(share, 2, np.nanmean), agg(share, 4, np.nanmean))
    )


def test_outputs_follow_itbs_fixed_order_whatever_the_config_order() -> None:
    c = cfg(base_window=8, windows=[2, 4], functions=["volume_SLOPE", "close_STD", "close_WMA"])
    assert c.output_columns() == (
        "close_2",
        "close_4",
        "close_std_2",
        "close_std_4",
        "volume_trend_2",
        "volume_trend_4",
    )
    assert tuple(generate_itblib(CANDLES, c).columns) == c.output_columns()
    assert c.lookback() == 9  # base window + the row the percent change needs


def test_trades_column_is_needed_only_for_trades_sma() -> None:
    # improvement over ITB (j.27): ITB converts 'trades' unconditionally
    c = cfg(base_window=4, windows=[2], functions=["close_WMA", "span_SMA"])
    assert c.input_columns() == ("close", "volume", "high", "low")
    generate_itblib(CANDLES, c)
    with pytest.raises(DataError, match="itblib: missing input column 'trades'"):
        generate_itblib(CANDLES, cfg(base_window=4, windows=[2], functions=["trades_SMA"]))


def test_missing_columns_are_named_together() -> None:
    with pytest.raises(DataError, match="missing input columns 'trades', 'tb_base_av'"):
        generate_itblib(CANDLES, cfg(base_window=4, windows=[2]))  # all functions


def test_trades_sma_uses_percent_changes_of_trades() -> None:
    df = CANDLES.assign(trades=[1.0, 2.0, 3.0, 3.0, 6.0, 3.0])  # changes: -, 100, 50, 0, 100, -50
    out = generate_itblib(df, cfg(base_window=4, windows=[2], functions=["trades_SMA"]))
    pct = [NAN, 100.0, 50.0, 0.0, 100.0, -50.0]
    np.testing.assert_allclose(
        out["trades_2"], rel(agg(pct, 2, np.nanmean), agg(pct, 4, np.nanmean))
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"base_window": 12, "windows": [3, 12]}, "base_window 12 must not also be one of"),
        ({"base_window": 12, "windows": [3], "functions": ["close_SMA"]}, "unknown itblib"),
        ({"base_window": 12, "windows": [2.5]}, "windows"),
        ({"windows": [3]}, "missing required key 'base_window'"),
        ({"base_window": 12, "windows": [3], "prefix": "x"}, "unknown key 'prefix'"),
    ],
)
def test_invalid_config_is_a_config_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cfg(**raw)


# ---- against ITB's mechanism: pandas rolling(...).apply on the same random candles ----------


def itb_like(df: pd.DataFrame, base: int, windows: list[int]) -> dict[str, pd.Series]:
    """ITB's itblib pipeline written with pandas rolling.apply (as ITB computes it)."""

    def roll(s: pd.Series, w: int, fn: Any) -> pd.Series:
        return s.rolling(w, min_periods=max(1, w // 2)).apply(fn, raw=True)

    def to_diff(s: pd.Series) -> pd.Series:
        return s.rolling(2, min_periods=2).apply(lambda x: 100 * (x[1] - x[0]) / x[0], raw=True)

    def area(x: np.ndarray) -> float:
        d = x - x[-1]
        a, b = np.nansum(d), np.nansum(np.abs(d))
        return float(((b + a) / 2 / b) * 2 - 1) if b else math.nan

    def slope(x: np.ndarray) -> float:
        # ITB (4b00cc4) fits whatever points remain; scipy's slope of one point is NaN
        keep = ~np.isnan(x)
        if keep.sum() < 2:
            return math.nan
        return float(scipy.stats.linregress(np.arange(len(x))[keep], x[keep]).slope)

    close, volume = to_diff(df["close"]), to_diff(df["volume"])
    span = df["high"] - df["low"]
    out: dict[str, pd.Series] = {}
    prod = close * volume
    b = roll(prod, base, np.nanmean) / roll(volume, base, np.nanmean)
    for w in windows:
        out[f"close_{w}"] = (
            100.0 * (roll(prod, w, np.nanmean) / roll(volume, w, np.nanmean) - b) / b
        )
    for name, s, fn in (
        ("close_std", close, np.nanstd),
        ("volume", volume, np.nanmean),
        ("span", span, np.nanmean),
    ):
        b = roll(s, base, fn)
        for w in windows:
            out[f"{name}_{w}"] = 100.0 * (roll(s, w, fn) - b) / b
    for w in windows:
        out[f"close_area_{w}"] = roll(close, w, area)
    for name, s in (("close_trend", close), ("volume_trend", volume)):
        for w in windows:
            out[f"{name}_{w}"] = roll(s, w, slope)
    return out


candles = st.lists(
    st.tuples(
        st.one_of(st.floats(50, 150), st.just(math.nan)),
        st.one_of(st.floats(0, 100), st.just(0.0), st.just(math.nan)),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=40, deadline=None)
@given(rows=candles)
def test_matches_itbs_pandas_mechanism_with_gaps_and_zero_volume(
    rows: list[tuple[float, float]],
) -> None:
    close = np.array([r[0] for r in rows])
    df = pd.DataFrame(
        {"close": close, "volume": [r[1] for r in rows], "high": close + 1.0, "low": close - 1.5}
    )
    funcs = [
        "close_WMA",
        "close_STD",
        "volume_SMA",
        "span_SMA",
        "close_AREA",
        "close_SLOPE",
        "volume_SLOPE",
    ]
    out = generate_itblib(df, cfg(base_window=8, windows=[2, 5], functions=funcs))
    for name, expected in itb_like(df, 8, [2, 5]).items():
        np.testing.assert_allclose(out[name], expected, rtol=1e-9, atol=1e-9, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(rows=candles, data=st.data())
def test_features_never_read_the_future(
    rows: list[tuple[float, float]], data: st.DataObject
) -> None:
    """itblib does not interpolate, so this holds even with NaN gaps and zero volumes."""
    close = np.array([r[0] for r in rows])
    df = pd.DataFrame(
        {
            "close": close,
            "volume": [r[1] for r in rows],
            "high": close + 1.0,
            "low": close - 1.5,
            "trades": 3.0,
            "tb_base_av": 1.0,
        }
    )
    k = data.draw(st.integers(1, len(rows)))
    c = cfg(base_window=6, windows=[1, 3, 9])
    full = generate_itblib(df, c)
    prefix = generate_itblib(df.iloc[:k], c)
    np.testing.assert_array_equal(prefix.to_numpy(), full.iloc[:k].to_numpy())
