"""Threshold rules that turn a score into buy and sell signal levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.config.signals import ThresholdRule2Config, ThresholdRuleConfig
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


def generate_threshold_rule(df: pd.DataFrame, cfg: ThresholdRuleConfig) -> pd.DataFrame:
    """Buy where the score reaches the buy threshold, sell where it falls to the sell threshold.

    Both outputs are levels (True on every qualifying bar), not events.

    :param df: frame holding the score column.
    :param cfg: the rule configuration.
    :return: two boolean columns ``cfg.names``.
    """
    require_columns(df, cfg.columns, "threshold_rule")
    score = df[cfg.score_column].to_numpy(dtype="float64")
    p = cfg.parameters
    buy_name, sell_name = cfg.names
    return pd.DataFrame(
        {
            buy_name: at_least(score, p.buy_signal_threshold),
            sell_name: at_most(score, p.sell_signal_threshold),
        },
        index=df.index,
    )


def generate_threshold_rule2(df: pd.DataFrame, cfg: ThresholdRule2Config) -> pd.DataFrame:
    """Buy (sell) where both scores pass their buy (sell) thresholds.

    :param df: frame holding both score columns.
    :param cfg: the rule configuration.
    :return: two boolean columns ``cfg.names``.
    """
    require_columns(df, cfg.columns, "threshold_rule2")
    first = df[cfg.columns[0]].to_numpy(dtype="float64")
    second = df[cfg.columns[1]].to_numpy(dtype="float64")
    p = cfg.parameters
    buy_name, sell_name = cfg.names
    return pd.DataFrame(
        {
            buy_name: at_least(first, p.buy_signal_threshold)
            & at_least(second, p.buy_signal_threshold_2),
            sell_name: at_most(first, p.sell_signal_threshold)
            & at_most(second, p.sell_signal_threshold_2),
        },
        index=df.index,
    )
