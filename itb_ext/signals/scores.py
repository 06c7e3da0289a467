"""Score aggregation: ``smoothen`` (average, binarise, smooth), ``combine`` (up/down -> score)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from itb_ext.config.signals import CombineConfig, SmoothenConfig
from itb_ext.pipeline.frames import require_columns


def generate_smoothen(df: pd.DataFrame, cfg: SmoothenConfig) -> pd.DataFrame:
    """Average score columns row-wise, optionally binarise, then smooth over time.

    :param df: frame holding ``cfg.columns``.
    :param cfg: the smoothen configuration.
    :return: one float column ``cfg.names``.
    """
    require_columns(df, cfg.columns, "smoothen")
    score = df.loc[:, list(cfg.columns)].astype("float64").mean(axis=1, skipna=True)
    if cfg.point_threshold:
        # NaN compares False, so a missing score counts as "below" in the rolling mean that follows.
        score = (score >= cfg.point_threshold).astype("float64")
    if isinstance(cfg.window, int) and cfg.window > 1:
        score = score.rolling(cfg.window, min_periods=cfg.window // 2).mean()
    elif isinstance(cfg.window, float):
        smoothed = ewm_mean(score.to_numpy(dtype="float64"), cfg.window, int(cfg.window // 2))
        return pd.DataFrame({cfg.names: smoothed}, index=df.index)
    return pd.DataFrame({cfg.names: score.to_numpy(dtype="float64")}, index=df.index)


def ewm_mean(values: np.ndarray, span: float, min_periods: int) -> np.ndarray:
    """Exponential mean ``y_t = (1 - a) y_{t-1} + a x_t`` with ``a = 2 / (span + 1)``.

    Missing values follow pandas 2's ``ewm(adjust=False, ignore_na=False)``, which ITB's numbers
    come from (pandas 3 changed it): a NaN keeps the previous output while the old weight keeps
    decaying, so the first value after k NaNs is ``(d y + a x) / (d + a)`` with
    ``d = (1 - a) ** (k + 1)``. Runs without NaN use a linear filter.

    :param values: the series.
    :param span: the span (any positive float).
    :param min_periods: outputs before this many observations are NaN.
    :return: the smoothed series.
    """
    alpha = 2.0 / (span + 1.0)
    keep = 1.0 - alpha
    out = np.full(values.shape, np.nan)
    observed = ~np.isnan(values)
    positions = np.flatnonzero(observed)
    if positions.size == 0:
        return out
    gaps = np.flatnonzero(np.diff(positions) > 1)
    starts = positions[np.r_[0, gaps + 1]]
    ends = positions[np.r_[gaps, positions.size - 1]] + 1
    last = np.nan
    last_end = 0
    for start, end in zip(starts, ends, strict=True):
        if np.isnan(last):
            first = values[start]
        else:
            decayed = keep ** (start - last_end + 1)
            first = (decayed * last + alpha * values[start]) / (decayed + alpha)
            out[last_end:start] = last
        out[start] = first
        if end - start > 1:
            out[start + 1 : end], _ = lfilter(
                [alpha], [1.0, -keep], values[start + 1 : end], zi=[keep * first]
            )
        last, last_end = out[end - 1], end
    out[last_end:] = last
    out[np.cumsum(observed) < min_periods] = np.nan
    return out


def generate_combine(df: pd.DataFrame, cfg: CombineConfig) -> pd.DataFrame:
    """Combine an up score and a down score into one signed score.

    :param df: frame holding the two columns of ``cfg.columns``.
    :param cfg: the combine configuration.
    :return: one float column ``cfg.names``; ``relative`` yields NaN where ``u + d == 0``.
    """
    require_columns(df, cfg.columns, "combine")
    up = df[cfg.columns[0]].to_numpy(dtype="float64")
    down = df[cfg.columns[1]].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        if cfg.combine == "difference":
            score = up - down
        elif cfg.combine == "relative":
            score = 2.0 * up / (up + down) - 1.0
            score[~np.isfinite(score)] = np.nan
        else:
            # NaN >= x is False, so a missing up score gives -down (ITB's rule).
            score = np.where(up >= down, up, -down)
    if cfg.coefficient:
        score = score * cfg.coefficient
    if cfg.constant:
        score = score + cfg.constant
    return pd.DataFrame({cfg.names: score}, index=df.index)
