"""The ``talib`` feature generator: TA-Lib calls, ITB naming, relative post-processing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.features import TalibConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.features.talib import generate_talib

NAN = np.nan


def cfg(**raw: Any) -> TalibConfig:
    return validate(TalibConfig, raw, "feature_sets[0] (talib): config")


def run(df: pd.DataFrame, **raw: Any) -> pd.DataFrame:
    return generate_talib(df, cfg(**raw))


def sma(x: list[float], w: int) -> np.ndarray:
    """Simple moving average by its definition, NaN for the first w-1 rows."""
    return np.array([NAN if t < w - 1 else sum(x[t - w + 1 : t + 1]) / w for t in range(len(x))])


CLOSE = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


@pytest.fixture
def closes() -> pd.DataFrame:
    return pd.DataFrame({"close": CLOSE})


# ---- calls and naming -----------------------------------------------------------------------


def test_sma_windows_give_rolling_means_named_column_function_window(closes: pd.DataFrame) -> None:
    out = run(closes, columns=["close"], functions=["SMA"], windows=[1, 3])
    assert list(out.columns) == ["close_SMA_1", "close_SMA_3"]
    np.testing.assert_array_equal(out["close_SMA_1"], CLOSE)
    np.testing.assert_allclose(out["close_SMA_3"], [NAN, NAN, 7 / 3, 14 / 3, 28 / 3, 56 / 3])
    assert (out.dtypes == np.float64).all()


def test_window_one_returns_the_interpolated_input_itself() -> None:
    df = pd.DataFrame({"close": [1.0, NAN, 3.0, NAN]})
    out = run(df, columns="close", functions="SMA", windows=1)
    # interior gap on the line between neighbours, trailing gap repeats the last value
    np.testing.assert_array_equal(out["close_SMA_1"], [1.0, 2.0, 3.0, 3.0])


def test_interpolation_reads_the_next_valid_value_inside_gaps() -> None:
    # spec j.4: the gap row gets (1 + 5) / 2 = 3 although 5 lies in its future
    df = pd.DataFrame({"close": [NAN, 1.0, NAN, 5.0, 7.0]})
    out = run(df, columns="close", functions="SMA", windows=[2])
    np.testing.assert_allclose(out["close_SMA_2"], [NAN, NAN, 2.0, 4.0, 6.0])


def test_names_string_goes_between_function_and_window(closes: pd.DataFrame) -> None:
    out = run(closes, columns="close", functions="SMA", windows=[2], names="fast")
    assert list(out.columns) == ["close_SMA_fast_2"]


def test_names_list_gives_one_name_per_window(closes: pd.DataFrame) -> None:
    out = run(closes, columns="close", functions="SMA", windows=[2, 3], names=["a", "b"])
    assert list(out.columns) == ["a", "b"]
    np.testing.assert_allclose(out["b"], sma(CLOSE, 3))


def test_function_without_window_is_called_without_timeperiod() -> None:
    df = pd.DataFrame({"high": [3.0, 5.0], "low": [1.0, 2.0]})
    out = run(df, columns=["high", "low"], functions=["ADD"])
    assert list(out.columns) == ["high_low_ADD"]
    np.testing.assert_array_equal(out["high_low_ADD"], [4.0, 7.0])
    named = run(df, columns=["high", "low"], functions=["ADD"], names="hl_sum")
    assert list(named.columns) == ["hl_sum"]


def test_two_real_inputs_map_to_real0_real1_in_order() -> None:
    df = pd.DataFrame({"a": [10.0, 7.0], "b": [4.0, 2.0]})
    out = run(df, columns=["a", "b"], functions="SUB")
    np.testing.assert_array_equal(out["a_b_SUB"], [6.0, 5.0])


HLC = pd.DataFrame(
    {
        "high": [10.0, 12.0, 11.0, 14.0, 13.0, 15.0],
        "low": [8.0, 9.0, 9.0, 11.0, 10.0, 12.0],
        "close": [9.0, 11.0, 10.0, 13.0, 12.0, 14.0],
    }
)
# true range from row 1: max(h-l, |h-c_prev|, |l-c_prev|) = 3, 2, 4, 3, 3; Wilder's ATR(2) is
# seeded with the mean of the first two, then atr = (atr_prev * 1 + tr) / 2
ATR2 = [NAN, NAN, 2.5, (2.5 + 4) / 2, (3.25 + 3) / 2, (3.125 + 3) / 2]


def test_atr_with_dict_inputs_follows_wilders_formula() -> None:
    out = run(
        HLC, columns={"high": "high", "low": "low", "close": "close"}, functions="ATR", windows=2
    )
    assert list(out.columns) == ["high_low_close_ATR_2"]
    np.testing.assert_allclose(out["high_low_close_ATR_2"], ATR2)


def test_list_columns_feed_named_inputs_in_talib_order() -> None:
    # improvement over ITB (j.9), where a list always becomes real0, real1, ... and ATR fails
    out = run(HLC, columns=["high", "low", "close"], functions="ATR", windows=[2])
    np.testing.assert_allclose(out["high_low_close_ATR_2"], ATR2)


def test_multi_output_function_appends_talib_output_names() -> None:
    out = run(HLC, columns="close", functions="BBANDS", windows=[2])
    assert list(out.columns) == [
        "close_BBANDS_2_upperband",
        "close_BBANDS_2_middleband",
        "close_BBANDS_2_lowerband",
    ]
    c = HLC["close"].to_numpy()
    mid = np.r_[NAN, (c[1:] + c[:-1]) / 2]
    dev = np.r_[NAN, np.abs(c[1:] - c[:-1]) / 2]  # population std of two values
    np.testing.assert_allclose(out["close_BBANDS_2_middleband"], mid)
    np.testing.assert_allclose(out["close_BBANDS_2_upperband"], mid + 2 * dev)
    np.testing.assert_allclose(out["close_BBANDS_2_lowerband"], mid - 2 * dev)


def test_args_extension_passes_further_talib_parameters() -> None:
    out = run(HLC, columns="close", functions="BBANDS", windows=[2], args={"nbdevup": 1.0})
    c = HLC["close"].to_numpy()
    mid = np.r_[NAN, (c[1:] + c[:-1]) / 2]
    dev = np.r_[NAN, np.abs(c[1:] - c[:-1]) / 2]
    np.testing.assert_allclose(out["close_BBANDS_2_upperband"], mid + dev)


def test_ema_is_seeded_with_the_first_window_mean() -> None:
    out = run(HLC, columns="close", functions="EMA", windows=3)
    c = HLC["close"].to_numpy()
    ema = [NAN, NAN, c[:3].mean()]
    for t in range(3, len(c)):
        ema.append(ema[-1] + 0.5 * (c[t] - ema[-1]))  # alpha = 2 / (3 + 1)
    np.testing.assert_allclose(out["close_EMA_3"], ema)


# ---- relative post-processing ---------------------------------------------------------------


def test_rel_base_next_rel_diff_percentage_leaves_the_base_unscaled(closes: pd.DataFrame) -> None:
    out = run(
        closes,
        columns="close",
        functions="SMA",
        windows=[1, 2, 3],
        names="reldiff",
        parameters={"rel_base": "next", "rel_func": "rel_diff", "percentage": True},
    )
    s1, s2, s3 = np.array(CLOSE), sma(CLOSE, 2), sma(CLOSE, 3)
    np.testing.assert_allclose(out["close_SMA_reldiff_1"], 100 * (s1 - s2) / s2)
    np.testing.assert_allclose(out["close_SMA_reldiff_2"], 100 * (s2 - s3) / s3)
    # correction of ITB (j.8): ITB returns 100 * SMA3 here
    np.testing.assert_allclose(out["close_SMA_reldiff_3"], s3)


def test_rel_base_first_uses_the_first_output_as_base(closes: pd.DataFrame) -> None:
    out = run(
        closes,
        columns="close",
        functions="SMA",
        windows=[1, 2, 3],
        names="first",
        parameters={"rel_base": "first", "rel_func": "diff"},
    )
    s1, s2, s3 = np.array(CLOSE), sma(CLOSE, 2), sma(CLOSE, 3)
    np.testing.assert_array_equal(out["close_SMA_first_1"], s1)
    # correction of ITB (j.8): ITB subtracts the LAST output (SMA3) and makes SMA3 - SMA3 = 0
    np.testing.assert_allclose(out["close_SMA_first_2"], s2 - s1)
    np.testing.assert_allclose(out["close_SMA_first_3"], s3 - s1)


def test_rel_base_last_and_prev_with_ratio(closes: pd.DataFrame) -> None:
    s1, s2, s3 = np.array(CLOSE), sma(CLOSE, 2), sma(CLOSE, 3)
    last = run(
        closes,
        columns="close",
        functions="SMA",
        windows=[1, 2, 3],
        parameters={"rel_base": "last", "rel_func": "rel"},
    )
    np.testing.assert_allclose(last["close_SMA_1"], s1 / s3)
    np.testing.assert_allclose(last["close_SMA_2"], s2 / s3)
    np.testing.assert_allclose(last["close_SMA_3"], s3)
    prev = run(
        closes,
        columns="close",
        functions="SMA",
        windows=[1, 2, 3],
        parameters={"rel_base": "prev", "rel_func": "rel", "percentage": True},
    )
    np.testing.assert_allclose(prev["close_SMA_1"], s1)
    np.testing.assert_allclose(prev["close_SMA_2"], 100 * s2 / s1)
    np.testing.assert_allclose(prev["close_SMA_3"], 100 * s3 / s2)


def test_percentage_without_rel_base_scales_every_output(closes: pd.DataFrame) -> None:
    out = run(
        closes, columns="close", functions="SMA", windows=[2], parameters={"percentage": True}
    )
    np.testing.assert_allclose(out["close_SMA_2"], 100 * sma(CLOSE, 2))


def test_log_stores_the_natural_logarithm(closes: pd.DataFrame) -> None:
    out = run(
        closes, columns="close", functions="SMA", windows=[2], names="log", parameters={"log": True}
    )
    np.testing.assert_allclose(out["close_SMA_log_2"], np.log(sma(CLOSE, 2)))


def test_relative_pairs_outputs_of_the_same_name_for_multi_output_functions() -> None:
    out = run(
        HLC,
        columns="close",
        functions="BBANDS",
        windows=[2, 3],
        parameters={"rel_base": "next", "rel_func": "diff"},
    )
    plain = run(HLC, columns="close", functions="BBANDS", windows=[2, 3])
    for band in ("upperband", "middleband", "lowerband"):
        np.testing.assert_allclose(
            out[f"close_BBANDS_2_{band}"],
            plain[f"close_BBANDS_2_{band}"] - plain[f"close_BBANDS_3_{band}"],
        )
        np.testing.assert_array_equal(
            out[f"close_BBANDS_3_{band}"], plain[f"close_BBANDS_3_{band}"]
        )


# ---- frame handling -------------------------------------------------------------------------


def test_output_keeps_any_index_and_leaves_the_input_alone() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
    df = pd.DataFrame({"close": [1.0, NAN, 3.0, 4.0]}, index=idx)
    before = df.copy()
    out = run(df, columns="close", functions="SMA", windows=[2])
    assert out.index.equals(idx)
    pd.testing.assert_frame_equal(df, before)


def test_output_columns_match_the_generated_columns() -> None:
    c = cfg(columns="close", functions=["SMA", "BBANDS", "RSI"], windows=[2, 3])
    assert tuple(generate_talib(HLC, c).columns) == c.output_columns()


def test_missing_input_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="talib: missing input column 'volume'"):
        run(HLC, columns="volume", functions="SMA", windows=[2])


# ---- lookback -------------------------------------------------------------------------------


def test_lookback_is_the_largest_window_for_stable_functions() -> None:
    assert cfg(columns="close", functions="SMA", windows=[1, 3, 24]).lookback() == 24
    assert cfg(columns="close", functions="LINEARREG_SLOPE", windows=[12, 6]).lookback() == 12
    assert cfg(columns="close", functions="SMA", windows=[1]).lookback() == 1


def test_lookback_of_unstable_functions_adds_thirty_lookbacks_of_history() -> None:
    # TA-Lib's EMA(14) lookback is 13 rows -> 14 rows for a first value, times 31
    assert cfg(columns="close", functions="EMA", windows=[14]).lookback() == 14 * 31


# ---- configuration errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"columns": "close", "functions": ["FOO"]}, "unknown TA-Lib function 'FOO'"),
        ({"columns": "close", "functions": ["sma"]}, "did you mean 'SMA'"),
        ({"columns": "close", "functions": "SMA", "windows": ["a"]}, "windows"),
        ({"columns": "close", "functions": "SMA", "windows": [2.5]}, "windows"),
        ({"columns": "close", "functions": "SMA", "windows": [-3]}, "negative"),
        ({"columns": "close", "functions": "SMA", "window": [3]}, "unknown key 'window'"),
        ({"columns": "close", "functions": "SMA", "parameters": {"bias": True}}, "bias"),
        ({"columns": ["high", "low"], "functions": "ADD", "windows": [3]}, "no timeperiod"),
        ({"columns": "close", "functions": "ATR", "windows": [3]}, "takes 3 input column"),
        ({"columns": {"real": "close"}, "functions": "ATR"}, "takes the inputs high, low"),
        ({"columns": "close", "functions": "SMA", "windows": [3, 200000]}, "TA-Lib rejects SMA"),
        ({"columns": "close", "functions": "SMA", "windows": [2, 3], "names": ["a"]}, "2 windows"),
        (
            {"columns": "close", "functions": "SMA", "parameters": {"rel_base": "next"}},
            "needs rel_func",
        ),
        (
            {"columns": "close", "functions": "SMA", "parameters": {"rel_base": "middle"}},
            "rel_base",
        ),
        ({"columns": "close", "functions": "SMA", "args": {"nbdev": 2}}, "no parameter 'nbdev'"),
    ],
)
def test_invalid_config_is_a_config_error_naming_the_problem(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        cfg(**raw)


# ---- causality ------------------------------------------------------------------------------

prices = st.lists(st.floats(1.0, 1000.0), min_size=2, max_size=60)


@settings(max_examples=40, deadline=None)
@given(values=prices, data=st.data())
def test_features_never_read_the_future(values: list[float], data: st.DataObject) -> None:
    """A prefix of the candles gives the same first rows (data without NaN gaps: interpolation
    of a gap reads the next valid value, spec j.4)."""
    close = np.array(values)
    df = pd.DataFrame({"high": close * 1.01, "low": close * 0.99, "close": close})
    k = data.draw(st.integers(1, len(values)))
    entries = [
        cfg(
            columns="close",
            functions=["SMA", "EMA", "RSI", "STDDEV"],
            windows=[1, 2, 5],
            parameters={"rel_base": "next", "rel_func": "rel_diff", "percentage": True},
        ),
        cfg(columns=["high", "low", "close"], functions=["ATR", "STOCH"]),
        cfg(
            columns="close",
            functions="LINEARREG_SLOPE",
            windows=[3, 7],
            parameters={"rel_base": "first", "rel_func": "diff"},
        ),
    ]
    for entry in entries:
        full = generate_talib(df, entry)
        prefix = generate_talib(df.iloc[:k], entry)
        np.testing.assert_array_equal(prefix.to_numpy(), full.iloc[:k].to_numpy())


@pytest.mark.parametrize("function", ["SMA", "STDDEV", "VAR", "LINEARREG_SLOPE"])
def test_fixed_window_statistics_do_not_depend_on_where_the_series_starts(function: str) -> None:
    from itb_ext.features.talib import window_statistic

    rng = np.random.default_rng(5)
    close = 8000.0 + np.cumsum(rng.normal(0, 30, 3000))
    full = window_statistic(function, close, 24)
    for skip in (1, 7, 500):
        later = window_statistic(function, close[skip:], 24)
        # bit for bit: a candle's feature is the same whatever history was loaded before it
        assert np.array_equal(later[23:], full[skip + 23 :])
    reference = getattr(talib, function)(close, timeperiod=24)
    np.testing.assert_allclose(full, reference, rtol=1e-7, atol=1e-9 * close.mean())
