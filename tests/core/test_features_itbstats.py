"""The ``itbstats`` feature generator: ITB's window statistics over partial windows."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.features import ItbstatsConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.features.itbstats import KERNELS, generate_itbstats

NAN = np.nan
ALL = [
    "scipy_skew",
    "scipy_kurtosis",
    "pandas_skew",
    "pandas_kurtosis",
    "lsbm",
    "fmax",
    "mean",
    "std",
    "area",
    "slope",
]


def cfg(**raw: Any) -> ItbstatsConfig:
    return validate(ItbstatsConfig, raw, "feature_sets[0] (itbstats): config")


def run(values: list[float], **raw: Any) -> pd.DataFrame:
    return generate_itbstats(pd.DataFrame({"close": values}), cfg(columns="close", **raw))


# x = 5, 1, 2, 6, 0 with window 4 (min_periods 2): windows
#   row 0: [5] -> NaN (1 value < 2)      row 1: [5, 1]      row 2: [5, 1, 2]
#   row 3: [5, 1, 2, 6]                  row 4: [1, 2, 6, 0]
X = [5.0, 1.0, 2.0, 6.0, 0.0]


def test_mean_and_population_std_over_partial_windows() -> None:
    out = run(X, functions=["mean", "std"], windows=[4])
    np.testing.assert_allclose(out["close_mean_4"], [NAN, 3.0, 8 / 3, 3.5, 2.25])
    var = [
        NAN,
        4.0,
        ((7 / 3) ** 2 + (5 / 3) ** 2 + (2 / 3) ** 2) / 3,
        (2.25 + 6.25 + 2.25 + 6.25) / 4,
        (1.5625 + 0.0625 + 14.0625 + 5.0625) / 4,
    ]
    np.testing.assert_allclose(out["close_std_4"], np.sqrt(var))


def test_lsbm_is_the_longest_run_strictly_below_the_window_mean() -> None:
    out = run(X, functions=["lsbm"], windows=[4])
    # row 1: mean 3 -> [F, T] = 1; row 2: mean 8/3 -> [F, T, T] = 2; row 3: mean 3.5 -> [F, T, T, F]
    # = 2; row 4: mean 2.25 -> [T, T, F, T] = 2
    np.testing.assert_array_equal(out["close_lsbm_4"], [NAN, 1.0, 2.0, 2.0, 2.0])


def test_fmax_is_the_first_position_of_the_maximum_over_the_window_length() -> None:
    out = run([1.0, 3.0, 3.0, 2.0, 0.0], functions=["fmax"], windows=[4])
    # [1, 3] -> 1/2; [1, 3, 3] -> 1/3 (first of the tie); [1, 3, 3, 2] -> 1/4; [3, 3, 2, 0] -> 0
    np.testing.assert_array_equal(out["close_fmax_4"], [NAN, 0.5, 1 / 3, 0.25, 0.0])


def test_area_compares_the_window_with_its_last_value() -> None:
    out = run(X, functions=["area"], windows=[4])
    # d = x - x_last; a = sum(d), b = sum(|d|), value = a / b
    # row 1: d = [4, 0] -> 1; row 2: d = [3, -1, 0] -> 2/4; row 3: d = [-1, -5, -4, 0] -> -1;
    # row 4: d = [1, 2, 6, 0] -> 1
    np.testing.assert_allclose(out["close_area_4"], [NAN, 1.0, 0.5, -1.0, 1.0])


def test_area_is_nan_when_every_value_equals_the_last() -> None:
    out = run([2.0, 2.0, 2.0], functions=["area"], windows=[2])
    assert out["close_area_2"].isna().all()


def test_slope_is_the_least_squares_slope_against_positions() -> None:
    out = run(X, functions=["slope"], windows=[4])
    # row 1: two points -> 1 - 5 = -4; row 2: x = 0, 1, 2 -> (2 - 5) / 2 = -1.5
    # row 3: sum((i - 1.5)(y - 3.5)) / sum((i - 1.5)^2) = (-2.25 + 1.25 - 0.75 + 3.75) / 5 = 0.4
    # row 4: y = 1, 2, 6, 0 (mean 2.25): (-1.5*-1.25 - 0.5*-0.25 + 0.5*3.75 + 1.5*-2.25) / 5 = 0.1
    np.testing.assert_allclose(out["close_slope_4"], [NAN, -4.0, -1.5, 0.4, 0.1], atol=1e-15)


def test_slope_of_a_single_point_is_zero_as_itb() -> None:
    out = run([3.0, 5.0], functions=["slope"], windows=[2])  # min_periods 1: row 0 has one point
    np.testing.assert_array_equal(out["close_slope_2"], [0.0, 2.0])


def skew_g1(x: list[float]) -> float:
    """Adjusted Fisher-Pearson skewness from its definition."""
    n = len(x)
    m = sum(x) / n
    m2 = sum((v - m) ** 2 for v in x) / n
    m3 = sum((v - m) ** 3 for v in x) / n
    return math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5


def test_scipy_and_pandas_skew_are_the_bias_corrected_g1() -> None:
    out = run(X, functions=["scipy_skew", "pandas_skew"], windows=[4])
    # row 1 has 2 values: scipy keeps the uncorrected m3 / m2^1.5 = 0, pandas needs 3 values
    expected = [skew_g1([5, 1, 2]), skew_g1([5, 1, 2, 6]), skew_g1([1, 2, 6, 0])]
    np.testing.assert_allclose(out["close_scipy_skew_4"], [NAN, 0.0, *expected], atol=1e-15)
    np.testing.assert_allclose(out["close_pandas_skew_4"], [NAN, NAN, *expected])


def test_scipy_skew_with_bias_true_is_uncorrected() -> None:
    out = run(X, functions=["scipy_skew"], windows=[4], parameters={"bias": True})
    x = [1.0, 2.0, 6.0, 0.0]
    m = sum(x) / 4
    g1 = (sum((v - m) ** 3 for v in x) / 4) / (sum((v - m) ** 2 for v in x) / 4) ** 1.5
    assert out["close_scipy_skew_4"].iloc[4] == pytest.approx(g1)


def test_scipy_kurtosis_is_pearsons_uncorrected_because_itb_passes_bias_as_fisher() -> None:
    x = [1.0, 2.0, 6.0, 0.0]
    m = sum(x) / 4
    m2 = sum((v - m) ** 2 for v in x) / 4
    m4 = sum((v - m) ** 4 for v in x) / 4
    default = run(X, functions=["scipy_kurtosis"], windows=[4])
    assert default["close_scipy_kurtosis_4"].iloc[4] == pytest.approx(m4 / m2**2)
    fisher = run(X, functions=["scipy_kurtosis"], windows=[4], parameters={"bias": True})
    assert fisher["close_scipy_kurtosis_4"].iloc[4] == pytest.approx(m4 / m2**2 - 3)


def test_pandas_kurtosis_is_the_bias_corrected_excess_kurtosis() -> None:
    out = run(X, functions=["pandas_kurtosis"], windows=[4])
    x = [1.0, 2.0, 6.0, 0.0]
    n = 4
    m = sum(x) / n
    s2 = sum((v - m) ** 2 for v in x)
    s4 = sum((v - m) ** 4 for v in x)
    g2 = n * (n + 1) * (n - 1) * s4 / ((n - 2) * (n - 3) * s2**2) - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )
    # [5, 1, 2, 6]: deviations 1.5, -2.5, -1.5, 2.5 -> s2 = 17, s4 = 2 * (5.0625 + 39.0625)
    assert out["close_pandas_kurtosis_4"].iloc[3] == pytest.approx(
        4 * 5 * 3 * 88.25 / (2 * 1 * 17**2) - 3 * 9 / (2 * 1)
    )
    assert out["close_pandas_kurtosis_4"].iloc[4] == pytest.approx(g2)
    assert out["close_pandas_kurtosis_4"].iloc[:3].isna().all()  # fewer than 4 values


def test_constant_window_gives_nan_for_scipy_and_zero_for_pandas_2() -> None:
    out = run(
        [7.0] * 6,
        functions=["scipy_skew", "scipy_kurtosis", "pandas_skew", "pandas_kurtosis"],
        windows=[4],
    )
    assert out.iloc[2:][["close_scipy_skew_4", "close_scipy_kurtosis_4"]].isna().all().all()
    assert (out["close_pandas_skew_4"].iloc[2:] == 0.0).all()
    assert (out["close_pandas_kurtosis_4"].iloc[3:] == 0.0).all()


def test_leading_nan_follows_each_functions_own_rule() -> None:
    # interpolation keeps the leading NaN; rows 1-2 see [NaN, 4] and [NaN, 4, 1]
    out = run([NAN, 4.0, 1.0, 7.0], functions=ALL, windows=[3])
    row2 = out.iloc[2]
    assert np.isnan(row2["close_scipy_skew_3"])  # NaN propagates
    assert np.isnan(row2["close_pandas_skew_3"])  # NaN skipped, but only 2 values
    assert row2["close_lsbm_3"] == 0.0  # mean of a window with NaN is NaN: nothing below it
    assert row2["close_fmax_3"] == 0.0  # argmax points at the NaN
    assert row2["close_mean_3"] == 2.5
    assert row2["close_std_3"] == 1.5
    assert row2["close_area_3"] == 1.0  # d = [NaN, 3, 0]
    assert row2["close_slope_3"] == -3.0  # the NaN point is dropped
    assert out.iloc[0].isna().all()  # no value in the window


def test_values_start_at_row_min_periods_minus_one() -> None:
    out = run(list(np.linspace(1.0, 2.0, 30) ** 2), functions=["mean", "std"], windows=[12, 24])
    for w in (12, 24):
        first = out[f"close_mean_{w}"].first_valid_index()
        assert first == w // 2 - 1


def test_names_keep_the_config_spelling_and_only_the_first_column_is_used() -> None:
    df = pd.DataFrame({"close": X, "open": [1.0] * 5})
    c = cfg(columns=["close", "open"], functions=["MEAN", "Slope"], windows=[2, 3], names="x")
    out = generate_itbstats(df, c)
    assert list(out.columns) == ["close_MEAN_2", "close_MEAN_3", "close_Slope_2", "close_Slope_3"]
    assert tuple(out.columns) == c.output_columns()
    assert c.input_columns() == ("close",)
    assert c.lookback() == 3


def test_relative_post_processing_applies_over_windows() -> None:
    params = {"rel_base": "next", "rel_func": "rel_diff", "percentage": True}
    out = run(X, functions=["mean"], windows=[2, 4], parameters=params)
    m2 = np.array([5.0, 3.0, 1.5, 4.0, 3.0])
    m4 = np.array([NAN, 3.0, 8 / 3, 3.5, 2.25])
    np.testing.assert_allclose(out["close_mean_2"], 100 * (m2 - m4) / m4)
    np.testing.assert_allclose(out["close_mean_4"], m4)


def test_missing_input_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="itbstats: missing input column 'close'"):
        generate_itbstats(
            pd.DataFrame({"open": X}), cfg(columns="close", functions="mean", windows=2)
        )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"columns": "close", "functions": ["skew"], "windows": [3]}, "unknown itbstats function"),
        ({"columns": "close", "functions": ["mean"], "windows": [0]}, "positive"),
        ({"columns": "close", "functions": ["mean"], "windows": ["12"]}, "windows"),
        ({"columns": "close", "functions": ["mean"]}, "missing required key 'windows'"),
        ({"columns": "close", "functions": ["mean"], "windows": [3], "win": 3}, "unknown key"),
    ],
)
def test_invalid_config_is_a_config_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cfg(**raw)


# ---- against ITB's own mechanism: pandas rolling(w, max(1, w//2)).apply(fn, raw=True) -------


def _lsbm(x: np.ndarray) -> float:
    runs = [len(list(g)) for below, g in itertools.groupby(x < np.mean(x)) if below]
    return float(max(runs)) if runs else 0.0


def _area(x: np.ndarray) -> float:
    d = x - x[-1]
    a, b = np.nansum(d), np.nansum(np.abs(d))
    return float(a / b) if b else math.nan


def _slope(x: np.ndarray) -> float:
    keep = ~np.isnan(x)
    if keep.sum() < 2:
        return 0.0
    return float(scipy.stats.linregress(np.arange(len(x))[keep], x[keep]).slope)


def _pandas2_skew(x: np.ndarray) -> float:
    """pandas 2.x ``Series.skew`` (the parity fixtures' version) written out."""
    v = x[~np.isnan(x)]
    n = float(len(v))
    if n < 3:
        return math.nan
    d = v - v.sum() / n
    s2, s3 = (d**2).sum(), (d**3).sum()
    s2, s3 = (0.0 if abs(s2) < 1e-14 else s2), (0.0 if abs(s3) < 1e-14 else s3)
    return 0.0 if s2 == 0 else float((n * (n - 1) ** 0.5 / (n - 2)) * (s3 / s2**1.5))


def _pandas2_kurt(x: np.ndarray) -> float:
    v = x[~np.isnan(x)]
    n = float(len(v))
    if n < 4:
        return math.nan
    d = v - v.sum() / n
    num = n * (n + 1) * (n - 1) * (d**4).sum()
    den = (n - 2) * (n - 3) * ((d**2).sum()) ** 2
    num, den = (0.0 if abs(num) < 1e-14 else num), (0.0 if abs(den) < 1e-14 else den)
    return 0.0 if den == 0 else float(num / den - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


ORACLES: dict[str, Callable[[np.ndarray], float]] = {
    "scipy_skew": lambda x: float(scipy.stats.skew(x, 0, False)),
    "scipy_kurtosis": lambda x: float(scipy.stats.kurtosis(x, 0, False)),
    "pandas_skew": _pandas2_skew,
    "pandas_kurtosis": _pandas2_kurt,
    "lsbm": _lsbm,
    "fmax": lambda x: float(np.argmax(x) / len(x)),
    "mean": lambda x: float(np.nanmean(x)),
    "std": lambda x: float(np.nanstd(x)),
    "area": _area,
    "slope": _slope,
}

values_with_gaps = st.lists(
    st.one_of(st.integers(-5, 5).map(float), st.floats(-100, 100), st.just(math.nan)),
    min_size=1,
    max_size=30,
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(values=values_with_gaps, window=st.integers(1, 9))
def test_every_function_matches_pandas_rolling_apply_with_itbs_function(
    values: list[float], window: int
) -> None:
    """NaN anywhere (not only leading), ties, constant windows: same values as ITB's mechanism."""
    x = np.array(values)
    for name, oracle in ORACLES.items():
        expected = (
            pd.Series(x).rolling(window, min_periods=max(1, window // 2)).apply(oracle, raw=True)
        )
        # the kernel itself: the generator would interpolate the interior NaNs away
        got = KERNELS[name](x, window, False)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, err_msg=name)


# ---- causality ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(1.0, 1000.0), min_size=1, max_size=60), data=st.data())
def test_features_never_read_the_future(values: list[float], data: st.DataObject) -> None:
    """A prefix of the candles gives the same first rows, bit for bit (data without NaN gaps:
    interpolating a gap reads the next valid value, spec j.4)."""
    df = pd.DataFrame({"close": values})
    k = data.draw(st.integers(1, len(values)))
    c = cfg(
        columns="close",
        functions=ALL,
        windows=[1, 4, 12],
        parameters={"rel_base": "prev", "rel_func": "diff"},
    )
    full = generate_itbstats(df, c)
    prefix = generate_itbstats(df.iloc[:k], c)
    np.testing.assert_array_equal(prefix.to_numpy(), full.iloc[:k].to_numpy())
