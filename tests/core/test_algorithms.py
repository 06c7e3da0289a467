"""ITB's classifiers built from config: training rows, reproducibility, probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from itb_ext.algorithms import train_score_models, training_rows
from itb_ext.config.base import validate
from itb_ext.config.models import AlgorithmConfig, AlgorithmParams
from itb_ext.errors import ConfigError, DataError


def algo(name: str, kind: str, **extra: object) -> AlgorithmConfig:
    return validate(AlgorithmConfig, {"name": name, "algo": kind, **extra}, "test")


def problem(n: int = 400, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    noise = rng.normal(scale=0.5, size=n)
    labels = pd.DataFrame(
        {
            "high_30": (X["a"] + noise > 0.5),
            "low_30": (X["b"] - noise < -0.5),
        }
    )
    return X, labels


def test_training_rows_take_every_nth_then_the_most_recent() -> None:
    params = AlgorithmParams(every_nth_row=3, length=2)
    assert training_rows(10, params).tolist() == [6, 9]
    assert training_rows(5, AlgorithmParams()).tolist() == [0, 1, 2, 3, 4]
    assert training_rows(5, AlgorithmParams(length=3)).tolist() == [2, 3, 4]


@pytest.mark.parametrize("kind", ["gb", "lc", "svc", "svc_linear", "nn"])
def test_each_algorithm_learns_a_separable_label(kind: str) -> None:
    X, labels = problem()
    train = {"n_epochs": 300, "learning_rate": 0.01} if kind == "nn" else {}
    models = train_score_models(X.iloc[:300], labels.iloc[:300], [algo(kind, kind, train=train)])
    scores = models.predict(X.iloc[300:])
    assert list(scores.columns) == [f"high_30_{kind}", f"low_30_{kind}"]
    for label in ("high_30", "low_30"):
        p = scores[f"{label}_{kind}"].to_numpy()
        assert ((p >= 0) & (p <= 1)).all()
        assert roc_auc_score(labels[label].iloc[300:], p) > 0.8


def test_same_data_and_seed_give_identical_scores() -> None:
    X, labels = problem()
    algorithms = [algo("gb", "gb"), algo("svc", "svc"), algo("nn", "nn")]
    first = train_score_models(X, labels, algorithms, seed=7).predict(X)
    second = train_score_models(X, labels, algorithms, seed=7).predict(X)
    pd.testing.assert_frame_equal(first, second)


def test_rows_with_unknown_labels_or_features_are_not_trained_on() -> None:
    X, labels = problem(200)
    poisoned = X.copy()
    poisoned.iloc[150:, 0] = 1e6  # would wreck a linear model if these rows were used
    masked = labels.astype("boolean")
    masked.iloc[150:] = pd.NA
    clean = train_score_models(X.iloc[:150], labels.iloc[:150], [algo("lc", "lc")])
    dropped = train_score_models(poisoned, masked, [algo("lc", "lc")])
    pd.testing.assert_frame_equal(clean.predict(X), dropped.predict(X))


def test_missing_features_give_nan_scores() -> None:
    X, labels = problem(100)
    models = train_score_models(X, labels, [algo("lc", "lc")])
    Xp = X.iloc[:3].copy()
    Xp.iloc[1, 2] = np.nan
    scores = models.predict(Xp)
    assert np.isnan(scores.iloc[1]).all()
    assert not np.isnan(scores.iloc[[0, 2]]).any().any()


def test_a_label_with_one_class_in_the_window_predicts_that_class() -> None:
    X, labels = problem(100)
    labels["high_30"] = False
    scores = train_score_models(X, labels, [algo("lc", "lc")]).predict(X)
    assert (scores["high_30_lc"] == 0.0).all()


def test_no_known_row_is_an_error() -> None:
    X, labels = problem(10)
    with pytest.raises(DataError, match="no row has all features and labels known"):
        unknown = pd.DataFrame({c: pd.array([pd.NA] * 10, dtype="boolean") for c in labels})
        train_score_models(X, unknown, [algo("lc", "lc")])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x", "algo": "rf"}, "algo"),
        ({"name": "x", "algo": "svc", "train": {"gama": 1}}, "unknown train argument 'gama'"),
        ({"name": "x", "algo": "nn", "train": {"epochs": 3}}, "unknown train argument 'epochs'"),
        ({"name": "x", "algo": "lc", "params": {"is_regression": True}}, "regression"),
        ({"name": "x", "algo": "lc", "params": {"length": -1}}, "params.length"),
        ({"name": "x y", "algo": "lc"}, "name"),
    ],
)
def test_bad_algorithm_entries_are_rejected(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(AlgorithmConfig, raw, "algorithms[0]")


def test_itb_logistic_sample_arguments_train_without_deprecation(recwarn) -> None:
    X, labels = problem(100)
    cfg = algo(
        "lc",
        "lc",
        train={"penalty": "l2", "C": 1.0, "class_weight": None, "solver": "sag", "max_iter": 100},
    )
    train_score_models(X, labels, [cfg])
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]


def test_centred_scores_are_the_probabilities_minus_the_training_base_rate() -> None:
    X, labels = problem(300)
    masked = labels.astype("boolean")
    masked.iloc[250:, 0] = pd.NA  # unknown rows do not count towards the base rate
    algorithms = [algo("lc", "lc"), algo("gb", "gb", params={"every_nth_row": 3})]
    plain = train_score_models(X, masked, algorithms, seed=3)
    centred = train_score_models(X, masked, algorithms, seed=3, centred=True)
    known = masked.notna().all(axis=1)
    expected = {
        "high_30": labels.loc[known, "high_30"].mean(),
        "low_30": labels.loc[known, "low_30"].mean(),
    }
    assert centred.base_rates() == pytest.approx(expected, abs=1e-15)
    p, c = plain.predict(X), centred.predict(X)
    for column in c.columns:
        label = column.rsplit("_", 1)[0]
        np.testing.assert_allclose(c[column], p[column] - expected[label], rtol=0, atol=1e-15)
    # both classes occur, so the subtraction is not a no-op
    assert 0.0 < expected["high_30"] < 1.0
