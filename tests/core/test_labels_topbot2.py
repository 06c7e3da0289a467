"""Exact values and invariants of the ``topbot2`` labels, with and without a horizon."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.labels import Topbot2Config
from itb_ext.errors import ConfigError, DataError
from itb_ext.labels.topbot2 import generate_topbot2

NAN = float("nan")
NA = None
T, F = True, False


def config(**overrides: Any) -> Topbot2Config:
    raw: dict[str, Any] = {
        "columns": "close",
        "function": "top",
        "level": 0.2,
        "tolerances": [0.1],
        "names": ["top"],
    }
    raw.update(overrides)
    return validate(Topbot2Config, raw, "test")


def as_list(col: pd.Series) -> list[Any]:
    assert str(col.dtype) == "boolean"
    return [None if v is pd.NA else bool(v) for v in col]


def topbot(values: list[float], **cfg: Any) -> list[Any]:
    out = generate_topbot2(pd.DataFrame({"close": values}), config(**cfg))
    return as_list(out[out.columns[0]])


# level 0.2, tolerance 0.1 -> T = 0.02.
# Top 2.0 (row 1): dips below 1.6 at rows 0 and 2; plateau >= 1.96: row 1.
# Top 3.0 (row 3): dips below 2.4 at rows 2 and 5; plateau >= 2.94: rows 3, 4 (2.95).
# Top 2.9 (row 6): left, row 5 (2.0 < 2.32) comes before the higher row 4; right dip row 7;
# plateau >= 2.842: row 6.
PRICES_TOP = [1.0, 2.0, 1.5, 3.0, 2.95, 2.0, 2.9, 1.0]


def test_topbot2_marks_plateaus_of_tops() -> None:
    assert topbot(PRICES_TOP) == [F, T, F, T, T, F, T, F]


def test_topbot2_marks_plateaus_of_bottoms() -> None:
    # bottoms 2.0 (row 1, rises above 2.4 on both sides), 1.0 (row 3, plateau <= 1.02 also
    # holds row 4 = 1.01), 1.1 (row 6: row 5 = 2.0 > 1.32 comes before the lower row 4)
    prices = [3.0, 2.0, 2.5, 1.0, 1.01, 2.0, 1.1, 3.0]
    assert topbot(prices, function="bot") == [F, T, F, T, T, F, T, F]


def test_topbot2_needs_a_deeper_dip_on_both_sides() -> None:
    # the global maximum at the end has no right dip; row 1 has no left dip
    assert topbot([2.0, 2.1, 1.0, 1.5, 3.0]) == [F] * 5


def test_topbot2_level_comparison_is_strict() -> None:
    # level 0.25: a dip must be < 1.0 - 0.25 = 0.75 (exact); tolerance 0.5 -> plateau >= 0.875
    assert topbot([0.5, 1.0, 0.75, 0.5], level=0.25, tolerances=[0.5]) == [F, T, F, F]
    assert topbot([0.5, 1.0, 0.75, 0.75], level=0.25, tolerances=[0.5]) == [F, F, F, F]


def test_topbot2_first_of_equal_maxima_is_the_top_and_plateau_covers_both() -> None:
    assert topbot([1.0, 3.0, 3.0, 1.0]) == [F, T, T, F]


def test_topbot2_equal_maxima_without_a_dip_between_only_the_first_counts() -> None:
    # 2.5 is not a dip (>= 2.4) but below the plateau bound 2.94: the second 3.0 lies between
    # the first top and its right dip, so ITB never examines it
    assert topbot([1.0, 3.0, 2.5, 3.0, 1.0]) == [F, T, F, F, F]


def test_topbot2_equal_maxima_separated_by_a_dip_are_two_tops() -> None:
    # 2.0 < 3.0 - 0.6 = 2.4 separates them
    assert topbot([1.0, 3.0, 2.0, 3.0, 1.0]) == [F, T, F, T, F]


def test_topbot2_level_sign_is_ignored() -> None:
    assert topbot(PRICES_TOP, level=-0.2) == topbot(PRICES_TOP)


def test_topbot2_one_column_per_tolerance() -> None:
    df = pd.DataFrame({"close": PRICES_TOP})
    out = generate_topbot2(df, config(tolerances=[0.1, 0.5], names=["narrow", "wide"]))
    assert list(out.columns) == ["narrow", "wide"]
    # tolerance 0.5 -> T = 0.1: plateau of 3.0 is >= 2.7 (rows 3, 4), of 2.9 is >= 2.61
    # (row 6), of 2.0 is >= 1.8 (row 1)
    assert as_list(out["wide"]) == [F, T, F, T, T, F, T, F]


def test_topbot2_missing_tolerance_boundary_extends_plateau_to_data_edge() -> None:
    # ITB raises TypeError here (j.10): tolerance 3 -> T = 0.15, the plateau bound
    # 110*(1-0.15) = 93.5 is never undercut. Top 110 (dips 100 and 104 < 104.5 = 110*0.95).
    prices = [100.0, 110.0, 104.0, 103.0, 104.5]
    assert topbot(prices, level=0.05, tolerances=[3.0]) == [T] * 5


def test_topbot2_tolerance_above_one_extends_plateau_past_the_dips_like_itb() -> None:
    # level 0.1, tolerance 2 -> T = 0.2: top 10 (dips 8.5 < 9 on both sides); plateau >= 8,
    # bounded by 7.5 (row 0) and 7 (row 6)
    prices = [7.5, 8.5, 10.0, 8.5, 8.0, 8.2, 7.0]
    assert topbot(prices, level=0.1, tolerances=[2.0]) == [F, T, T, T, T, T, F]


def test_topbot2_missing_prices_are_neither_dips_nor_peaks() -> None:
    assert topbot([1.0, 2.0, NAN, 1.5, NAN]) == [F, T, T, F, F]
    assert topbot([NAN, NAN]) == [F, F]


def test_topbot2_works_on_any_index_and_keeps_it() -> None:
    idx = pd.date_range("2024-01-01", periods=len(PRICES_TOP), freq="1h", tz="UTC")
    df = pd.DataFrame({"close": PRICES_TOP}, index=idx)
    before = df.copy()
    out = generate_topbot2(df, config())
    assert out.index.equals(idx)
    assert as_list(out["top"]) == [F, T, F, T, T, F, T, F]
    pd.testing.assert_frame_equal(df, before)


def test_topbot2_empty_frame() -> None:
    out = generate_topbot2(pd.DataFrame({"close": pd.Series([], dtype="float64")}), config())
    assert list(out.columns) == ["top"]
    assert len(out) == 0


def test_topbot2_horizon_needs_confirmation_within_h_bars() -> None:
    # H = 1: top 2.0 confirmed at row 2 (row 1 ok); top 3.0 confirmed at row 5: only row 4
    # (5 - 1) of its plateau; top 2.9 confirmed at row 7: row 6; the last row is unknown.
    assert topbot(PRICES_TOP, horizon=1) == [F, T, F, F, T, F, T, NA]
    assert topbot(PRICES_TOP, horizon=2) == [F, T, F, T, T, F, NA, NA]


def test_topbot2_horizon_is_reported() -> None:
    assert config().horizon() is None
    assert config(horizon=12).horizon() == 12


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"names": ["a", "b"]}, "one name per tolerance"),
        ({"function": "high"}, "function"),
        ({"level": 0}, "level must be non-zero"),
        ({"tolerances": [-0.1]}, "tolerances must be >= 0"),
        ({"horizon": 0}, "horizon"),
        ({"columns": ["close", "open"]}, "columns"),
    ],
)
def test_topbot2_rejects_invalid_config(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(**overrides)


def test_topbot2_config_accepts_itb_shapes() -> None:
    cfg = config(columns=["close"], tolerances=0.5)
    assert cfg.columns == "close"
    assert cfg.tolerances == (0.5,)
    assert cfg.input_columns() == ("close",)


def test_topbot2_reports_missing_input_column() -> None:
    with pytest.raises(DataError, match="topbot2: missing input column 'close'"):
        generate_topbot2(pd.DataFrame({"open": [1.0]}), config())


# ---- slow reference: ITB's recursive interval search, written from spec c.3 -------------------


class MissingBoundaryError(Exception):
    """Where ITB crashes (j.10)."""


def itb_extremums(
    x: list[float], level: float, tol: float, top: bool
) -> list[tuple[int, int, int, int, int]]:
    """Accepted extremums ``(ll, lt, e, rt, rl)`` found by the interval search."""
    n = len(x)
    lev = abs(level)
    frac = lev * tol
    found = []
    intervals = [(0, n)]
    while intervals:
        start, end = intervals.pop()
        rows = [i for i in range(start, min(end, n - 1) + 1) if not math.isnan(x[i])]
        if not rows:
            continue
        best = max(rows, key=lambda i: (x[i], -i)) if top else min(rows, key=lambda i: (x[i], i))
        e, ext = best, x[best]
        if top:
            lam, rho = ext - lev * abs(ext), ext - frac * abs(ext)

            def beyond(v: float, lim: float) -> bool:
                return v < lim
        else:
            lam, rho = ext + lev * abs(ext), ext + frac * abs(ext)

            def beyond(v: float, lim: float) -> bool:
                return v > lim

        left = range(start, e + 1)
        right = range(e, min(end, n - 1) + 1)
        ll = max((i for i in left if beyond(x[i], lam)), default=None)
        lt = max((i for i in left if beyond(x[i], rho)), default=None)
        rl = min((i for i in right if beyond(x[i], lam)), default=None)
        rt = min((i for i in right if beyond(x[i], rho)), default=None)
        if ll is not None and rl is not None:
            if lt is None or rt is None:
                raise MissingBoundaryError
            found.append((ll, lt, e, rt, rl))
        if ll is not None and start < ll:
            intervals.append((start, ll))
        if rl is not None and rl < end:
            intervals.append((rl, end))
    return found


def itb_topbot2(x: list[float], level: float, tol: float, top: bool) -> list[Any]:
    labels = [False] * len(x)
    for _, lt, _, rt, _ in itb_extremums(x, level, tol, top):
        for i in range(lt + 1, rt):
            labels[i] = True
    return labels


def topbot2_with_horizon(x: list[float], level: float, tol: float, top: bool, h: int) -> list[Any]:
    n = len(x)
    labels: list[Any] = [False] * n
    for _, lt, _, rt, rl in itb_extremums(x, level, tol, top):
        for i in range(max(lt + 1, rl - h), rt):
            labels[i] = True
    return [NA if i >= n - h else v for i, v in enumerate(labels)]


SERIES = st.lists(
    st.one_of(
        st.sampled_from([1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, -2.0, 0.0]),
        st.floats(0.5, 10.0, allow_nan=False),
        st.just(NAN),
    ),
    min_size=0,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    x=SERIES,
    level=st.sampled_from([0.05, 0.2, 0.5]),
    tol=st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.5, 4.0]),
    top=st.booleans(),
)
def test_topbot2_equals_itb_interval_search(
    x: list[float], level: float, tol: float, top: bool
) -> None:
    try:
        want = itb_topbot2(x, level, tol, top)
    except MissingBoundaryError:
        assume(False)
    got = topbot(x, level=level, tolerances=[tol], function="top" if top else "bot")
    assert got == want


@settings(max_examples=200, deadline=None)
@given(
    x=SERIES,
    level=st.sampled_from([0.05, 0.2, 0.5]),
    tol=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    top=st.booleans(),
    h=st.integers(1, 8),
)
def test_topbot2_with_horizon_matches_reference(
    x: list[float], level: float, tol: float, top: bool, h: int
) -> None:
    got = topbot(x, level=level, tolerances=[tol], function="top" if top else "bot", horizon=h)
    assert got == topbot2_with_horizon(x, level, tol, top, h)


@settings(max_examples=200, deadline=None)
@given(
    x=SERIES,
    other=SERIES,
    level=st.sampled_from([0.05, 0.2, 0.5]),
    tol=st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0, 4.0]),
    top=st.booleans(),
    h=st.integers(1, 8),
    t_frac=st.floats(0, 1),
)
def test_topbot2_with_horizon_label_ignores_rows_after_t_plus_h(
    x: list[float],
    other: list[float],
    level: float,
    tol: float,
    top: bool,
    h: int,
    t_frac: float,
) -> None:
    assume(len(x) > 0 and len(other) > 0)
    t = min(len(x) - 1, int(t_frac * len(x)))
    alt = [v if j <= t + h else other[j % len(other)] for j, v in enumerate(x)]
    kw = {"level": level, "tolerances": [tol], "function": "top" if top else "bot", "horizon": h}
    assert topbot(x, **kw)[t] == topbot(alt, **kw)[t]


def test_topbot2_large_horizon_gives_itb_labels_before_the_tail() -> None:
    rng = np.random.default_rng(3)
    x = list(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 2000))))
    itb = topbot(x, level=0.02, tolerances=[0.2])
    h = 1000
    with_h = topbot(x, level=0.02, tolerances=[0.2], horizon=h)
    assert with_h[: len(x) - h] == itb[: len(x) - h]
    assert itb == itb_topbot2(x, 0.02, 0.2, True)
