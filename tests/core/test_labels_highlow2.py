"""Exact values and invariants of the ``highlow2`` labels (first barrier crossed)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.labels import Highlow2Config
from itb_ext.errors import ConfigError, DataError
from itb_ext.labels.highlow2 import generate_highlow2

NAN = float("nan")
NA = None  # how an unknown label appears in ``to_list()`` checks below


def config(**overrides: Any) -> Highlow2Config:
    raw: dict[str, Any] = {
        "columns": ["close", "high", "low"],
        "function": "high",
        "thresholds": [2.0],
        "tolerance": 0.5,
        "horizon": 3,
        "names": ["up"],
    }
    raw.update(overrides)
    return validate(Highlow2Config, raw, "test")


def as_list(col: pd.Series) -> list[Any]:
    assert str(col.dtype) == "boolean"
    return [None if v is pd.NA else bool(v) for v in col]


def labels(close: list[float], high: list[float], low: list[float], **cfg: Any) -> list[Any]:
    df = pd.DataFrame({"close": close, "high": high, "low": low})
    out = generate_highlow2(df, config(**cfg))
    return as_list(out[out.columns[0]])


def first_label(high: list[float], low: list[float], **cfg: Any) -> Any:
    """Label of row 0 (close 100) for the given future bars (horizon = number of bars)."""
    n = len(high)
    close = [100.0] + [100.0] * n
    # Row 0's own high/low are never looked at: make them extreme.
    out = labels(close, [500.0, *high], [1.0, *low], horizon=n, **cfg)
    return out[0]


# With close 100, threshold 2 % and tolerance 0.5 the target level is 100*(1+2/100) = 102.0 and
# the adverse level 100*(1+round(-2*0.5, 6)/100) = 100*0.99 = 99.0 (both exact in binary64).


def test_highlow2_true_when_target_reached_before_adverse_move() -> None:
    assert first_label([101.0, 102.5, 100.0], [99.5, 99.5, 98.0]) is True


def test_highlow2_false_when_adverse_move_comes_first() -> None:
    assert first_label([101.0, 102.5, 100.0], [98.9, 99.5, 99.5]) is False


def test_highlow2_same_bar_cross_of_both_levels_is_true() -> None:
    assert first_label([101.0, 102.5, 100.0], [99.5, 98.0, 99.5]) is True


def test_highlow2_false_when_nothing_is_crossed() -> None:
    assert first_label([101.0, 101.9, 100.0], [99.5, 99.1, 99.5]) is False


def test_highlow2_uses_strict_inequalities_at_both_levels() -> None:
    # exactly on the levels 102.0 / 99.0: neither counts as a cross
    assert first_label([102.0, 102.0, 102.0], [99.5, 99.5, 99.5]) is False
    assert first_label([102.0, 102.01, 100.0], [99.0, 99.5, 99.5]) is True


def test_highlow2_low_function_mirrors_high() -> None:
    # target: low < 100*(1-2/100) = 98.0; adverse: high > 100*(1+round(2*0.5, 6)/100) = 101.0
    assert first_label([100.5, 100.5], [97.9, 99.0], function="low") is True
    assert first_label([101.01, 100.5], [97.9, 97.0], function="low") is True  # same bar
    assert first_label([101.01, 100.5], [99.0, 97.0], function="low") is False
    assert first_label([101.0, 100.5], [98.0, 99.0], function="low") is False  # on the levels


def test_highlow2_rounds_the_adverse_level_to_six_decimals_as_itb() -> None:
    # tolerance 0.1234567: α = round(-1 * 0.1234567, 6) = -0.123457, adverse level
    # 100*(1 - 0.00123457) = 99.876543. A low of 99.8765431 is above it (no adverse cross),
    # although it is below the unrounded level 99.8765433.
    cfg = {"thresholds": [1.0], "tolerance": 0.1234567}
    assert first_label([100.5, 101.5], [99.8765431, 99.9], **cfg) is True
    assert first_label([100.5, 101.5], [99.8765429, 99.9], **cfg) is False


def test_highlow2_does_not_look_at_the_current_bar() -> None:
    close = [100.0, 100.0, 100.0]
    assert labels(close, [200.0, 100.0, 100.0], [50.0, 100.0, 100.0], horizon=2)[0] is False


def test_highlow2_marks_unknown_future_as_na() -> None:
    close = [100.0] * 5
    high = [100.0, 100.0, 103.0, 100.0, 100.0]
    low = [100.0] * 5
    # rows 0,1 see bar 2 (103 > 102), row 2 sees nothing; rows 3,4 lack a complete 2-bar window
    assert labels(close, high, low, horizon=2) == [True, True, False, NA, NA]


def test_highlow2_all_unknown_when_data_shorter_than_horizon() -> None:
    assert labels([100.0, 101.0], [100.0, 101.0], [100.0, 101.0], horizon=5) == [NA, NA]


def test_highlow2_missing_reference_price_is_unknown() -> None:
    close = [NAN, 100.0, 100.0]
    assert labels(close, [100.0, 110.0, 110.0], [100.0] * 3, horizon=1)[0] is NA


def test_highlow2_missing_price_before_decision_is_unknown() -> None:
    assert first_label([NAN, 103.0], [99.5, 99.5]) is NA
    assert first_label([101.0, 103.0], [NAN, 99.5]) is NA
    # no cross anywhere but a missing bar: the target might have been crossed there
    assert first_label([101.0, NAN, 101.0], [99.5, 99.5, 99.5]) is NA


def test_highlow2_missing_price_after_decision_does_not_matter() -> None:
    assert first_label([103.0, NAN], [99.5, NAN]) is True
    assert first_label([101.0, NAN], [98.0, NAN]) is False


def test_highlow2_target_cross_with_missing_adverse_price_in_same_bar_is_true() -> None:
    # same-bar ties are positive, so the missing adverse price cannot change the result
    assert first_label([103.0, 100.0], [NAN, 99.5]) is True


def test_highlow2_adverse_cross_with_missing_target_price_in_same_bar_is_unknown() -> None:
    assert first_label([NAN, 100.0], [98.0, 99.5]) is NA


def test_highlow2_one_column_per_threshold_in_name_order() -> None:
    df = pd.DataFrame({"close": [100.0] * 3, "high": [100.0, 101.5, 100.0], "low": [100.0] * 3})
    out = generate_highlow2(df, config(thresholds=[1.0, 2.0], names=["h1", "h2"], horizon=2))
    assert list(out.columns) == ["h1", "h2"]
    assert out["h1"].tolist()[0] is True
    assert out["h2"].tolist()[0] is False


def test_highlow2_keeps_any_index_and_does_not_mutate_input() -> None:
    idx = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    df = pd.DataFrame(
        {"close": [100.0] * 4, "high": [100.0, 103.0, 100.0, 100.0], "low": [100.0] * 4},
        index=idx,
    )
    before = df.copy()
    out = generate_highlow2(df, config(horizon=1))
    assert out.index.equals(idx)
    pd.testing.assert_frame_equal(df, before)
    assert as_list(out["up"]) == [True, False, False, NA]


def test_highlow2_reports_missing_input_column() -> None:
    df = pd.DataFrame({"close": [1.0], "high": [1.0]})
    with pytest.raises(DataError, match="highlow2: missing input column 'low'"):
        generate_highlow2(df, config())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"names": ["a", "b"]}, "one name per threshold"),
        ({"function": "up"}, "function"),
        ({"horizon": 0}, "horizon"),
        ({"columns": ["close", "high"]}, "columns"),
        ({"thresholds": [0.0]}, "non-zero"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"thresholds": [1.0, 2.0], "names": ["a", "a"]}, "duplicate"),
    ],
)
def test_highlow2_rejects_invalid_config(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(**overrides)


def test_highlow2_config_accepts_a_single_threshold_and_reports_horizon() -> None:
    cfg = config(thresholds=3, horizon=24)
    assert cfg.thresholds == (3,)
    assert cfg.horizon() == 24
    assert cfg.input_columns() == ("close", "high", "low")
    assert cfg.output_columns() == ("up",)


# ---- properties -------------------------------------------------------------------------------

PRICES = st.sampled_from([97.0, 98.5, 99.0, 99.5, 100.0, 100.5, 101.0, 102.0, 103.0, NAN])


def slow_highlow2(
    close: list[float],
    high: list[float],
    low: list[float],
    theta: float,
    tol: float,
    h: int,
    rising: bool,
) -> list[Any]:
    """Bar-by-bar reading of the documented definition."""
    n = len(close)
    out: list[Any] = []
    signed = theta if rising else -theta
    alpha = round(-signed * tol, 6)
    for t in range(n):
        p = close[t]
        if t + h > n - 1 or math.isnan(p):
            out.append(NA)
            continue
        target_level = p * (1 + signed / 100.0)
        adverse_level = p * (1 + alpha / 100.0)
        result: Any = False
        for j in range(t + 1, t + h + 1):
            tgt, adv = (high[j], low[j]) if rising else (low[j], high[j])
            hit = tgt > target_level if rising else tgt < target_level
            against = adv < adverse_level if rising else adv > adverse_level
            if hit:
                result = True
                break
            if math.isnan(tgt) or math.isnan(adv):
                result = NA
                break
            if against:
                result = False
                break
        out.append(result)
    return out


@st.composite
def bars(draw: st.DrawFn) -> tuple[list[float], list[float], list[float]]:
    n = draw(st.integers(1, 14))
    close = draw(st.lists(PRICES, min_size=n, max_size=n))
    high = draw(st.lists(PRICES, min_size=n, max_size=n))
    low = draw(st.lists(PRICES, min_size=n, max_size=n))
    return close, high, low


@settings(max_examples=150, deadline=None)
@given(
    data=bars(),
    theta=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
    tol=st.sampled_from([0.0, 0.2, 0.5, 1.0]),
    h=st.integers(1, 5),
    rising=st.booleans(),
)
def test_highlow2_matches_bar_by_bar_definition(
    data: tuple[list[float], list[float], list[float]],
    theta: float,
    tol: float,
    h: int,
    rising: bool,
) -> None:
    close, high, low = data
    got = labels(
        close,
        high,
        low,
        thresholds=[theta],
        tolerance=tol,
        horizon=h,
        function="high" if rising else "low",
    )
    assert got == slow_highlow2(close, high, low, theta, tol, h, rising)


@settings(max_examples=100, deadline=None)
@given(
    data=bars(),
    other=bars(),
    h=st.integers(1, 4),
    t_frac=st.floats(0, 1),
    rising=st.booleans(),
)
def test_highlow2_label_depends_only_on_rows_t_to_t_plus_h(
    data: tuple[list[float], list[float], list[float]],
    other: tuple[list[float], list[float], list[float]],
    h: int,
    t_frac: float,
    rising: bool,
) -> None:
    close, high, low = data
    n = len(close)
    t = min(n - 1, int(t_frac * n))
    # replace every bar outside t .. t+H by another one
    alt = [list(col) for col in data]
    for j in range(n):
        if not t <= j <= t + h:
            for col, src in zip(alt, other, strict=True):
                col[j] = src[j % len(src)]
    fn = "high" if rising else "low"
    before = labels(close, high, low, horizon=h, function=fn)[t]
    after = labels(alt[0], alt[1], alt[2], horizon=h, function=fn)[t]
    assert before == after


def test_highlow2_vectorised_windows_agree_across_chunks() -> None:
    # more rows than one chunk (2**20 cells / H = 1024 rows): compare with the bar-by-bar reading
    rng = np.random.default_rng(7)
    n, h = 2200, 1024
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    high = close * (1 + np.abs(rng.normal(0, 0.003, n)))
    low = close * (1 - np.abs(rng.normal(0, 0.003, n)))
    high[1234] = NAN
    got = labels(list(close), list(high), list(low), thresholds=[5.0], tolerance=0.2, horizon=h)
    want = slow_highlow2(list(close), list(high), list(low), 5.0, 0.2, h, True)
    assert got == want
