"""ITB's signals as FreqTrade's entry and exit columns, and how strong an entry's signal is.

In fixed threshold mode the hyperoptable parameters set the signal stage; in walk-forward mode
each candle trades against the levels its window's training rows set (the ``buy_threshold`` and
``sell_threshold`` columns FreqAI returns with the predictions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from itb_ext.errors import ConfigError
from itb_ext.risk.model_health import PAUSE_COLUMN
from itb_ext.signals.levels import BUY_LEVEL, SELL_LEVEL, signals_at_levels
from itb_ext.signals.tuning import COMBINE_MODES, SignalOverrides
from itb_ext.strategy.setup import ITBSetup

BUY_TAG = "itb_buy"
"""Tag of a long entry and of a short's exit: the score reached the buy level."""
SELL_TAG = "itb_sell"
"""Tag of a short entry and of a long's exit: the score reached the sell level."""


def signal_parameters(
    setup: ITBSetup,
    buy_threshold: float,
    sell_threshold: float,
    smoothing_window: int,
    combine_mode: str,
) -> SignalOverrides:
    """The signal stage's parameters from the strategy's hyperoptable values (in this order).

    In walk-forward mode the config's own signal stage is used: the levels of each window were
    set on it.

    :raises ConfigError: an unknown combine mode.
    """
    if setup.raw.thresholds.mode == "walk_forward":
        return setup.default_overrides()
    mode = next((m for m in COMBINE_MODES if m == combine_mode), None)
    if mode is None:
        raise ConfigError(
            f"combine_mode: '{combine_mode}' is not one of {', '.join(COMBINE_MODES)}"
        )
    return SignalOverrides(
        buy_threshold=float(buy_threshold),
        sell_threshold=float(sell_threshold),
        smoothing_window=int(smoothing_window),
        combine_mode=mode,
    )


def trade_signals(
    setup: ITBSetup, candles: pd.DataFrame, parameters: SignalOverrides
) -> pd.DataFrame:
    """``trade_score`` and the ``buy``/``sell`` levels of every candle, and the regime gate (True
    where open) when the rule has one.

    Until a model is ready the score columns are missing: no score, no signal. In walk-forward
    mode the window's levels replace the rule's thresholds, and the gate still applies: no buy
    while it is closed, and a closing gate sells.
    """
    signals = setup.signal_frame(setup.signal_inputs(candles), parameters)
    if setup.raw.thresholds.mode != "walk_forward":
        return signals
    levels = candles.reindex(columns=[BUY_LEVEL, SELL_LEVEL])
    at_levels = signals_at_levels(signals["trade_score"], levels[BUY_LEVEL], levels[SELL_LEVEL])
    gate = setup.gate_column
    if gate is not None:
        at_levels = at_levels.assign(
            buy=at_levels["buy"] & signals[gate], sell=at_levels["sell"] | ~signals[gate]
        )
        at_levels[gate] = signals[gate]
    return at_levels.assign(trade_score=signals["trade_score"])


def trusted_candles(candles: pd.DataFrame) -> pd.Series:
    """Whether each candle's prediction is trusted: FreqAI's ``do_predict`` is 1 (a consumer's
    producer scored the candle, in range) and model health does not pause it."""
    missing = pd.Series(0, index=candles.index)
    do_predict, paused = candles.get("do_predict", missing), candles.get(PAUSE_COLUMN, missing)
    return (do_predict == 1) & (paused != 1)


def entry_signals(
    setup: ITBSetup, candles: pd.DataFrame, parameters: SignalOverrides, can_short: bool
) -> pd.DataFrame:
    """``candles`` with FreqTrade's entry columns where the prediction is trusted (see
    :func:`trusted_candles`), and the chart's columns: ``trade_score``, the thresholds (fixed
    mode) and the scores the rule combined."""
    out = candles.copy()
    signals = trade_signals(setup, out, parameters)
    trusted = trusted_candles(out)
    out["trade_score"] = signals["trade_score"]
    if setup.raw.thresholds.mode != "walk_forward":
        out[BUY_LEVEL] = parameters.buy_threshold
        out[SELL_LEVEL] = parameters.sell_threshold
    if setup.gate_column is not None:  # drawn on the chart (0 closed, 1 open)
        out[setup.gate_column] = signals[setup.gate_column].astype("float64")
    for column, values in setup.combined_scores(setup.signal_inputs(out), parameters).items():
        out[column] = values
    out.loc[signals["buy"] & trusted, ["enter_long", "enter_tag"]] = (1, BUY_TAG)
    if can_short:
        out.loc[signals["sell"] & trusted, ["enter_short", "enter_tag"]] = (1, SELL_TAG)
    return out


def exit_signals(
    setup: ITBSetup, candles: pd.DataFrame, parameters: SignalOverrides, can_short: bool
) -> pd.DataFrame:
    """``candles`` with FreqTrade's exit columns where the prediction is trusted (see
    :func:`trusted_candles`): longs leave on a sell level, shorts on a buy level.

    An untrusted candle sets no exit signal: a score the model cannot vouch for must not close
    a position either. The stops, the kill switch and the risk rules still act on it.
    """
    out = candles.copy()
    signals = trade_signals(setup, out, parameters)
    trusted = trusted_candles(out)
    out.loc[signals["sell"] & trusted, ["exit_long", "exit_tag"]] = (1, SELL_TAG)
    if can_short:
        out.loc[signals["buy"] & trusted, ["exit_short", "exit_tag"]] = (1, BUY_TAG)
    return out


def score_excess(
    setup: ITBSetup, candle: Mapping[str, Any], parameters: SignalOverrides, *, short: bool
) -> float:
    """How far the candle's ``trade_score`` is past the level it entered on, in the trade's
    direction (signal-strength sizing); NaN without a score or a level.

    :param candle: the newest analysed candle (``trade_score``, and in walk-forward mode the
        ``buy_threshold``/``sell_threshold`` levels in force on it).
    :param parameters: the thresholds of fixed mode.
    :param short: the entry is a short.
    """
    score = float(candle.get("trade_score", math.nan))
    if setup.raw.thresholds.mode == "walk_forward":
        buy, sell = float(candle.get(BUY_LEVEL, math.nan)), float(candle.get(SELL_LEVEL, math.nan))
    else:
        buy, sell = parameters.buy_threshold, parameters.sell_threshold
    return sell - score if short else score - buy
