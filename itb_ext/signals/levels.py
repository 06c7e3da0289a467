"""Thresholds chosen without peeking: each training window sets the buy and sell levels of the
window after it, from its own training rows only, and the rule trades against the levels in
force on each candle."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.config.thresholds import ThresholdsConfig

BUY_LEVEL = "buy_threshold"
SELL_LEVEL = "sell_threshold"


def quantile_levels(training_score: npt.ArrayLike, cfg: ThresholdsConfig) -> tuple[float, float]:
    """Buy and sell levels as quantiles of ``trade_score`` over a window's training rows.

    :param training_score: the model's in-sample ``trade_score`` on its training rows.
    :return: ``(buy, sell)``; NaN when no score is known (no trade on such a window).
    """
    scores = np.asarray(training_score, dtype="float64")
    scores = scores[np.isfinite(scores)]
    if len(scores) == 0:
        return math.nan, math.nan
    return (
        float(np.quantile(scores, cfg.buy_quantile)),
        float(np.quantile(scores, cfg.sell_quantile)),
    )


def signals_at_levels(
    trade_score: pd.Series, buy_level: pd.Series, sell_level: pd.Series
) -> pd.DataFrame:
    """ITB's threshold rule with a level per candle: buy where ``trade_score >= buy_level``,
    sell where ``trade_score <= sell_level``; a missing score or level gives no signal.

    :return: boolean ``buy`` and ``sell`` columns on ``trade_score``'s index.
    """
    score = trade_score.to_numpy(dtype="float64")
    buy = buy_level.to_numpy(dtype="float64")
    sell = sell_level.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return pd.DataFrame({"buy": score >= buy, "sell": score <= sell}, index=trade_score.index)
