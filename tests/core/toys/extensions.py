"""One toy of each extension point, written as the README's "How to extend" lists say.

* feature ``toy_momentum``: ``close / close.shift(w) - 1`` (a config class and a function);
* label ``toy_up``: the close ``h`` bars ahead is above today's (a config class and a function);
* algorithm ``toy_nearest``: a nearest-centroid classifier (a builder function).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.base import BaseEstimator, ClassifierMixin

from itb_ext.config.base import FrozenModel
from itb_ext.config.models import AlgorithmConfig
from itb_ext.pipeline.frames import require_columns


class ToyMomentumConfig(FrozenModel):
    """``toy_momentum``: relative change of ``column`` over ``window`` bars."""

    column: str = "close"
    window: int = Field(default=3, ge=1)

    def input_columns(self) -> tuple[str, ...]:
        return (self.column,)

    def output_columns(self) -> tuple[str, ...]:
        return (f"{self.column}_toy_momentum_{self.window}",)

    def lookback(self) -> int:
        return self.window + 1


def generate_toy_momentum(df: pd.DataFrame, cfg: ToyMomentumConfig) -> pd.DataFrame:
    require_columns(df, cfg.input_columns(), "toy_momentum")
    values = df[cfg.column]
    (name,) = cfg.output_columns()
    return pd.DataFrame({name: values / values.shift(cfg.window) - 1.0}, index=df.index)


class ToyUpConfig(FrozenModel):
    """``toy_up``: whether the close ``horizon`` bars ahead is higher."""

    horizon_bars: int = Field(default=2, alias="horizon", ge=1)

    def input_columns(self) -> tuple[str, ...]:
        return ("close",)

    def output_columns(self) -> tuple[str, ...]:
        return (f"toy_up_{self.horizon_bars}",)

    def horizon(self) -> int:
        return self.horizon_bars


def generate_toy_up(df: pd.DataFrame, cfg: ToyUpConfig) -> pd.DataFrame:
    require_columns(df, cfg.input_columns(), "toy_up")
    future = df["close"].shift(-cfg.horizon_bars)
    label = (future > df["close"]).astype("boolean")
    label[future.isna()] = pd.NA
    (name,) = cfg.output_columns()
    return pd.DataFrame({name: label}, index=df.index)


class NearestCentroid(ClassifierMixin, BaseEstimator):
    """Probability of class 1 from the distances to the two class means."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> NearestCentroid:
        self.centres_ = np.stack([X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        d = np.linalg.norm(X[:, None, :] - self.centres_[None, :, :], axis=2)
        p1 = d[:, 0] / (d[:, 0] + d[:, 1])
        return np.column_stack([1.0 - p1, p1])


def build_toy_nearest(cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
    return NearestCentroid()
