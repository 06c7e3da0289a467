"""Permutation feature importance: how much out-of-sample skill a model loses when one input
column is shuffled (its link to the outcome broken, its distribution kept)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from itb_ext.evaluation.metrics import roc_auc


def permutation_importance(
    predict: Callable[[pd.DataFrame], pd.DataFrame],
    features: pd.DataFrame,
    outcomes: Mapping[str, np.ndarray],
    seed: int = 0,
) -> pd.Series:
    """Mean drop of AUC over the score columns when each feature is shuffled.

    :param predict: features -> one probability column per key of ``outcomes``.
    :param features: the model's inputs on the rows graded (rows with a missing value are left
        out).
    :param outcomes: per score column, the true outcome of each row of ``features``.
    :param seed: seed of the shuffles (one shuffle per feature, the same for every column).
    :return: AUC drop per feature (positive = the model relies on it), in ``features`` order.
    """
    ok = np.isfinite(features.to_numpy(dtype="float64")).all(axis=1)
    X = features.loc[ok]
    truth = {c: np.asarray(y, dtype=bool)[ok] for c, y in outcomes.items()}

    def skill(frame: pd.DataFrame) -> float:
        scores = predict(frame)
        return float(np.nanmean([roc_auc(truth[c], scores[c].to_numpy()) for c in truth]))

    base = skill(X)
    rng = np.random.default_rng(seed)
    drops = {}
    for column in X.columns:
        shuffled = X.copy()
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
        drops[column] = base - skill(shuffled)
    return pd.Series(drops, dtype="float64")
