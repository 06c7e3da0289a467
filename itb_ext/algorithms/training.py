"""Training ITB's per-label models: one classifier per (label, algorithm), as ITB does.

Each model yields the probability that its label is true, in a column named
``<label>_<algorithm>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from itb_ext.algorithms.parallel import FitTask, fit_estimators
from itb_ext.algorithms.registry import ALGORITHMS
from itb_ext.config.compute import ComputeConfig
from itb_ext.config.models import AlgorithmConfig, AlgorithmParams
from itb_ext.errors import DataError
from itb_ext.pipeline.naming import score_column


def training_rows(n_rows: int, params: AlgorithmParams) -> np.ndarray:
    """Rows an algorithm trains on: every n-th row, then the most recent ``length`` of them.

    :param n_rows: rows available after NaN rows were dropped.
    :param params: the algorithm's params.
    """
    rows = np.arange(n_rows)
    if params.every_nth_row > 1:
        rows = rows[:: params.every_nth_row]
    if params.length:
        rows = rows[-params.length :]
    return rows


def build_estimator(cfg: AlgorithmConfig, n_features: int, n_rows: int, seed: int) -> Any:
    """A scikit-learn estimator (with ``predict_proba``) for one algorithm entry.

    :param cfg: the algorithm entry; its ``algo`` picks the builder of the registry.
    :param n_features: number of training features (sizes the default ``nn`` layer).
    :param n_rows: number of training rows (sizes LightGBM's minimum leaf).
    :param seed: random seed, so that the same data give the same model.
    """
    estimator = ALGORITHMS[cfg.algo].build(cfg, n_features=n_features, n_rows=n_rows, seed=seed)
    if cfg.scaled:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), estimator)
    return estimator


@dataclass
class ScoreModel:
    """A trained model for one (label, algorithm) pair.

    :param label: the label it predicts.
    :param algorithm: the algorithm entry's name.
    :param estimator: the fitted estimator, or None when the training rows held one class only.
    :param constant: the probability returned when ``estimator`` is None.
    :param base_rate: share of the training window's known rows where the label is true.
    """

    label: str
    algorithm: str
    estimator: Any
    constant: float = 0.0
    base_rate: float = float("nan")

    @property
    def column(self) -> str:
        return score_column(self.label, self.algorithm)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.estimator is None:
            return np.full(len(X), self.constant)
        return np.asarray(self.estimator.predict_proba(X)[:, 1], dtype="float64")


@dataclass
class ScoreModels:
    """Every (label, algorithm) model of one training, predicting ITB-named score columns.

    :param features: the training feature names, in the order the models expect.
    :param models: one model per (label, algorithm), labels in the outer loop.
    :param centred: predict each probability minus its label's base rate in the training
        window, so that 0 means "as likely as usual" in every window (a level of +0.02 then
        means the same whether the window was calm or wild).
    """

    features: list[str]
    models: list[ScoreModel] = field(default_factory=list)
    centred: bool = False

    def base_rates(self) -> dict[str, float]:
        """Each label's base rate in the training window."""
        return {m.label: m.base_rate for m in self.models}

    @property
    def columns(self) -> list[str]:
        return [m.column for m in self.models]

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """Probabilities for each score column; rows with a missing feature get NaN.

        :param X: frame holding every training feature.
        """
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise DataError(f"prediction: missing feature column '{missing[0]}'")
        values = X.loc[:, self.features].to_numpy(dtype="float64")
        ok = np.isfinite(values).all(axis=1)
        out = {}
        for model in self.models:
            col = np.full(len(X), np.nan)
            if ok.any():
                col[ok] = model.predict(values[ok])
            out[model.column] = col - model.base_rate if self.centred else col
        return pd.DataFrame(out, index=X.index)


def train_score_models(
    X: pd.DataFrame,
    labels: pd.DataFrame,
    algorithms: Sequence[AlgorithmConfig],
    seed: int = 0,
    compute: ComputeConfig | None = None,
    centred: bool = False,
) -> ScoreModels:
    """Train one classifier per (label, algorithm) on the rows where features and labels are known.

    :param X: training features (float columns).
    :param labels: boolean label columns (NaN/NA = unknown, such rows are dropped), same index.
    :param algorithms: algorithm entries.
    :param seed: random seed.
    :param compute: where the models are fitted (``itb.compute``; default: one after another
        here). The models are the same wherever they were fitted.
    :param centred: see :class:`ScoreModels`.
    :raises DataError: when no training row is left.
    """
    values = X.to_numpy(dtype="float64")
    known = np.isfinite(values).all(axis=1) & labels.notna().all(axis=1).to_numpy()
    if not known.any():
        raise DataError("training: no row has all features and labels known")
    values = values[known]
    result = ScoreModels(features=list(X.columns), centred=centred)
    tasks: list[FitTask] = []
    for label in labels.columns:
        y = labels[label].to_numpy()[known].astype(bool).astype(int)
        # over every known row of the window, whichever rows an algorithm samples
        base_rate = float(y.mean())
        for algo in algorithms:
            rows = training_rows(len(values), algo.params)
            Xa, ya = values[rows], y[rows]
            if ya.min() == ya.max():
                result.models.append(
                    ScoreModel(label, algo.name, None, float(ya[0]), base_rate=base_rate)
                )
                continue
            estimator = build_estimator(algo, values.shape[1], len(rows), seed)
            tasks.append(FitTask(estimator, Xa, ya))
            result.models.append(ScoreModel(label, algo.name, estimator, base_rate=base_rate))
    fitted = iter(fit_estimators(tasks, compute))
    for model in result.models:
        if model.estimator is not None:
            model.estimator = next(fitted)
    return result
