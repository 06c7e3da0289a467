"""ITB's classifiers (``gb``, ``lc``, ``svc``, ``nn``) built from config, and the per-label models.

One model is trained per (label, algorithm), as ITB does; each yields the probability that its
label is true, in a column named ``<label>_<algorithm>``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from itb_ext.config.models import AlgorithmConfig, AlgorithmParams
from itb_ext.errors import ConfigError, DataError
from itb_ext.naming import score_column

#: ITB's LightGBM settings before 2026 (its HEAD passes none, which trains a regression).
GB_DEFAULTS: dict[str, Any] = {
    "objective": "binary",
    "boosting_type": "gbdt",
    "metric": "cross_entropy",
    "num_leaves": 32,
    "is_unbalance": True,
    "learning_rate": 0.1,
    "num_boost_round": 100,
    "verbose": -1,
}
#: ITB's Keras options for ``nn`` and their MLP equivalents.
NN_TRAIN_KEYS = {"learning_rate", "bs", "n_epochs", "es"}


def check_train_arguments(algo: str, train: Mapping[str, Any]) -> None:
    """Reject ``train`` keys the library would not accept, before any training starts.

    :raises ValueError: naming the first unknown key (pydantic turns it into a ConfigError).
    """
    if algo == "gb":
        return  # LightGBM accepts many aliases; it reports unknown ones itself
    if algo == "nn":
        allowed = NN_TRAIN_KEYS
    else:
        allowed = set(inspect.signature(_base_class(algo)).parameters)
        if algo == "lc":
            allowed |= {"penalty", "n_jobs"}
    unknown = sorted(set(train) - allowed)
    if unknown:
        raise ValueError(f"unknown train argument '{unknown[0]}' for algo '{algo}'")


def _base_class(algo: str) -> type:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC, LinearSVC

    return {"lc": LogisticRegression, "svc": SVC, "svc_linear": LinearSVC}[algo]


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


def _logistic_arguments(train: Mapping[str, Any]) -> dict[str, Any]:
    # scikit-learn 1.8 deprecated ``penalty``; its meaning moves to ``l1_ratio``/``C``.
    args = {k: v for k, v in train.items() if k not in {"penalty", "n_jobs"}}
    penalty = train.get("penalty", "l2")
    if penalty == "l1":
        args.setdefault("l1_ratio", 1.0)
        args.setdefault("solver", "saga")
    elif penalty == "elasticnet":
        args.setdefault("solver", "saga")
    elif penalty in (None, "none"):
        args["C"] = np.inf
    return args


def build_estimator(cfg: AlgorithmConfig, n_features: int, n_rows: int, seed: int) -> Any:
    """A scikit-learn estimator (with ``predict_proba``) for one algorithm entry.

    :param cfg: the algorithm entry.
    :param n_features: number of training features (sizes the default ``nn`` layer).
    :param n_rows: number of training rows (sizes LightGBM's minimum leaf).
    :param seed: random seed, so that the same data give the same model.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

    train = dict(cfg.train)
    estimator: Any
    if cfg.algo == "gb":
        params = {**GB_DEFAULTS, "min_data_in_leaf": max(1, n_rows // 100), **train}
        estimator = LightGBMBinary(params=params, seed=seed)
    elif cfg.algo == "lc":
        estimator = LogisticRegression(**{"random_state": seed, **_logistic_arguments(train)})
    elif cfg.algo in ("svc", "svc_linear"):
        # Platt scaling on out-of-fold decision values, as libsvm's probability=True does
        # (deprecated in scikit-learn 1.9), with deterministic folds.
        base = SVC(**train) if cfg.algo == "svc" else LinearSVC(**{"random_state": seed, **train})
        estimator = CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)
    else:
        layers = cfg.params.layers or (max(1, n_features // 4),)
        estimator = MLPClassifier(
            hidden_layer_sizes=layers,
            activation="logistic",
            solver="adam",
            learning_rate_init=float(train.get("learning_rate", 0.001)),
            batch_size=train.get("bs", "auto"),
            max_iter=int(train.get("n_epochs", 200)),
            tol=1e-5,
            n_iter_no_change=5,
            random_state=seed,
        )
    if cfg.scaled:
        return make_pipeline(StandardScaler(), estimator)
    return estimator


class LightGBMBinary:
    """LightGBM trained with ``lightgbm.train`` (ITB's call) behind a scikit-learn-like face.

    :param params: LightGBM parameters; ``num_boost_round`` (or an alias) gives the rounds.
    :param seed: random seed.
    """

    _ROUND_KEYS = (
        "num_boost_round",
        "num_iterations",
        "num_iteration",
        "n_iter",
        "num_tree",
        "num_trees",
        "num_round",
        "num_rounds",
        "n_estimators",
    )

    def __init__(self, params: Mapping[str, Any], seed: int) -> None:
        self.params = dict(params)
        self.seed = seed
        self.booster: Any = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> LightGBMBinary:
        import lightgbm as lgb

        params = dict(self.params)
        rounds = 100
        for key in self._ROUND_KEYS:
            if key in params:
                rounds = int(params.pop(key))
        params.update({"seed": self.seed, "deterministic": True, "num_threads": 1})
        try:
            self.booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=rounds)
        except lgb.basic.LightGBMError as exc:
            raise ConfigError(f"algorithm gb: LightGBM rejected its parameters: {exc}") from None
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = np.clip(self.booster.predict(X), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])


@dataclass
class ScoreModel:
    """A trained model for one (label, algorithm) pair.

    :param label: the label it predicts.
    :param algorithm: the algorithm entry's name.
    :param estimator: the fitted estimator, or None when the training rows held one class only.
    :param constant: the probability returned when ``estimator`` is None.
    """

    label: str
    algorithm: str
    estimator: Any
    constant: float = 0.0

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
    """

    features: list[str]
    models: list[ScoreModel] = field(default_factory=list)

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
            out[model.column] = col
        return pd.DataFrame(out, index=X.index)


def train_score_models(
    X: pd.DataFrame,
    labels: pd.DataFrame,
    algorithms: Sequence[AlgorithmConfig],
    seed: int = 0,
) -> ScoreModels:
    """Train one classifier per (label, algorithm) on the rows where features and labels are known.

    :param X: training features (float columns).
    :param labels: boolean label columns (NaN/NA = unknown, such rows are dropped), same index.
    :param algorithms: algorithm entries.
    :param seed: random seed.
    :raises DataError: when no training row is left.
    """
    values = X.to_numpy(dtype="float64")
    known = np.isfinite(values).all(axis=1) & labels.notna().all(axis=1).to_numpy()
    if not known.any():
        raise DataError("training: no row has all features and labels known")
    values = values[known]
    result = ScoreModels(features=list(X.columns))
    for label in labels.columns:
        y = labels[label].to_numpy()[known].astype(bool).astype(int)
        for algo in algorithms:
            rows = training_rows(len(values), algo.params)
            Xa, ya = values[rows], y[rows]
            if ya.min() == ya.max():
                result.models.append(ScoreModel(label, algo.name, None, float(ya[0])))
                continue
            estimator = build_estimator(algo, values.shape[1], len(rows), seed)
            estimator.fit(Xa, ya)
            result.models.append(ScoreModel(label, algo.name, estimator))
    return result
