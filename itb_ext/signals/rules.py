"""Threshold rules that turn a score into buy and sell signal levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.config.signals import ThresholdRule2Config, ThresholdRuleConfig
from itb_ext.errors import DataError
from itb_ext.features.rolling import BoolArray
from itb_ext.pipeline.frames import require_columns


def at_least(score: np.ndarray, threshold: float | None) -> np.ndarray:
    """``score >= threshold`` with NaN scores and a missing threshold giving False."""
    if threshold is None:
        return np.zeros(score.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(score >= threshold)


def at_most(score: np.ndarray, threshold: float | None) -> np.ndarray:
    """``score <= threshold`` with NaN scores and a missing threshold giving False."""
    if threshold is None:
        return np.zeros(score.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(score <= threshold)


def gate_open(df: pd.DataFrame, gate: str | None) -> BoolArray:
    """Where the gate column is open: true or non-zero; false, 0 and missing values are closed.

    :param df: frame holding the gate column.
    :param gate: the column, or None for a rule without a gate (open everywhere).
    :raises DataError: the gate column holds something else than yes/no values or numbers.
    """
    if gate is None:
        return np.ones(len(df), dtype=bool)
    try:
        values = df[gate].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(f"threshold rule: gate column '{gate}' is not yes/no") from None
    return np.asarray(np.nan_to_num(values, nan=0.0) != 0.0)


def _gated(buy: BoolArray, sell: BoolArray, is_open: BoolArray) -> tuple[BoolArray, BoolArray]:
    """Buy only while the gate is open; sell wherever it is closed (a long is closed with it)."""
    return buy & is_open, sell | ~is_open


def generate_threshold_rule(df: pd.DataFrame, cfg: ThresholdRuleConfig) -> pd.DataFrame:
    """Buy where the score reaches the buy threshold, sell where it falls to the sell threshold.

    Both outputs are levels (True on every qualifying bar), not events. With ``cfg.gate`` a
    buy also needs the gate open, and every bar where it is closed is a sell.

    :param df: frame holding the score column.
    :param cfg: the rule configuration.
    :return: two boolean columns ``cfg.names``.
    """
    require_columns(df, cfg.input_columns(), "threshold_rule")
    score = df[cfg.score_column].to_numpy(dtype="float64")
    p = cfg.parameters
    buy, sell = _gated(
        at_least(score, p.buy_signal_threshold),
        at_most(score, p.sell_signal_threshold),
        gate_open(df, cfg.gate),
    )
    buy_name, sell_name = cfg.names
    return pd.DataFrame({buy_name: buy, sell_name: sell}, index=df.index)


def generate_threshold_rule2(df: pd.DataFrame, cfg: ThresholdRule2Config) -> pd.DataFrame:
    """Buy (sell) where both scores pass their buy (sell) thresholds; a ``gate`` as in
    :func:`generate_threshold_rule`.

    :param df: frame holding both score columns.
    :param cfg: the rule configuration.
    :return: two boolean columns ``cfg.names``.
    """
    require_columns(df, cfg.input_columns(), "threshold_rule2")
    first = df[cfg.columns[0]].to_numpy(dtype="float64")
    second = df[cfg.columns[1]].to_numpy(dtype="float64")
    p = cfg.parameters
    buy, sell = _gated(
        at_least(first, p.buy_signal_threshold) & at_least(second, p.buy_signal_threshold_2),
        at_most(first, p.sell_signal_threshold) & at_most(second, p.sell_signal_threshold_2),
        gate_open(df, cfg.gate),
    )
    buy_name, sell_name = cfg.names
    return pd.DataFrame({buy_name: buy, sell_name: sell}, index=df.index)
