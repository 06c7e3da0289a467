"""Model-health figures on tiny exact frames: AUC, hit rate, drift, maturity and the pause."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from itb_ext.config.risk_controls import ModelHealthConfig
from itb_ext.errors import ConfigError
from itb_ext.risk.model_health import (
    model_health_frame,
    pause_signal,
    rolling_auc,
    rolling_hit_rate,
)
from itb_ext.strategy.model_health import candle_health
from itb_ext.strategy.setup import ITBSetup


def test_rolling_auc_matches_sklearn_on_each_window_of_known_pairs() -> None:
    rng = np.random.default_rng(3)
    scores = pd.Series(rng.random(40).round(1))  # ties count one half, as in scikit-learn
    outcomes = pd.Series(rng.random(40) < scores, dtype="boolean")
    outcomes[5] = pd.NA
    scores[7] = np.nan
    result = rolling_auc(scores, outcomes, window=10, min_samples=8)
    for end in range(40):
        window = slice(max(0, end - 9), end + 1)
        s, o = scores[window], outcomes[window]
        known = s.notna() & o.notna()
        if known.sum() < 8:
            assert np.isnan(result[end])
        else:
            expected = roc_auc_score(o[known].astype(bool), s[known])
            assert result[end] == pytest.approx(expected)


def test_hit_rate_is_the_share_on_the_right_side_of_one_half() -> None:
    scores = pd.Series([0.7, 0.2, 0.6, 0.4, np.nan])
    outcomes = pd.Series([True, True, False, False, True], dtype="boolean")
    result = rolling_hit_rate(scores, outcomes, window=4, min_samples=2)
    assert result.tolist()[1:] == [0.5, 1 / 3, 0.5, 1 / 3]
    assert np.isnan(result[0])


def test_pause_needs_the_whole_period_below_the_floor() -> None:
    cfg = ModelHealthConfig(window=5, min_samples=4, min_auc=0.55, period=3)
    quality = pd.Series([0.5, 0.5, np.nan, 0.5, 0.5, 0.5, 0.6, 0.5])
    hits = pd.Series([0.9] * 8)
    assert pause_signal(quality, hits, cfg).tolist() == [0, 0, 0, 0, 0, 1, 0, 0]
    with_hits = ModelHealthConfig(window=5, min_samples=4, min_auc=0.0, min_hit_rate=0.95, period=2)
    assert pause_signal(quality, hits, with_hits).tolist() == [0, 1, 1, 1, 1, 1, 1, 1]


def test_health_frame_uses_only_matured_trusted_predictions() -> None:
    # Perfect model on trusted rows; the untrusted first rows would ruin it if they were used.
    n, horizon = 30, 3
    truth = pd.Series([i % 3 == 0 for i in range(n)], dtype="boolean")
    prob = pd.Series(np.where(truth.astype(bool), 0.8, 0.3))
    prob[:4] = 1 - prob[:4]  # in-sample history, not trusted
    trusted = pd.Series([False] * 4 + [True] * (n - 4))
    cfg = ModelHealthConfig(window=6, min_samples=6, min_auc=0.6, period=2)
    frame = model_health_frame(
        pd.DataFrame({"m": prob}), {"m": truth}, trusted, horizon, {"m": 0.4}, cfg
    )
    # Row t uses rows t-8..t-3: the first full window of trusted rows 4..9 is at t=12.
    assert frame["health_auc_m"][:12].isna().all()
    assert (frame["health_auc_m"][12:] == 1.0).all()
    assert (frame["health_hit_m"][12:] == 1.0).all()
    # Drift and confidence need no label: rows 4..9 are the first full window (t=9).
    assert frame["health_confidence_m"][:9].isna().all()
    assert frame["health_confidence_m"][9] == pytest.approx((2 * 0.3 + 4 * 0.2) / 6)
    assert frame["health_drift_m"][9] == pytest.approx((2 * 0.4 + 4 * -0.1) / 6)
    assert (frame["health_pause"] == 0).all()
    # The same rule with the labels flipped: AUC 0 from t=12, paused from t=13 on.
    flipped = model_health_frame(
        pd.DataFrame({"m": prob}), {"m": ~truth}, trusted, horizon, {}, cfg
    )
    assert (flipped["health_auc"][12:] == 0.0).all()
    assert flipped["health_pause"].tolist() == [0] * 13 + [1] * (n - 13)
    assert "health_drift_m" not in flipped


def test_health_frame_reads_no_future_candle() -> None:
    rng = np.random.default_rng(5)
    n = 60
    prob = pd.Series(rng.random(n))
    truth = pd.Series(rng.random(n) < 0.5, dtype="boolean")
    trusted = pd.Series([True] * n)
    cfg = ModelHealthConfig(window=10, min_samples=6, min_auc=0.5, period=3)
    full = model_health_frame(pd.DataFrame({"m": prob}), {"m": truth}, trusted, 4, {"m": 0.5}, cfg)
    cut = 41
    part = model_health_frame(
        pd.DataFrame({"m": prob[:cut]}), {"m": truth[:cut]}, trusted[:cut], 4, {"m": 0.5}, cfg
    )
    pd.testing.assert_frame_equal(full.iloc[:cut], part)


def health_setup(horizon: int | None = 2) -> ITBSetup:
    label_config: dict = {
        "columns": ["close", "high", "low"],
        "function": "high",
        "thresholds": [1.0],
        "tolerance": 0.2,
        "names": ["up"],
    }
    if horizon is not None:
        label_config["horizon"] = horizon
    section = {
        "feature_sets": [
            {
                "generator": "talib",
                "config": {"columns": ["close"], "functions": ["SMA"], "windows": [2]},
            }
        ],
        "label_sets": [{"generator": "highlow2", "config": label_config}],
        "algorithms": [{"name": "lc", "algo": "lc"}],
        "signal_sets": [
            {
                "generator": "threshold_rule",
                "config": {
                    "columns": "up_lc",
                    "names": ["buy", "sell"],
                    "parameters": {"buy_signal_threshold": 0.6, "sell_signal_threshold": 0.4},
                },
            }
        ],
    }
    return ITBSetup.from_freqtrade_config({"itb": section})


def test_candle_health_labels_each_model_from_the_candles() -> None:
    setup = health_setup()
    # A zigzag: some candles are followed by a 1 % rise within 2 candles, some are not.
    close = pd.Series([100.0, 102.0, 100.0, 98.0] * 5)
    candles = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0}
    )
    labels = setup.label_frame(candles)["up"]
    candles["up_lc"] = labels.astype("float64").fillna(0.5) * 0.8 + 0.1  # a perfect model
    candles["up_lc_mean"] = 0.4
    candles["do_predict"] = 1
    cfg = ModelHealthConfig(window=6, min_samples=4, min_auc=0.5, period=1)
    health = candle_health(setup, candles, cfg)
    truth = labels.astype("float64").shift(2)
    scores = candles["up_lc"].shift(2)
    for row in range(len(candles)):
        window = slice(max(0, row - 5), row + 1)
        known = truth[window].notna() & scores[window].notna()
        if known.sum() >= 4 and truth[window][known].nunique() == 2:
            expected = roc_auc_score(truth[window][known] > 0.5, scores[window][known])
            assert health["health_auc_up_lc"][row] == pytest.approx(expected)
        else:
            assert np.isnan(health["health_auc_up_lc"][row])
    assert health["health_auc_up_lc"].notna().any()
    assert health["health_drift_up_lc"].iloc[-1] == pytest.approx(
        (candles["up_lc"].iloc[-6:] - 0.4).mean()
    )
    # No model yet (no probability column): every figure missing, nothing paused.
    bare = candle_health(setup, candles.drop(columns=["up_lc", "up_lc_mean"]), cfg)
    assert bare["health_auc"].isna().all() and (bare["health_pause"] == 0).all()


def test_candle_health_needs_labels_that_mature() -> None:
    # topbot2 without a horizon looks arbitrarily far ahead: its labels never mature.
    section = {
        "feature_sets": [
            {
                "generator": "talib",
                "config": {"columns": ["close"], "functions": ["SMA"], "windows": [2]},
            }
        ],
        "label_sets": [
            {
                "generator": "topbot2",
                "config": {
                    "columns": "close",
                    "function": "top",
                    "level": 0.02,
                    "tolerances": [0.1],
                    "names": ["top"],
                },
            }
        ],
        "algorithms": [{"name": "lc", "algo": "lc"}],
        "signal_sets": [
            {
                "generator": "threshold_rule",
                "config": {
                    "columns": "top_lc",
                    "names": ["buy", "sell"],
                    "parameters": {"buy_signal_threshold": 0.6, "sell_signal_threshold": 0.4},
                },
            }
        ],
    }
    unbounded = ITBSetup.from_freqtrade_config({"itb": section})
    with pytest.raises(ConfigError, match=r"itb\.risk\.model_health: a label without horizon"):
        candle_health(unbounded, pd.DataFrame(), ModelHealthConfig())
