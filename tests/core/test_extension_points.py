"""A toy feature generator, label and algorithm added through the registries reach every stage:
config validation, the FreqAI setup (columns, look-back, horizon), training and prediction."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from itb_ext.algorithms import ALGORITHMS, Algorithm, register_algorithm, train_score_models
from itb_ext.config.base import validate
from itb_ext.config.models import AlgorithmConfig
from itb_ext.errors import ConfigError
from itb_ext.pipeline.registry import BUILTIN_GENERATORS, BuiltinGenerator, register_generator
from itb_ext.pipeline.steps import ITBPipeline
from itb_ext.strategy.setup import ITBSetup
from tests.core.toys.extensions import build_toy_nearest

TOYS = "tests.core.toys.extensions"


@pytest.fixture
def toys() -> Iterator[None]:
    register_generator(
        BuiltinGenerator(
            "toy_momentum",
            "features",
            f"{TOYS}:generate_toy_momentum",
            f"{TOYS}:ToyMomentumConfig",
        )
    )
    register_generator(
        BuiltinGenerator("toy_up", "labels", f"{TOYS}:generate_toy_up", f"{TOYS}:ToyUpConfig")
    )
    register_algorithm(Algorithm("toy_nearest", build_toy_nearest, scaled=True))
    try:
        yield
    finally:
        del BUILTIN_GENERATORS["toy_momentum"], BUILTIN_GENERATORS["toy_up"]
        ALGORITHMS.unregister("toy_nearest")


def section() -> dict:
    return {
        "feature_sets": [{"generator": "toy_momentum", "config": {"window": w}} for w in (2, 5)],
        "label_sets": [{"generator": "toy_up", "config": {"horizon": 3}}],
        "algorithms": [{"name": "near", "algo": "toy_nearest"}],
        "signal_sets": [
            {
                "generator": "threshold_rule",
                "config": {
                    "columns": "toy_up_3_near",
                    "names": ["buy", "sell"],
                    "parameters": {"buy_signal_threshold": 0.6, "sell_signal_threshold": 0.4},
                },
            }
        ],
    }


def candles(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame({"close": close})


def test_the_toys_are_unknown_until_registered() -> None:
    with pytest.raises(ConfigError, match=r"algorithms\[0\].algo: Input should be 'gb', 'lc'"):
        ITBSetup.from_freqtrade_config({"itb": section()})
    with pytest.raises(ConfigError, match="unknown generator 'toy_momentum'"):
        ITBPipeline.from_config({"feature_sets": section()["feature_sets"]})
    with pytest.raises(ConfigError, match="unknown generator 'toy_up'"):
        ITBPipeline.from_config({"label_sets": section()["label_sets"]})


def test_registered_toys_run_through_the_freqai_setup(toys: None) -> None:
    setup = ITBSetup.from_freqtrade_config({"itb": section()})
    assert setup.train_features == ("close_toy_momentum_2", "close_toy_momentum_5")
    assert setup.label_names == ("toy_up_3",)
    assert setup.score_columns == ["toy_up_3_near"]
    assert setup.startup_candles() == 6
    assert setup.label_horizon() == 3

    frame = candles()
    features = setup.feature_frame(frame)
    close = frame["close"]
    np.testing.assert_allclose(
        features["%-close_toy_momentum_5"].iloc[5:], (close / close.shift(5) - 1).iloc[5:]
    )
    labels = setup.label_frame(frame)
    assert labels["toy_up_3"].iloc[-3:].isna().all()
    assert bool(labels["toy_up_3"].iloc[0]) == bool(close.iloc[3] > close.iloc[0])

    known = labels["toy_up_3"].notna() & features.notna().all(axis=1)
    models = train_score_models(
        features[known].iloc[:250], labels[known].iloc[:250], setup.algorithms
    )
    assert type(models.models[0].estimator[-1]).__name__ == "NearestCentroid"  # scaled=True
    scores = models.predict(features[known].iloc[250:])
    assert list(scores.columns) == ["toy_up_3_near"]
    p = scores["toy_up_3_near"].to_numpy()
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all() and p.std() > 0


def test_a_toy_algorithm_without_train_keys_accepts_none_listed(toys: None) -> None:
    cfg = validate(AlgorithmConfig, {"name": "n", "algo": "toy_nearest"}, "algorithms[0]")
    assert cfg.scaled
    with pytest.raises(ConfigError, match="'toy_nearest' is already registered"):
        register_algorithm(Algorithm("toy_nearest", build_toy_nearest, scaled=False))
    with pytest.raises(ConfigError, match="'toy_up' is already registered"):
        register_generator(BuiltinGenerator("toy_up", "labels", "x:y", "x:Y"))
