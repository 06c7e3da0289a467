"""``svc_fast``: the RBF support vector classifier approximated for long training windows.

An exact RBF SVC's fit time grows about as rows^1.8 (minutes per model on a year of 5m
candles). ``svc_fast`` maps the features onto ``n_components`` RBF kernel features fitted on a
random sample of the rows (Nyström's method, which approximates the same kernel, with the same
``gamma`` as ``SVC``) and fits a linear SVM there: fit time grows about linearly with the rows.
Probabilities are Platt-scaled the same way as ``svc``'s; the kernel features are fitted once
on the window's features (no labels), the folds of the scaling only refit the linear SVM.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

#: ``train`` keys of ``svc_fast``.
SVC_FAST_TRAIN_KEYS = frozenset({"C", "gamma", "n_components", "class_weight", "max_iter", "tol"})


class NystroemSVC(ClassifierMixin, BaseEstimator):
    """Linear SVM on a Nyström approximation of the RBF kernel, with Platt-scaled probabilities.

    :param C: the SVM's regularisation (as ``SVC``'s, for a squared hinge loss).
    :param gamma: the RBF kernel's width: ``"scale"`` (``SVC``'s default,
        1 / (n_features * X.var())), ``"auto"`` (1 / n_features) or a positive number.
    :param n_components: kernel features (rows sampled as landmarks; at most the row count).
        More follow the exact kernel more closely and cost more.
    :param class_weight: as ``SVC``'s.
    :param max_iter: the linear solver's iteration limit.
    :param tol: the linear solver's tolerance.
    :param random_state: seed of the landmark sample.
    """

    def __init__(
        self,
        C: float = 1.0,
        gamma: str | float = "scale",
        n_components: int = 300,
        class_weight: Any = None,
        max_iter: int = 2000,
        tol: float = 1e-4,
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.gamma = gamma
        self.n_components = n_components
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _gamma(self, X: np.ndarray) -> float:
        if self.gamma == "scale":
            variance = float(X.var())
            return 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return float(self.gamma)

    def fit(self, X: np.ndarray, y: np.ndarray) -> NystroemSVC:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.kernel_approximation import Nystroem
        from sklearn.svm import LinearSVC

        X = np.asarray(X, dtype="float64")
        self.kernel_ = Nystroem(
            kernel="rbf",
            gamma=self._gamma(X),
            n_components=min(int(self.n_components), len(X)),
            random_state=self.random_state,
        ).fit(X)
        svm = LinearSVC(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            dual=True,
        )
        # Platt scaling on out-of-fold decision values, as for ``svc``.
        self.svm_ = CalibratedClassifierCV(svm, method="sigmoid", cv=5, ensemble=False)
        self.svm_.fit(self.kernel_.transform(X), y)
        self.classes_ = self.svm_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        values: np.ndarray = self.svm_.predict_proba(self.kernel_.transform(X))
        return values

    def predict(self, X: np.ndarray) -> np.ndarray:
        values: np.ndarray = self.svm_.predict(self.kernel_.transform(X))
        return values
