"""ITBClassifier's edges with FreqAI: its backtest windows, and its one private hook.

FreqAI has no public hook for a backtest window whose training failed: it logs a warning and
calls ``IFreqaiModel._append_null_backtesting_predictions``, which appends (and stores, for
later runs to reuse) neutral predictions of no model at all. ITBClassifier overrides that
method to stop the backtest instead. The override was checked against FreqTrade
:data:`CHECKED_AGAINST`; ``tests/freqtrade/test_freqai_private_hook.py`` fails when FreqAI's
method or its call changes (:data:`NULL_PREDICTIONS_SHA256`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

from itb_ext.adapters.freqai_charts import missing_chart_predictions
from itb_ext.strategy.classifier import failure_text

CHECKED_AGAINST = "2026.9"
"""The FreqTrade version whose FreqAI the private override was checked against."""

NULL_PREDICTIONS_HOOK = "_append_null_backtesting_predictions"
"""FreqAI's private method called for a backtest window without a model."""

NULL_PREDICTIONS_SHA256 = "2c4ec0811a13b8b99b93ddc5830f225df0d99e93e7b29796a8775cd070b86cd0"
"""SHA-256 of that method's source in :data:`CHECKED_AGAINST`."""

NULL_PREDICTIONS_CALL = "self._append_null_backtesting_predictions(dk, dataframe_backtest)"
"""How ``IFreqaiModel.start_backtesting`` calls it once training failed."""


def reach_last_candle(dk: FreqaiDataKitchen, timeframe: str) -> None:
    """Let the last backtest window reach one candle further, so that the candle at the end of
    ``--timerange`` (which the backtest holds) gets a prediction.

    FreqAI's backtest windows exclude their end: that candle got no prediction and a 0 fill, and
    cutting the timerange there, as ``lookahead-analysis`` does, changed its scores and
    ``do_predict``. The last window's model is unchanged.
    """
    if dk.backtesting_timeranges:
        last = dk.backtesting_timeranges[-1].copy()
        last.stopts += timeframe_to_seconds(timeframe)
        dk.backtesting_timeranges[-1] = last


def prepare_backtest(
    dk: FreqaiDataKitchen,
    candles: pd.DataFrame,
    pair: str,
    config: dict[str, Any],
    startup_candles: int,
) -> None:
    """Before FreqAI's walk-forward backtest of ``pair``: the last window reaches the timerange's
    last candle (:func:`reach_last_candle`); charts (FreqUI in webserver mode, plot-dataframe)
    load no training window, so they stop before training on the few candles they hold.

    :raises OperationalException: a chart without stored predictions (see
        :func:`~itb_ext.adapters.freqai_charts.missing_chart_predictions`).
    """
    reach_last_candle(dk, config["timeframe"])
    if config.get("runmode") in (RunMode.WEBSERVER, RunMode.PLOT):
        problem = missing_chart_predictions(dk, candles, pair, config, startup_candles)
        if problem:
            raise OperationalException(problem)


def failed_training_message(pair: str, error: BaseException | None) -> str:
    """The one line that stops a backtest whose window could not be trained."""
    return f"ITBClassifier: training for {pair} failed ({failure_text(error)})"
