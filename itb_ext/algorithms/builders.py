"""Builders of ITB's classifiers: one function per algorithm, listed in the registry.

A builder turns an algorithm entry into an unfitted estimator with ``fit(X, y)`` and
``predict_proba(X)``; scaling is added around it by the caller. Libraries are imported inside the
builders so that importing the registry (and validating a config) stays cheap.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from itb_ext.config.models import AlgorithmConfig
from itb_ext.errors import ConfigError

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


def build_gb(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    """LightGBM as ITB trains it (``lightgbm.train``); the minimum leaf grows with the rows."""
    params = {**GB_DEFAULTS, "min_data_in_leaf": max(1, n_rows // 100), **cfg.train}
    return LightGBMBinary(params=params, seed=seed)


def build_lc(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    """Logistic regression."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**{"random_state": seed, **_logistic_arguments(cfg.train)})


def build_svc(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    """RBF support vector classifier with Platt-scaled probabilities."""
    from sklearn.svm import SVC

    return _platt_scaled(SVC(**cfg.train))


def build_svc_fast(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    """RBF support vector classifier approximated for long windows (see ``fast_svc``), with
    Platt-scaled probabilities (scaled inside, around the linear SVM only)."""
    from itb_ext.algorithms.fast_svc import NystroemSVC

    return NystroemSVC(**{"random_state": seed, **cfg.train})


def svc_fast_train_keys() -> frozenset[str]:
    """``svc_fast``'s options (``C``, ``gamma``, ``n_components``, ...)."""
    from itb_ext.algorithms.fast_svc import SVC_FAST_TRAIN_KEYS

    return SVC_FAST_TRAIN_KEYS


def build_svc_linear(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    """Linear support vector classifier with Platt-scaled probabilities."""
    from sklearn.svm import LinearSVC

    return _platt_scaled(LinearSVC(**{"random_state": seed, **cfg.train}))


def build_nn(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    """Multi-layer perceptron with ITB's Keras options mapped to scikit-learn's."""
    from sklearn.neural_network import MLPClassifier

    train = cfg.train
    return MLPClassifier(
        hidden_layer_sizes=cfg.params.layers or (max(1, n_features // 4),),
        activation="logistic",
        solver="adam",
        learning_rate_init=float(train.get("learning_rate", 0.001)),
        batch_size=train.get("bs", "auto"),
        max_iter=int(train.get("n_epochs", 200)),
        tol=1e-5,
        n_iter_no_change=5,
        random_state=seed,
    )


def lc_train_keys() -> frozenset[str]:
    """``LogisticRegression``'s arguments plus ITB's ``penalty`` and ``n_jobs``."""
    from sklearn.linear_model import LogisticRegression

    return _constructor_arguments(LogisticRegression) | {"penalty", "n_jobs"}


def svc_train_keys() -> frozenset[str]:
    """``SVC``'s constructor arguments."""
    from sklearn.svm import SVC

    return _constructor_arguments(SVC)


def svc_linear_train_keys() -> frozenset[str]:
    """``LinearSVC``'s constructor arguments."""
    from sklearn.svm import LinearSVC

    return _constructor_arguments(LinearSVC)


def nn_train_keys() -> frozenset[str]:
    """ITB's Keras options of ``nn``."""
    return frozenset(NN_TRAIN_KEYS)


def _constructor_arguments(cls: type) -> frozenset[str]:
    return frozenset(inspect.signature(cls).parameters)


def _platt_scaled(base: Any) -> Any:
    # Platt scaling on out-of-fold decision values, as libsvm's probability=True does
    # (deprecated in scikit-learn 1.9), with deterministic folds.
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(base, method="sigmoid", cv=5, ensemble=False)


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
