"""The FreqTrade-free half of ITBClassifier (``itb_ext.strategy.classifier``) on toy models."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.algorithms import ScoreModel, ScoreModels
from itb_ext.strategy import classifier
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())


class FirstFeature:
    """A stand-in estimator: the probability of "yes" is the first feature (scaled)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.calls = 0

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.calls += 1
        p = X[:, 0] * self.scale
        return np.column_stack([1 - p, p])


def toy_models() -> ScoreModels:
    return ScoreModels(
        features=["f1", "f2"],
        models=[
            ScoreModel("up", "lc", FirstFeature()),
            ScoreModel("up", "gb", FirstFeature(0.5)),
            ScoreModel("down", "lc", None, constant=0.25),
        ],
    )


FEATURES = pd.DataFrame(
    {"f1": [0.2, 0.8, np.nan, 0.6], "f2": [1.0, 1.0, 1.0, 1.0]}, index=[7, 8, 9, 10]
)


def test_labels_come_from_freqais_class_columns() -> None:
    targets = pd.DataFrame({"&-up": ["up:yes", "up:no", "up:yes"], "&-down": ["down:no"] * 3})
    labels = classifier.labels_from_targets(targets)
    assert labels.to_dict("list") == {"up": [True, False, True], "down": [False, False, False]}


def test_freqai_sees_the_probabilities_and_the_voted_classes() -> None:
    model = classifier.FreqaiScoreModels(toy_models(), ["&-up", "&-down"])
    assert model.classes_ == ["up_lc", "up_gb", "down_lc"]
    np.testing.assert_allclose(
        model.predict_proba(FEATURES),
        # a candle with a missing feature has no probability at all
        [[0.2, 0.1, 0.25], [0.8, 0.4, 0.25], [np.nan, np.nan, np.nan], [0.6, 0.3, 0.25]],
    )
    # mean of up: 0.15, 0.6, NaN (a missing feature votes no), 0.45
    assert model.predict(FEATURES).tolist() == [
        ["up:no", "down:no"],
        ["up:yes", "down:no"],
        ["up:no", "down:no"],
        ["up:no", "down:no"],
    ]


def test_classes_and_probabilities_of_one_frame_run_the_models_once() -> None:
    models = toy_models()
    model = classifier.FreqaiScoreModels(models, ["&-up", "&-down"])
    estimator = models.models[0].estimator
    model.predict(FEATURES)
    model.predict_proba(FEATURES)
    assert estimator.calls == 1
    model.predict_proba(FEATURES.copy())
    assert estimator.calls == 2


def test_blocks_give_the_probabilities_of_one_call_with_a_fresh_index() -> None:
    rows = classifier.PREDICTION_BLOCK + 5
    features = pd.DataFrame(
        {"f1": np.linspace(0, 1, rows), "f2": 1.0}, index=range(100, 100 + rows)
    )
    blocks = classifier.predict_in_blocks(toy_models(), features)
    assert list(blocks.index) == list(range(rows))
    np.testing.assert_allclose(blocks["up_gb"], np.linspace(0, 1, rows) * 0.5)
    np.testing.assert_allclose(blocks["down_lc"], 0.25)


def sample_setup(mode: str) -> ITBSetup:
    section = copy.deepcopy(SAMPLE["itb"])
    section["thresholds"] = {"mode": mode, "buy_quantile": 0.75, "sell_quantile": 0.25}
    return ITBSetup.from_freqtrade_config({"itb": section})


def fitted(up: list[float], down: list[float]) -> pd.DataFrame:
    columns = {}
    for algo in ("svc", "lc", "gb"):
        columns[f"high_30_{algo}"] = up
        columns[f"low_30_{algo}"] = down
    return pd.DataFrame(columns)


def test_walk_forward_levels_are_quantiles_of_the_training_trade_score() -> None:
    # trade_score = up - down: -0.2, 0.0, 0.2, 0.4, 0.6; quantiles 0.75 -> 0.4, 0.25 -> 0.0
    probabilities = fitted([0.4, 0.5, 0.6, 0.7, 0.8], [0.6, 0.5, 0.4, 0.3, 0.2])
    levels = classifier.window_levels(sample_setup("walk_forward"), probabilities)
    assert levels == {"buy_threshold": pytest.approx(0.4), "sell_threshold": pytest.approx(0.0)}
    assert classifier.describe_levels("BTC/USD", {"buy_threshold": 0.4, "sell_threshold": 0.0}) == (
        "ITB BTC/USD: walk-forward levels buy 0.4000, sell 0.0000"
    )


def test_a_window_returns_only_what_its_mode_needs() -> None:
    models = ScoreModels(
        features=["f1"],
        models=[
            ScoreModel(lb, a, FirstFeature())
            for lb in ("high_30", "low_30")
            for a in ("svc", "lc", "gb")
        ],
    )
    features = pd.DataFrame({"f1": [0.2, 0.4, 0.6]})
    fixed = classifier.window_returns(sample_setup("fixed"), models, features, live=False)
    assert fixed == classifier.WindowReturns({}, {}, {})
    live = classifier.window_returns(sample_setup("fixed"), models, features, live=True)
    assert live.levels == {}
    assert live.means["high_30_lc"] == pytest.approx(0.4)
    assert live.stds["low_30_gb"] == pytest.approx(0.2)  # sample standard deviation
    walk_forward = classifier.window_returns(
        sample_setup("walk_forward"), models, features, live=False
    )
    # up == down: every trade_score is 0
    assert walk_forward.levels == {"buy_threshold": 0.0, "sell_threshold": 0.0}
    assert walk_forward.means == {}


def test_the_training_record_names_the_window_and_the_label_horizon(tmp_path: Path) -> None:
    labels = pd.DataFrame({"high_30": [True, False, True, True], "low_30": [False] * 4})
    dates = pd.Series(pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC"))
    record = classifier.training_record(
        sample_setup("fixed"), "BTC/USD", dates, "2024-01-02 00:00:00+00:00", "1h", labels
    )
    assert record == {
        "pair": "BTC/USD",
        "first_trained_candle": "2024-01-01 00:00:00+00:00",
        "last_trained_candle": "2024-01-01 03:00:00+00:00",
        "window_end": "2024-01-02 00:00:00+00:00",
        "label_horizon_candles": 24,
        "timeframe": "1h",
        "rows": 4,
        "positive_rate": {"high_30": 0.75, "low_30": 0.0},
        "models": [
            "high_30_svc",
            "high_30_lc",
            "high_30_gb",
            "low_30_svc",
            "low_30_lc",
            "low_30_gb",
        ],
    }
    path = classifier.write_training_record(tmp_path / "sub", record)
    assert path.name == "itb_training.json" and json.loads(path.read_text()) == record


def test_a_failure_is_told_by_its_type_and_message() -> None:
    assert classifier.failure_text(ValueError("no rows")) == "ValueError: no rows"
    assert classifier.failure_text(None) == "no model"
