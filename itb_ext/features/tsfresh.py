"""``tsfresh`` feature generator: five tsfresh statistics over ITB's partial windows (spec b.4).

ITB evaluates tsfresh's feature calculators with ``rolling(w, max(1, w // 2)).apply(fn,
raw=True)`` on the interpolated first input column. This module computes the same values without
the tsfresh package, for all rows at once. Window rules are those of
:mod:`itb_ext.features.rolling`: at the start of the series the window is shorter (rows ``0..t``),
a row is NaN while its window holds fewer than ``min_periods`` values, ``±inf`` counts as missing,
and otherwise the calculator sees the raw window, missing values included.

The definitions are tsfresh 0.21's (x = the window, n = its length):

* ``skewness``: pandas' ``Series.skew(skipna=False)``, the bias-corrected G1. NaN when the
  window holds a missing value or fewer than 3 values.
* ``kurtosis``: pandas' ``Series.kurtosis()``, the bias-corrected excess kurtosis G2, over the
  window's present values (missing ones are skipped); NaN below 4 values.
* ``msdc`` (``mean_second_derivative_central``): the mean of ``(x[i+2] - 2 x[i+1] + x[i]) / 2``,
  which telescopes to ``(x[n-1] - x[n-2] - x[1] + x[0]) / (2 (n - 2))``; tsfresh evaluates that
  closed form, so a missing value at either end gives NaN and one in between does not. NaN for
  ``n <= 2``.
* ``lsbm`` (``longest_strike_below_mean``): the longest run of consecutive values strictly below
  ``np.mean(x)`` (0 when none). A missing value makes the mean NaN and the result 0.
* ``fmax`` (``first_location_of_maximum``): ``np.argmax(x) / n``; a missing value counts as the
  maximum (the first one wins), as in ``np.argmax``.

Skewness and kurtosis are those of pandas 3.1 and later, whichever pandas is installed: the central
moments are accumulated value by value (Welford's updates, as pandas does), so a constant window
gives NaN. pandas groups its additions in its own way; the two agree to about 1e-11. pandas 2
returned 0 for a constant window and zeroed sums of squared deviations below 1e-14, which turned
every skewness of an asset priced far below 1 into 0 (spec j.28); itbstats' ``pandas_skew`` and
``pandas_kurtosis`` keep pandas 2 for ITB's reference features, this generator does not.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from itb_ext.config.features import TsfreshConfig
from itb_ext.features.rolling import (
    BoolArray,
    FloatArray,
    column_values,
    interpolate_gaps,
    min_periods,
    rolling_count,
    rolling_fmax,
)

GENERATOR = "tsfresh"


def generate_tsfresh(df: pd.DataFrame, cfg: TsfreshConfig) -> pd.DataFrame:
    """Compute the ``tsfresh`` features of one config entry.

    For every window ``w`` the five statistics of the module docstring over the last ``w`` rows,
    with ITB's partial windows at the start (values from row ``max(1, w//2) - 1`` on). The column
    is linearly interpolated first, as ITB (look-ahead inside gaps, spec j.4, kept for parity).

    :param df: candles (any index; rows are used by position).
    :param cfg: the validated entry.
    :return: ``<column>_{skewness,kurtosis,msdc,lsbm,fmax}_<w>`` for each window, float64, same
        index.
    :raises DataError: if the input column is missing or not numeric.
    """
    values = interpolate_gaps(column_values(df, cfg.column, GENERATOR))
    # pandas' rolling turns ±inf into NaN before the window function sees it
    values = np.where(np.isinf(values), np.nan, values)
    columns: dict[str, FloatArray] = {}
    for w in cfg.windows:
        too_few = rolling_count(values, w) < min_periods(w)
        skewness, kurtosis = rolling_skewness_kurtosis(values, w)
        outputs = (
            skewness,
            kurtosis,
            rolling_mean_second_derivative_central(values, w),
            rolling_longest_strike_below_mean(values, w),
            rolling_fmax(values, w),
        )
        for name, out in zip(cfg.window_columns(w), outputs, strict=True):
            out[too_few] = np.nan
            columns[name] = out
    return pd.DataFrame(columns, index=df.index, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Window kernels: one value per row from the rows max(0, t-w+1)..t, min_periods not applied
# --------------------------------------------------------------------------------------------


def _window_lengths(n: int, window: int) -> npt.NDArray[np.int64]:
    """Length of each row's window: shorter than ``window`` in the first ``window - 1`` rows."""
    return np.minimum(np.arange(1, n + 1), window)


