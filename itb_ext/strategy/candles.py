"""The columns ITBStrategy adds to FreqTrade's dataframe, and the candles its callbacks read.

Features and targets for FreqAI's hooks, model health and the risk columns of the analysed
candles; the newest candle for sizing and entry rules, and the candles a stop is measured on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from itb_ext.risk.policy import RiskPolicy
from itb_ext.strategy.model_health import candle_health
from itb_ext.strategy.setup import ITBSetup

Candle = dict[str, Any]


def with_columns(frame: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns of ``new`` added, replacing columns of the same name."""
    if not len(new.columns):
        return frame
    return pd.concat([frame.drop(columns=new.columns, errors="ignore"), new], axis=1)


def with_features(setup: ITBSetup, candles: pd.DataFrame, *, expandable: bool) -> pd.DataFrame:
    """``candles`` plus ITB's training features, in the one FreqAI hook that computes them.

    :param expandable: the caller is FreqAI's expandable hook (``feature_engineering_expand_basic``,
        expanded over timeframes, pairs and shifts) rather than ``feature_engineering_standard``;
        ``itb.freqai_expansion`` chooses which one computes the features.
    """
    if setup.freqai_expansion != expandable:
        return candles
    return with_columns(candles, setup.feature_frame(candles))


def with_targets(setup: ITBSetup, candles: pd.DataFrame) -> pd.DataFrame:
    """``candles`` plus FreqAI's ``&-`` targets (ITB's labels)."""
    return with_columns(candles, setup.target_frame(candles))


def analysed(setup: ITBSetup, risk: RiskPolicy, candles: pd.DataFrame) -> pd.DataFrame:
    """The scored candles plus the model-health columns (when on) and the risk columns."""
    health = setup.raw.risk.model_health
    if health.enabled:
        candles = with_columns(candles, candle_health(setup, candles, health))
    return with_columns(candles, risk.indicators(candles))


def newest_candle(frame: pd.DataFrame | None) -> Candle:
    """The newest analysed candle as a dict (empty before the first analysis)."""
    return {} if frame is None or frame.empty else frame.iloc[-1].to_dict()


def stop_candles(
    frame: pd.DataFrame | None, columns: Sequence[str], opened: datetime
) -> tuple[Candle | None, Candle | None]:
    """The newest candle and the entry's signal candle (the last one before ``opened``), each
    with only ``columns`` (those present): a stop is computed for every open trade on every
    candle, so nothing else is read.

    :return: ``(None, None)`` before the first analysis; the signal candle is None when the trade
        opened before the analysed candles.
    """
    if frame is None or frame.empty:
        return None, None
    present = [c for c in columns if c in frame.columns]
    signal = int(frame["date"].searchsorted(pd.Timestamp(opened))) - 1

    def candle(position: int) -> Candle:
        return {c: frame[c].iat[position] for c in present}

    return candle(-1), candle(signal) if signal >= 0 else None
