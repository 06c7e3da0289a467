"""The FreqTrade-free half of ``ITBClassifier``: labels from FreqAI's targets, the trained models
in the shape FreqAI's classifier interface calls, walk-forward levels, and the training record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.algorithms import ScoreModels
from itb_ext.algorithms.pool import FittedModels, WindowRows, window_models
from itb_ext.pipeline.naming import base_rate_column, class_names, label_of_target, score_column
from itb_ext.signals.levels import BUY_LEVEL, SELL_LEVEL, quantile_levels
from itb_ext.strategy.setup import ITBSetup

PREDICTION_BLOCK = 256
"""Rows per model call. BLAS computes the last rows of a matrix product with other kernels than
the rest, so a probability could change in its last bits with the length of the frame predicted;
fixed-size blocks (the last one padded) make each candle's value independent of where the
backtest ends."""

TRAINING_RECORD = "itb_training.json"


def predict_in_blocks(models: ScoreModels, features: pd.DataFrame) -> pd.DataFrame:
    """``models.predict`` over blocks of :data:`PREDICTION_BLOCK` rows, the last padded with zeros.

    The models run on one thread (BLAS and OpenMP): a block is too small to share, and on a
    busy machine waiting for a second thread on every block cost several times the work (the
    values do not depend on the thread count: each row is computed alone).

    :param features: transformed features (any index; the result has a 0..n-1 index).
    """
    from threadpoolctl import threadpool_limits

    features = features.reset_index(drop=True)
    parts = []
    with threadpool_limits(limits=1):
        for start in range(0, len(features), PREDICTION_BLOCK):
            block = features.iloc[start : start + PREDICTION_BLOCK]
            rows = len(block)
            if rows < PREDICTION_BLOCK:
                padding = pd.DataFrame(
                    0.0, index=range(PREDICTION_BLOCK - rows), columns=block.columns
                )
                block = pd.concat([block, padding], ignore_index=True)
            parts.append(models.predict(block.reset_index(drop=True)).iloc[:rows])
        if not parts:
            return models.predict(features)
    return pd.concat(parts, ignore_index=True)


def labels_from_targets(targets: pd.DataFrame) -> pd.DataFrame:
    """ITB's yes/no labels from FreqAI's ``&-<label>`` class columns (``<label>:yes``/``:no``)."""
    labels = pd.DataFrame(index=targets.index)
    for column in targets.columns:
        label = label_of_target(column)
        labels[label] = (targets[column] == class_names(label)[0]).to_numpy()
    return labels


class FreqaiScoreModels:
    """The models of one training as FreqAI's classifier base predicts with them: ``predict``
    gives each target's class, voted by the mean probability of the label's models;
    ``predict_proba`` the probability of every (label, algorithm) model, named by ``classes_``
    (``high_30_svc``, ...).

    The models themselves are stored as :class:`~itb_ext.algorithms.ScoreModels` (the readers of
    stored models use them); this view exists only while FreqAI predicts.

    :param models: the trained models.
    :param targets: FreqAI's target columns (``&-high_30``), in FreqAI's order.
    """

    def __init__(self, models: ScoreModels, targets: Sequence[str]) -> None:
        self.models = models
        self.targets = list(targets)
        self._last: tuple[pd.DataFrame, pd.DataFrame] | None = None

    @property
    def classes_(self) -> list[str]:
        return self.models.columns

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.object_]:
        """Per row and target, the class of ``<label>:yes`` when the label's mean probability is
        at least 0.5, else ``<label>:no`` (also when a feature is missing)."""
        probabilities = self._probabilities(X)
        votes = []
        for target in self.targets:
            label = label_of_target(target)
            columns = [m.column for m in self.models.models if m.label == label]
            mean = probabilities[columns].mean(axis=1).to_numpy()
            yes, no = class_names(label)
            votes.append(np.where(mean >= 0.5, yes, no).astype(object))
        return np.column_stack(votes) if votes else np.empty((len(X), 0), dtype=object)

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        """The probability of every model, columns in the order of :attr:`classes_`."""
        return self._probabilities(X).loc[:, self.classes_].to_numpy(dtype="float64")

    def _probabilities(self, X: pd.DataFrame) -> pd.DataFrame:
        # FreqAI asks for the classes, then for the probabilities, of the same frame: the
        # models run once for both.
        if self._last is not None and self._last[0] is X:
            return self._last[1]
        probabilities = predict_in_blocks(self.models, X)
        self._last = (X, probabilities)
        return probabilities


def window_levels(setup: ITBSetup, fitted: pd.DataFrame) -> dict[str, float]:
    """Walk-forward thresholds of a training window: the quantile levels of the models' own
    ``trade_score`` on the window's training rows (``itb.thresholds``).

    :param fitted: the models' probabilities on the training rows.
    :return: ``{buy_threshold: ..., sell_threshold: ...}``, returned with every prediction.
    """
    score = setup.trade_score(fitted, setup.default_overrides())
    buy, sell = quantile_levels(score.to_numpy(), setup.raw.thresholds)
    return {BUY_LEVEL: buy, SELL_LEVEL: sell}


@dataclass(frozen=True)
class WindowReturns:
    """What a training window hands FreqAI besides its models.

    :param levels: walk-forward levels and, with centred scores, each label's base rate,
        returned with every prediction (empty in fixed mode with plain scores).
    :param means: live only: each probability column's mean on the training rows (the
        reference of the live confidence drift, FreqAI's ``<column>_mean``).
    :param stds: live only: their standard deviations.
    """

    levels: dict[str, float]
    means: dict[str, float]
    stds: dict[str, float]


def window_returns(
    setup: ITBSetup, models: ScoreModels, features: pd.DataFrame, *, live: bool
) -> WindowReturns:
    """The models' in-sample probabilities on the training rows, summarised for FreqAI
    (predicted only when walk-forward levels or live statistics need them)."""
    walk_forward = setup.raw.thresholds.mode == "walk_forward"
    # a centred window's base rates come with its predictions, as its levels do
    rates = (
        {base_rate_column(lb): rate for lb, rate in models.base_rates().items()}
        if models.centred
        else {}
    )
    if not (walk_forward or live):
        return WindowReturns(rates, {}, {})
    fitted = predict_in_blocks(models, features)
    levels = {**(window_levels(setup, fitted) if walk_forward else {}), **rates}
    means, stds = training_moments(fitted) if live else ({}, {})
    return WindowReturns(levels, means, stds)


def describe_levels(pair: str, levels: dict[str, float]) -> str:
    """A window's levels and base rates as the training log shows them."""
    parts = []
    if BUY_LEVEL in levels:
        parts.append(
            f"walk-forward levels buy {levels[BUY_LEVEL]:.4f}, sell {levels[SELL_LEVEL]:.4f}"
        )
    rates = [f"{k} {v:.4f}" for k, v in levels.items() if k not in (BUY_LEVEL, SELL_LEVEL)]
    if rates:
        parts.append("base rates " + ", ".join(rates))
    return f"ITB {pair}: " + "; ".join(parts)


