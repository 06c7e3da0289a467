"""``svc_fast`` (Nyström + linear SVM) keeps the RBF SVC's behaviour; every algorithm honours
``length`` and ``every_nth_row``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from itb_ext.algorithms import train_score_models
from itb_ext.config.base import validate
from itb_ext.config.models import AlgorithmConfig
from itb_ext.errors import ConfigError


def algo(name: str, kind: str, **extra: object) -> AlgorithmConfig:
    return validate(AlgorithmConfig, {"name": name, "algo": kind, **extra}, "test")


def ring(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A label no linear model can learn: inside a ring around the origin, with noise."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    radius = np.hypot(X["a"], X["b"]) + rng.normal(scale=0.15, size=n)
    return X, pd.DataFrame({"high": radius.between(0.8, 1.6)})


def test_svc_fast_learns_what_the_rbf_svc_learns_and_a_linear_svc_cannot() -> None:
    X, labels = ring(1600, seed=2)
    train, test = slice(0, 1200), slice(1200, None)
    auc = {}
    for kind in ("svc", "svc_fast", "svc_linear"):
        models = train_score_models(X[train], labels[train], [algo(kind, kind)], seed=1)
        p = models.predict(X[test])[f"high_{kind}"]
        assert ((p >= 0) & (p <= 1)).all()
        auc[kind] = roc_auc_score(labels["high"][test], p)
    assert auc["svc"] > 0.75, auc
    assert auc["svc_fast"] > auc["svc"] - 0.03, auc
    assert auc["svc_linear"] < 0.65, auc


def test_svc_fast_is_reproducible_and_its_options_are_checked() -> None:
    X, labels = ring(400, seed=3)
    cfg = [algo("f", "svc_fast", train={"C": 0.5, "gamma": 0.2, "n_components": 50})]
    first = train_score_models(X, labels, cfg, seed=4).predict(X)
    second = train_score_models(X, labels, cfg, seed=4).predict(X)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    other_seed = train_score_models(X, labels, cfg, seed=5).predict(X)
    assert not first.equals(other_seed)  # the landmark sample follows the seed
    with pytest.raises(ConfigError, match="unknown train argument 'kernel' for algo 'svc_fast'"):
        algo("f", "svc_fast", train={"kernel": "poly"})


@pytest.mark.parametrize("kind", ["gb", "lc", "svc", "svc_linear", "svc_fast", "nn"])
def test_every_algorithm_trains_on_every_nth_row_then_the_last_length(kind: str) -> None:
    X, labels = ring(500, seed=6)
    train = {"n_epochs": 5} if kind == "nn" else {}
    cfg = algo(
        kind, kind, params={"is_scale": True, "every_nth_row": 3, "length": 120}, train=train
    )
    model = train_score_models(X, labels, [cfg]).models[0].estimator
    scaler = model[0]  # the StandardScaler in front of the classifier saw the training rows
    assert scaler.n_samples_seen_ == 120
    rows = np.arange(500)[::3][-120:]
    np.testing.assert_allclose(scaler.mean_, X.iloc[rows].mean().to_numpy())