def _padded(values: FloatArray, window: int) -> FloatArray:
    """``values`` behind ``window - 1`` NaNs: ``padded[j : j + n]`` is position ``j`` of every
    row's window (``j = window - 1`` the row itself), NaN before the start of the series."""
    return np.concatenate((np.full(window - 1, np.nan), values))


def rolling_skewness_kurtosis(values: FloatArray, window: int) -> tuple[FloatArray, FloatArray]:
    """tsfresh's ``skewness`` and ``kurtosis`` of each row's window.

    The central moment sums are updated one window position at a time, oldest first, with
    Welford's updates (pandas 3.1's own formulas); missing values are skipped. A constant window
    keeps its sums at exactly 0, which gives NaN. Skewness is NaN where the window holds a missing
    value (tsfresh passes ``skipna=False``).

    :param values: the series (NaN = missing; no ``±inf``).
    :param window: window length in rows.
    :return: ``(skewness, kurtosis)``.
    """
    n = len(values)
    padded = _padded(values, window)
    count = np.zeros(n)
    mean = np.zeros(n)
    m2 = np.zeros(n)
    m3 = np.zeros(n)
    m4 = np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for j in range(window):
            x = padded[j : j + n]
            present = ~np.isnan(x)
            k = count + present
            # rows without a value here add exact zeros and keep their sums
            delta = np.where(present, x - mean, 0.0)
            delta_k = np.where(present, delta / k, 0.0)
            term1 = delta * delta_k * (k - 1.0)
            m4 += delta_k * (-4.0 * m3 + delta_k * (6.0 * m2 + term1 * (k * k - 3.0 * k + 3.0)))
            m3 += delta_k * (term1 * (k - 2.0) - 3.0 * m2)
            m2 += term1
            mean += delta_k
            count = k
        skew_correction = (count * np.sqrt(count - 1.0)) / (count - 2.0)
        skewness = m3 / (m2 * np.sqrt(m2)) * skew_correction
        kurt_correction = (count - 1.0) / ((count - 2.0) * (count - 3.0))
        kurt_ratio = m4 / (m2 * m2)
        kurtosis = kurt_correction * (count * (count + 1.0) * kurt_ratio - 3.0 * (count - 1.0))
    has_missing: BoolArray = count < _window_lengths(n, window)
    skewness[(count < 3) | has_missing] = np.nan
    kurtosis[count < 4] = np.nan
    return skewness, kurtosis


def rolling_mean_second_derivative_central(values: FloatArray, window: int) -> FloatArray:
    """tsfresh's ``mean_second_derivative_central``: ``(x[-1] - x[-2] - x[1] + x[0]) / (2(n-2))``.

    Evaluated in tsfresh's order of operations; NaN for windows of 2 values or fewer.

    :param values: the series (NaN = missing).
    :param window: window length in rows.
    """
    n = len(values)
    rows = np.arange(n)
    length = _window_lengths(n, window)
    first = rows - length + 1
    last = values
    before_last = values[np.maximum(rows - 1, 0)]
    second = values[np.minimum(first + 1, n - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (last - before_last - second + values[first]) / (2 * (length - 2))
    result[length <= 2] = np.nan
    return np.asarray(result, dtype=np.float64)


def _numpy_window_means(values: FloatArray, window: int) -> FloatArray:
    """``np.mean`` of each row's window, bit for bit.

    numpy sums pairwise, in another order than a running sum; a price that equals its window's
    mean up to rounding is below it or not depending on that order, so ``lsbm`` needs numpy's own
    mean. The full windows are reduced along their contiguous axis, which numpy sums exactly as
    a one-window ``np.mean``; the shorter windows at the start are taken one by one.
    """
    n = len(values)
    means = np.empty(n)
    for t in range(min(window - 1, n)):
        means[t] = np.mean(values[: t + 1])
    if n >= window:
        means[window - 1 :] = np.mean(sliding_window_view(values, window), axis=1)
    return means


def rolling_longest_strike_below_mean(values: FloatArray, window: int) -> FloatArray:
    """tsfresh's ``longest_strike_below_mean``: longest run of values strictly below the mean.

    0 when no value is below, and when the window holds a missing value (its mean is NaN).

    :param values: the series (NaN = missing).
    :param window: window length in rows.
    """
    n = len(values)
    means = _numpy_window_means(values, window)
    padded = _padded(values, window)
    run = np.zeros(n)
    longest = np.zeros(n)
    with np.errstate(invalid="ignore"):
        for j in range(window):
            below = padded[j : j + n] < means  # padding (NaN) is never below
            run = (run + 1.0) * below
            np.maximum(longest, run, out=longest)
    return longest
