"""Charts of a FreqAI strategy outside a backtest: only stored predictions can be shown.

FreqUI's charts in webserver mode (``/api/v1/pair_history``) and ``plot-dataframe`` load the
timerange plus ``startup_candle_count`` candles only, never FreqAI's training window before it.
A window whose predictions a backtest did not store would be trained on the few candles loaded
(or on none: FreqAI's "all training data dropped due to NaNs"). This check finds such a window
before any training and says what to do instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def _stored_rows(path: Path) -> int | None:
    if not path.is_file():
        return None
    try:
        return len(pd.read_feather(path, columns=["date"]))
    except Exception:  # an unreadable file is as good as none; FreqAI would retrain it
        return None


def missing_chart_predictions(
    dk: Any, dataframe: pd.DataFrame, pair: str, config: dict[str, Any], startup_candles: int
) -> str | None:
    """The first backtest window of the chart without stored predictions, as one message.

    :param dk: FreqAI's data kitchen of the pair, with its training and backtest windows.
    :param dataframe: the candles the chart loaded (``date`` column).
    :param pair: the charted pair.
    :param config: the resolved FreqTrade config.
    :param startup_candles: the strategy's ``startup_candle_count`` (what the chart loaded).
    :return: None when every window's predictions are stored, as FreqAI would load them.
    """
    dates = pd.to_datetime(dataframe["date"], utc=True)
    for train, window in zip(dk.training_timeranges, dk.backtesting_timeranges, strict=False):
        rows = int(((dates >= window.startdt) & (dates < window.stopdt)).sum())
        if rows == 0:
            continue  # FreqAI skips a window without candles too
        model_id = int(window.startts if dk.backtest_live_models else train.stopts)
        coin = pair.split("/")[0].lower()
        stored = Path(dk.full_path) / dk.backtest_predictions_folder
        path = stored / f"cb_{coin}_{model_id}_prediction.feather"
        if _stored_rows(path) == rows:
            continue
        freqai = config.get("freqai", {})
        timerange = config.get("timerange", "")
        return (
            f"ITB chart of {pair} {timerange}: no stored predictions for "
            f"{window.startdt:%Y-%m-%d %H:%M} .. {window.stopdt:%Y-%m-%d %H:%M} (expected "
            f"{path}). Charts (FreqUI in webserver mode, plot-dataframe) load only "
            f"{startup_candles} candles before the timerange, not FreqAI's "
            f"{freqai.get('train_period_days')}-day training window, so they can show only the "
            "predictions of an earlier backtest of exactly this timerange and config: run "
            f"backtesting with --timerange {timerange} first, or chart a backtested timerange"
        )
    return None
