"""The ``tsfresh`` feature generator: tsfresh's statistics over ITB's partial windows, natively."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tsfresh.feature_extraction.feature_calculators as tsf
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from itb_ext.config.base import validate
from itb_ext.config.features import TsfreshConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.features.tsfresh import generate_tsfresh
from itb_ext.pipeline.steps import parse_section, run_steps
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
CANDLES = ROOT / "user_data" / "data" / "bitfinex" / "BTC_USD-1h.feather"
NAN = np.nan
STEMS = ("skewness", "kurtosis", "msdc", "lsbm", "fmax")

# tsfresh's own calculators, as ITB calls them
CALCULATORS: dict[str, Callable[[np.ndarray], float]] = {
    "skewness": tsf.skewness,
    "kurtosis": tsf.kurtosis,
    "msdc": tsf.mean_second_derivative_central,
    "lsbm": tsf.longest_strike_below_mean,
    "fmax": tsf.first_location_of_maximum,
}


def cfg(**raw: Any) -> TsfreshConfig:
    return validate(TsfreshConfig, raw, "feature_sets[0] (tsfresh): config")


def run(values: list[float], windows: list[int]) -> pd.DataFrame:
    return generate_tsfresh(pd.DataFrame({"close": values}), cfg(columns="close", windows=windows))


def with_tsfresh(values: np.ndarray, window: int) -> dict[str, np.ndarray]:
    """ITB's mechanism: each tsfresh calculator over ``rolling(w, max(1, w // 2))`` windows of
    the interpolated column."""
    series = pd.Series(values).interpolate()
    rolling = series.rolling(window, min_periods=max(1, window // 2))
    return {
        stem: rolling.apply(fn, raw=True).to_numpy(dtype=np.float64)
        for stem, fn in CALCULATORS.items()
    }


def assert_like_tsfresh(values: np.ndarray, windows: list[int]) -> None:
    out = generate_tsfresh(pd.DataFrame({"close": values}), cfg(columns="close", windows=windows))
    for w in windows:
        expected = with_tsfresh(values, w)
        for stem in ("msdc", "lsbm", "fmax"):
            # same operations as tsfresh: the same bits
            np.testing.assert_array_equal(out[f"close_{stem}_{w}"], expected[stem], err_msg=stem)
        for stem in ("skewness", "kurtosis"):
            # pandas accumulates its moment sums in its own grouping
            np.testing.assert_allclose(
                out[f"close_{stem}_{w}"], expected[stem], rtol=1e-9, atol=1e-11, err_msg=stem
            )


@pytest.fixture(scope="module")
def btc_close() -> np.ndarray:
    """400 real hourly closes (BTC/USD, Bitfinex, from 2017-11-12)."""
    close = pd.read_feather(CANDLES)["close"].to_numpy(dtype=np.float64)
    return close[1000:1400].copy()


# ---- parity with the tsfresh package ---------------------------------------------------------


def test_real_candles_match_tsfresh(btc_close: np.ndarray) -> None:
    # every window starts with partial windows; w = 3 and 4 have min_periods 1 and 2, so rows
    # with 1-3 values are evaluated (skewness needs 3, kurtosis 4, msdc 3)
    assert_like_tsfresh(btc_close, [3, 4, 12, 24, 168])


def test_real_candles_with_gaps_and_infinities_match_tsfresh(btc_close: np.ndarray) -> None:
    x = btc_close.copy()
    x[:3] = NAN  # leading: stays missing after interpolation
    x[50:53] = NAN  # interior: interpolated
    x[100] = np.inf  # missing for every window function
    x[200] = -np.inf
    assert_like_tsfresh(x, [2, 5, 12, 24])


def test_lsbm_uses_numpys_own_window_mean() -> None:
    """Prices on a 0.1 grid: the mean of a window often equals one of its prices up to rounding,
    and whether that price is below the mean depends on how the window is summed."""
    rng = np.random.default_rng(1)
    x = np.round(rng.normal(100.0, 1.0, 400), 1)
    windows = [9, 12, 24, 130]
    out = generate_tsfresh(pd.DataFrame({"close": x}), cfg(columns="close", windows=windows))
    for w in windows:
        np.testing.assert_array_equal(out[f"close_lsbm_{w}"], with_tsfresh(x, w)["lsbm"])


@pytest.mark.skipif(
    Version(pd.__version__) < Version("3.1"),
    reason="pandas before 3.1 gives 0 for the skewness of a constant window",
)
def test_constant_stretch_matches_tsfresh() -> None:
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0] + [2.5] * 8 + [9.0, 2.0, 6.0])
    assert_like_tsfresh(x, [3, 4, 6])


# ---- exact values on a tiny frame -------------------------------------------------------------

# x = 5, 1, 2, 6, 0, 3 with window 4 (min_periods 2): windows
#   row 0: [5] -> NaN (1 value < 2)   row 1: [5, 1]        row 2: [5, 1, 2]
#   row 3: [5, 1, 2, 6]               row 4: [1, 2, 6, 0]  row 5: [2, 6, 0, 3]
X = [5.0, 1.0, 2.0, 6.0, 0.0, 3.0]


def test_mean_second_derivative_central_by_hand() -> None:
    out = run(X, [4])
    # row 2: one term (2 - 2*1 + 5)/2 = 2.5; row 3: terms 2.5 and (6 - 2*2 + 1)/2 = 1.5 -> 2;
    # row 4: (6 - 4 + 1)/2 = 1.5 and (0 - 12 + 2)/2 = -5 -> -1.75;
    # row 5: (0 - 12 + 2)/2 = -5 and (3 - 0 + 6)/2 = 4.5 -> -0.25; rows 0-1: fewer than 3 values
    np.testing.assert_allclose(out["close_msdc_4"], [NAN, NAN, 2.5, 2.0, -1.75, -0.25])


def test_longest_strike_below_mean_by_hand() -> None:
    out = run(X, [4])
    # row 1: mean 3 -> [F, T] = 1; row 2: mean 8/3 -> [F, T, T] = 2; row 3: mean 3.5 ->
    # [F, T, T, F] = 2; row 4: mean 2.25 -> [T, T, F, T] = 2; row 5: mean 2.75 -> [T, F, T, F] = 1
    np.testing.assert_array_equal(out["close_lsbm_4"], [NAN, 1.0, 2.0, 2.0, 2.0, 1.0])


def test_first_location_of_maximum_by_hand() -> None:
    out = run([1.0, 3.0, 3.0, 2.0, 0.0, 4.0], [4])
    # [1, 3] -> 1/2; [1, 3, 3] -> 1/3 (the first of a tie); [1, 3, 3, 2] -> 1/4; [3, 3, 2, 0] -> 0;
    # [3, 2, 0, 4] -> 3/4
    np.testing.assert_array_equal(out["close_fmax_4"], [NAN, 0.5, 1 / 3, 0.25, 0.0, 0.75])


def _g1(s2: float, s3: float, n: int) -> float:
    """Bias-corrected skewness from the sums of squared and cubed deviations."""
    return n * math.sqrt(n - 1) / (n - 2) * s3 / s2**1.5


def _g2(s2: float, s4: float, n: int) -> float:
    """Bias-corrected excess kurtosis from the sums of squared and fourth-power deviations."""
    return n * (n + 1) * (n - 1) * s4 / ((n - 2) * (n - 3) * s2**2) - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )


def test_skewness_and_kurtosis_by_hand() -> None:
    out = run(X, [4])
    # deviations from the window mean, and their sums of powers:
    #   row 2 [5, 1, 2]: mean 8/3, d = 7/3, -5/3, -2/3: S2 = 78/9, S3 = 210/27
    #   row 3 [5, 1, 2, 6]: mean 3.5, d = 1.5, -2.5, -1.5, 2.5: S2 = 17, S3 = 0, S4 = 88.25
    #   row 4 [1, 2, 6, 0]: mean 2.25, d = -1.25, -0.25, 3.75, -2.25: S2 = 20.75,
    #     S3 = 2520/64, S4 = 57812/256
    #   row 5 [2, 6, 0, 3]: mean 2.75, d = -0.75, 3.25, -2.75, 0.25: S2 = 18.75,
    #     S3 = 840/64, S4 = 43284/256
    skewness = [
        NAN,
        NAN,
        _g1(78 / 9, 210 / 27, 3),
        0.0,
        _g1(20.75, 2520 / 64, 4),
        _g1(18.75, 840 / 64, 4),
    ]
    kurtosis = [
        NAN,
        NAN,
        NAN,
        _g2(17, 88.25, 4),
        _g2(20.75, 57812 / 256, 4),
        _g2(18.75, 43284 / 256, 4),
    ]
    np.testing.assert_allclose(out["close_skewness_4"], skewness, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["close_kurtosis_4"], kurtosis, rtol=1e-12)
    # the third value, written out: 3 sqrt(2) (70/9) / (26/3)^1.5
    assert out["close_skewness_4"].iloc[2] == pytest.approx(1.2933427807333961, rel=1e-12)


def test_missing_values_inside_a_window() -> None:
    # window 6, min_periods 3; the leading NaN stays missing after interpolation
    out = run([NAN, 1.0, 4.0, 2.0, 8.0, 3.0, 5.0], [6])
    # rows 0-2 hold fewer than 3 values
    assert out.iloc[:3].isna().all().all()
    # skewness: NaN while the window holds the missing value (tsfresh passes skipna=False)
    assert out["close_skewness_6"].iloc[:6].isna().all()
    assert not math.isnan(out["close_skewness_6"].iloc[6])
    # kurtosis skips it: row 4 is the kurtosis of [1, 4, 2, 8] (mean 3.75, S2 = 28.75,
    # S4 = 392.828125); row 3 has 3 values only
    assert math.isnan(out["close_kurtosis_6"].iloc[3])
    assert out["close_kurtosis_6"].iloc[4] == pytest.approx(_g2(28.75, 392.828125, 4), rel=1e-12)
    # msdc reads the first value of the window: NaN until the missing value has left it;
    # row 6 [1, 4, 2, 8, 3, 5]: (5 - 3 - 4 + 1) / (2 * 4)
    np.testing.assert_array_equal(out["close_msdc_6"], [NAN] * 6 + [-1 / 8])
    # lsbm: the mean is NaN, nothing is below it; row 6: mean 23/6 -> [T, F, T, F, T, F] = 1
    np.testing.assert_array_equal(out["close_lsbm_6"], [NAN] * 3 + [0.0] * 3 + [1.0])
    # fmax: the missing value counts as the maximum (np.argmax); row 6: 8 at position 3 of 6
    np.testing.assert_array_equal(out["close_fmax_6"], [NAN] * 3 + [0.0] * 3 + [0.5])


def test_infinity_is_a_missing_value() -> None:
    out = run([1.0, 4.0, np.inf, 2.0, 8.0, 3.0], [6])
    last = out.iloc[5]
    # a missing value between the ends leaves msdc alone: (3 - 8 - 4 + 1) / (2 * 4)
    assert last["close_msdc_6"] == -1.0
    assert math.isnan(last["close_skewness_6"])
    # the five present values [1, 4, 2, 8, 3]: mean 3.6, S2 = 29.2, S4 = 427.216
    assert last["close_kurtosis_6"] == pytest.approx(_g2(29.2, 427.216, 5), rel=1e-12)
    assert last["close_lsbm_6"] == 0.0
    assert last["close_fmax_6"] == 2 / 6


def test_constant_window() -> None:
    out = run([7.0] * 6, [4])
    # skewness and kurtosis are undefined (no spread); the others are ordinary numbers
    assert out["close_skewness_4"].isna().all()
    assert out["close_kurtosis_4"].isna().all()
    np.testing.assert_array_equal(out["close_msdc_4"], [NAN, NAN, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out["close_lsbm_4"], [NAN, 0.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out["close_fmax_4"], [NAN, 0.0, 0.0, 0.0, 0.0, 0.0])


def test_skewness_and_kurtosis_do_not_depend_on_the_price_level(btc_close: np.ndarray) -> None:
    """An asset priced a billionth as high has the same shape statistics (no absolute rounding
    threshold: pandas 2 zeroed sums of squared deviations below 1e-14)."""
    high = generate_tsfresh(pd.DataFrame({"close": btc_close}), cfg(columns="close", windows=24))
    low = generate_tsfresh(
        pd.DataFrame({"close": btc_close * 1e-9}), cfg(columns="close", windows=24)
    )
    for stem in ("skewness", "kurtosis"):
        np.testing.assert_allclose(low[f"close_{stem}_24"], high[f"close_{stem}_24"], rtol=1e-8)
    assert (low["close_skewness_24"].dropna().abs() > 1e-3).mean() > 0.9


def test_window_one_and_two() -> None:
    out = run([2.0, 5.0, 1.0], [1, 2])
    # one or two values: no skewness, kurtosis or second derivative
    for w in (1, 2):
        for stem in ("skewness", "kurtosis", "msdc"):
            assert out[f"close_{stem}_{w}"].isna().all()
    np.testing.assert_array_equal(out["close_lsbm_1"], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out["close_fmax_1"], [0.0, 0.0, 0.0])
    # [2] -> 0 below; [2, 5] -> 2 below 3.5; [5, 1] -> 1 below 3
    np.testing.assert_array_equal(out["close_lsbm_2"], [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(out["close_fmax_2"], [0.0, 0.5, 0.0])


# ---- causality ------------------------------------------------------------------------------


def test_values_on_a_prefix_equal_those_on_the_whole_frame(btc_close: np.ndarray) -> None:
    df = pd.DataFrame({"close": btc_close})
    c = cfg(columns="close", windows=[3, 24, 168])
    full = generate_tsfresh(df, c)
    for k in (1, 2, 100, 170, 399):
        prefix = generate_tsfresh(df.iloc[:k], c)
        np.testing.assert_array_equal(prefix.to_numpy(), full.iloc[:k].to_numpy())


def test_lookback_rows_of_history_are_enough(btc_close: np.ndarray) -> None:
    """Once ``lookback()`` rows are loaded, earlier history changes nothing."""
    df = pd.DataFrame({"close": btc_close})
    c = cfg(columns="close", windows=[5, 48])
    full = generate_tsfresh(df, c)
    for start in (1, 37, 200):
        late = generate_tsfresh(df.iloc[start:], c)
        settled = c.lookback() - 1
        np.testing.assert_array_equal(
            late.iloc[settled:].to_numpy(), full.iloc[start + settled :].to_numpy()
        )


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(1.0, 1000.0), min_size=1, max_size=60), data=st.data())
def test_features_never_read_the_future(values: list[float], data: st.DataObject) -> None:
    """Bit for bit on any prefix (data without NaN gaps: interpolating a gap reads the next
    valid value, spec j.4)."""
    df = pd.DataFrame({"close": values})
    k = data.draw(st.integers(1, len(values)))
    c = cfg(columns="close", windows=[1, 4, 9, 12])
    full = generate_tsfresh(df, c)
    prefix = generate_tsfresh(df.iloc[:k], c)
    np.testing.assert_array_equal(prefix.to_numpy(), full.iloc[:k].to_numpy())


# ---- configuration ----------------------------------------------------------------------------


def test_names_order_and_the_first_column() -> None:
    df = pd.DataFrame({"close": X, "open": X[::-1]})
    c = cfg(columns=["close", "open"], windows=[4, 2], functions=["anything", "ignored"])
    out = generate_tsfresh(df, c)
    expected = [f"close_{s}_{w}" for w in (4, 2) for s in STEMS]
    assert list(out.columns) == expected
    assert c.output_columns() == tuple(expected)
    assert c.input_columns() == ("close",)
    assert c.lookback() == 4
    # functions change nothing (as ITB)
    plain = generate_tsfresh(df, cfg(columns="close", windows=[4, 2]))
    pd.testing.assert_frame_equal(out, plain)
    # the dict form takes its first column too
    assert cfg(columns={"real": "open"}, windows=3).input_columns() == ("open",)


def test_output_keeps_the_index() -> None:
    index = pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC")
    out = generate_tsfresh(pd.DataFrame({"close": X}, index=index), cfg(columns="close", windows=4))
    assert out.index.equals(index)
    assert (out.dtypes == np.float64).all()


def test_missing_input_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match="tsfresh: missing input column 'close'"):
        generate_tsfresh(pd.DataFrame({"open": X}), cfg(columns="close", windows=2))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"columns": "close", "windows": [0]}, "positive"),
        ({"columns": "close", "windows": ["12"]}, "windows"),
        ({"columns": "close"}, "missing required key 'windows'"),
        ({"columns": "close", "windows": [12, 24, 12]}, "window 12 is given more than once"),
        ({"columns": [], "windows": [3]}, "at least one input column"),
        ({"columns": "close", "windows": [3], "win": 3}, "unknown key"),
    ],
)
def test_invalid_config_is_a_config_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cfg(**raw)


# ---- in the pipeline, the command and the FreqAI setup -----------------------------------------


def candles(close: np.ndarray) -> pd.DataFrame:
    n = len(close)
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": np.ones(n),
        }
    )


ENTRY = {
    "generator": "tsfresh",
    "column_prefix": "btc",
    "feature_prefix": "tsf",
    "config": {"columns": ["close"], "windows": [6, 12]},
}


def test_pipeline_entry_honours_column_and_feature_prefixes(btc_close: np.ndarray) -> None:
    (step,) = parse_section([ENTRY], "feature_sets")
    assert step.lookback() == 12
    assert step.input_columns() == ("btc_close",)
    df = pd.DataFrame({"btc_close": btc_close[:50], "close": np.ones(50)})
    out = run_steps(df, [step])
    direct = generate_tsfresh(pd.DataFrame({"close": btc_close[:50]}), cfg(**ENTRY["config"]))
    for name in direct.columns:
        np.testing.assert_array_equal(out[f"tsf_{name}"], direct[name])
    assert step.output_columns() == tuple(f"tsf_{n}" for n in direct.columns)


def test_compute_command_writes_the_features(tmp_path: Path, btc_close: np.ndarray) -> None:
    n = 60
    data = tmp_path / "candles.feather"
    candles(btc_close[:n]).to_feather(data)
    config = tmp_path / "itb.json"
    entry = {"generator": "tsfresh", "config": {"columns": "close", "windows": [24]}}
    config.write_text(json.dumps({"feature_sets": [entry]}))
    out = tmp_path / "out.parquet"
    command = ["compute", "--config", config, "--data", data, "--out", out, "--quiet"]
    result = subprocess.run(
        [sys.executable, "-m", "itb_ext.cli", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = pd.read_parquet(out)
    expected = with_tsfresh(btc_close[:n], 24)
    np.testing.assert_array_equal(written["close_lsbm_24"], expected["lsbm"])
    np.testing.assert_allclose(written["close_skewness_24"], expected["skewness"], rtol=1e-9)


def test_freqai_setup_trains_on_the_features() -> None:
    sample = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())
    section = copy.deepcopy(sample["itb"])
    section["feature_sets"].append(
        {"generator": "tsfresh", "config": {"columns": "close", "windows": [24, 336]}}
    )
    setup = ITBSetup.from_freqtrade_config({"itb": section})
    assert setup.startup_candles() == 336
    assert "close_fmax_336" in setup.train_features
    rng = np.random.default_rng(4)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    frame = setup.feature_frame(candles(close))
    np.testing.assert_array_equal(frame["%-close_msdc_24"], with_tsfresh(close, 24)["msdc"])


def test_the_tsfresh_package_is_not_needed_at_run_time() -> None:
    code = (
        "import sys, pandas as pd\n"
        "from itb_ext.pipeline.steps import parse_section, run_steps\n"
        "steps = parse_section([{'generator': 'tsfresh', 'config': "
        "{'columns': 'close', 'windows': [3]}}], 'feature_sets')\n"
        "run_steps(pd.DataFrame({'close': [1.0, 2.0, 4.0, 3.0]}), steps)\n"
        "assert 'tsfresh' not in sys.modules, 'tsfresh was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