def failure_text(error: BaseException | None) -> str:
    """A training failure as the bot tells it: ``DataError: training: no row ...``."""
    return f"{type(error).__name__}: {error}" if error is not None else "no model"


def training_moments(fitted: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation of each probability column on the training rows (FreqAI's
    ``labels_mean``/``labels_std`` of a live model)."""
    means = {c: float(fitted[c].mean()) for c in fitted.columns}
    return means, {c: float(fitted[c].std()) for c in fitted.columns}


def training_record(
    setup: ITBSetup,
    pair: str,
    trained_dates: pd.Series,
    window_end: str | None,
    timeframe: str | None,
    labels: pd.DataFrame,
) -> dict[str, Any]:
    """Which candles a window's models were fitted on, and the label horizon that shows that
    none of their labels reads a price from the period the models then predict.

    :param trained_dates: dates of the training rows.
    :param window_end: the end of FreqAI's training window (None when unknown).
    :param labels: the training labels (one boolean column per label).
    """
    dates = pd.to_datetime(trained_dates)
    return {
        "pair": pair,
        "first_trained_candle": str(dates.min()),
        "last_trained_candle": str(dates.max()),
        "window_end": window_end,
        "label_horizon_candles": setup.label_horizon(),
        "timeframe": timeframe,
        "rows": len(labels),
        "positive_rate": {c: float(labels[c].mean()) for c in labels.columns},
        "models": [score_column(lb, a.name) for lb in labels for a in setup.algorithms],
    }


def write_training_record(folder: Path, record: dict[str, Any]) -> Path:
    """Leave the record as :data:`TRAINING_RECORD` beside the window's model."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TRAINING_RECORD
    path.write_text(json.dumps(record, indent=1))
    return path


def train_window(
    setup: ITBSetup, rows: WindowRows, fitted: FittedModels | None
) -> tuple[ScoreModels, str | None]:
    """A training window's models: in a backtest, those the task pool fitted for these rows;
    else (or for rows the pool did not see) fitted now on ``itb.compute``.

    :param fitted: the task pool's models (None: no pool, as in live trading).
    :return: the models, and a warning when the pool had not fitted them.
    """
    before = fitted.fitted if fitted is not None else 0
    models = window_models(
        rows,
        setup.algorithms,
        seed=setup.seed,
        compute=setup.raw.compute,
        store=fitted,
        centred=setup.raw.centred_scores,
    )
    if fitted is None or fitted.fitted == before:
        return models, None
    return models, (
        f"window {rows.window} was not fitted by the task pool (its training rows differ from "
        "the pool's); fitted now"
    )
