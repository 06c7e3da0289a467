"""Walk-forward model quality of an ``itb`` section without FreqTrade: train on ``train_days``,
predict the next ``step_days``, roll, as FreqAI's backtesting does.

Used to choose features and windows on one period and to report them on a later one. Every
prediction comes from a model that never saw the candle, nor any label that reads it: a training
window ending at ``T`` keeps only labels whose horizon ends before ``T``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from itb_ext.algorithms import train_score_models
from itb_ext.errors import DataError
from itb_ext.evaluation.metrics import roc_auc
from itb_ext.strategy.setup import ITBSetup


@dataclass(frozen=True)
class WalkForward:
    """The rolling schedule.

    :param start: first predicted candle (UTC).
    :param stop: end of the predicted period (exclusive).
    :param train_days: length of each training window, ending where its predictions start.
    :param step_days: days predicted by each model.
    """

    start: pd.Timestamp
    stop: pd.Timestamp
    train_days: int = 180
    step_days: int = 30

    def windows(self) -> list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
        """``(train_start, predict_start, predict_stop)`` of every window."""
        out = []
        begin = self.start
        while begin < self.stop:
            end = min(begin + pd.Timedelta(days=self.step_days), self.stop)
            out.append((begin - pd.Timedelta(days=self.train_days), begin, end))
            begin = end
        return out


def walk_forward_predictions(
    setup: ITBSetup, candles: pd.DataFrame, schedule: WalkForward
) -> pd.DataFrame:
    """Out-of-sample probabilities of every (label, algorithm) model, with the labels.

    :param setup: the validated ``itb`` section.
    :param candles: candles with a UTC ``date`` column, covering the training of the first window.
    :param schedule: the rolling schedule.
    :return: ``date``, the score columns and the boolean labels (NA where unknown), one row per
        predicted candle with all features known.
    """
    dates = pd.DatetimeIndex(pd.to_datetime(candles["date"], utc=True))
    features = setup.feature_frame(candles)
    labels = setup.label_frame(candles)
    horizon = setup.label_horizon()
    if horizon is None:
        raise DataError("walk-forward: every label needs a bounded horizon")
    positions = np.arange(len(candles))
    parts = []
    for train_start, begin, end in schedule.windows():
        in_train = (dates >= train_start) & (dates < begin)
        if not in_train.any():
            raise DataError(f"walk-forward: no candles to train on before {begin}")
        last_train = positions[in_train][-1]
        train_labels = labels[in_train].copy()
        # the label of candle t reads t+1..t+horizon: unknown unless that lies inside the window
        train_labels.loc[positions[in_train] + horizon > last_train] = pd.NA
        models = train_score_models(
            features[in_train],
            train_labels,
            setup.algorithms,
            seed=setup.seed,
            centred=setup.raw.centred_scores,
        )
        predict = (dates >= begin) & (dates < end)
        scores = models.predict(features[predict])
        scores.insert(0, "date", dates[predict])
        parts.append(pd.concat([scores, labels[predict]], axis=1))
    result = pd.concat(parts, ignore_index=True)
    return result.dropna(subset=[c for c in result.columns if c not in labels.columns])


def auc_table(
    predictions: pd.DataFrame, labels: Sequence[str], score_columns: Sequence[str], pair: str
) -> pd.DataFrame:
    """AUC of every score column against its label over the known labels.

    :param predictions: output of :func:`walk_forward_predictions`.
    :param labels: the label names.
    :param score_columns: ``<label>_<algorithm>`` columns.
    :param pair: shown in the table.
    """
    rows = []
    for column in score_columns:
        label = next(lb for lb in labels if column.startswith(f"{lb}_"))
        known = predictions[label].notna()
        y = predictions.loc[known, label].astype(bool).to_numpy()
        p = predictions.loc[known, column].to_numpy(dtype="float64")
        rows.append(
            {"pair": pair, "model": column, "candles": int(known.sum()), "auc": roc_auc(y, p)}
        )
    return pd.DataFrame(rows)
