"""The ``itb`` section arranged for FreqAI: features, targets, signals with overrides."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.errors import ConfigError
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.charts import plot_config
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())


def setup_from(section: dict) -> ITBSetup:
    return ITBSetup.from_freqtrade_config({"itb": section})


@pytest.fixture(scope="module")
def sample() -> ITBSetup:
    return setup_from(SAMPLE["itb"])


def candles(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": np.ones(n),
        }
    )


def test_sample_section_names_features_labels_and_scores(sample: ITBSetup) -> None:
    assert len(sample.train_features) == 16
    assert sample.labels == ("high_30", "low_30")
    assert sample.score_columns == [
        "high_30_svc",
        "high_30_lc",
        "high_30_gb",
        "low_30_svc",
        "low_30_lc",
        "low_30_gb",
    ]
    assert sample.startup_candles() == 168
    assert sample.label_horizon() == 24
    assert sample.trade_score_column == "trade_score"


def test_features_are_freqai_percent_columns(sample: ITBSetup) -> None:
    frame = sample.feature_frame(candles())
    assert list(frame.columns)[:3] == ["%-close_SMA_1", "%-close_SMA_3", "%-close_SMA_6"]
    assert frame.shape[1] == 16
    assert frame["%-close_SMA_3"].iloc[10] == pytest.approx(candles()["close"].iloc[8:11].mean())


def test_targets_use_per_label_classes_and_leave_the_unknown_tail_missing(
    sample: ITBSetup,
) -> None:
    targets = sample.target_frame(candles())
    assert list(targets.columns) == ["&-high_30", "&-low_30"]
    assert set(targets["&-high_30"].dropna()) <= {"high_30:yes", "high_30:no"}
    assert targets.iloc[-24:].isna().all().all()
    assert targets.iloc[:-24].notna().all().all()


def test_label_tail_is_unknown_even_for_generators_that_report_false() -> None:
    section = copy.deepcopy(SAMPLE["itb"])
    section["label_sets"] = [
        {"generator": "highlow", "feature_prefix": "hl", "config": {"horizon": 12}}
    ]
    section["labels"] = ["hl_high_10", "hl_low_10"]
    section["signal_sets"] = [
        {
            "generator": "combine",
            "config": {
                "columns": ["hl_high_10_lc", "hl_low_10_lc"],
                "names": "trade_score",
                "combine": "difference",
            },
        },
        {
            "generator": "threshold_rule",
            "config": {
                "columns": "trade_score",
                "names": ["b", "s"],
                "parameters": {"buy_signal_threshold": 0.1, "sell_signal_threshold": -0.1},
            },
        },
    ]
    section["algorithms"] = [{"name": "lc", "algo": "lc"}]
    labels = setup_from(section).label_frame(candles(100))
    assert labels.iloc[-12:].isna().all().all()
    assert labels.iloc[:-12].notna().all().all()


def scores(n: int = 8) -> pd.DataFrame:
    up = np.array([0.5, 0.75, 0.25, 0.5, 0.625, 0.5, 0.25, 0.75])[:n]
    down = np.array([0.5, 0.25, 0.5, 0.375, 0.25, 0.75, 0.5, 0.25])[:n]
    cols = {}
    for algo in ("svc", "lc", "gb"):
        cols[f"high_30_{algo}"] = up
        cols[f"low_30_{algo}"] = down
    return pd.DataFrame(cols)


def test_signal_frame_applies_threshold_overrides(sample: ITBSetup) -> None:
    out = sample.signal_frame(scores(), SignalOverrides(0.25, -0.25))
    assert out["trade_score"].tolist() == [0.0, 0.5, -0.25, 0.125, 0.375, -0.25, -0.25, 0.5]
    assert out["buy"].tolist() == [False, True, False, False, True, False, False, True]
    assert out["sell"].tolist() == [False, False, True, False, False, True, True, False]


def test_signal_frame_combine_mode_override(sample: ITBSetup) -> None:
    out = sample.signal_frame(scores(), SignalOverrides(0.25, -0.25, combine_mode="no_combine"))
    # u >= d -> u, else -d
    assert out["trade_score"].tolist() == [0.5, 0.75, -0.5, 0.5, 0.625, -0.75, -0.5, 0.75]


def test_signal_frame_smoothing_window_averages_the_combine_inputs(sample: ITBSetup) -> None:
    out = sample.signal_frame(scores(), SignalOverrides(0.25, -0.25, smoothing_window=2))
    up = pd.Series(scores()["high_30_svc"]).rolling(2, min_periods=1).mean()
    down = pd.Series(scores()["low_30_svc"]).rolling(2, min_periods=1).mean()
    np.testing.assert_allclose(out["trade_score"], up - down)


def test_default_overrides_come_from_the_config(sample: ITBSetup) -> None:
    assert sample.default_overrides() == SignalOverrides(0.08, -0.08, 1, "difference")


def test_plot_config_shows_trade_score_thresholds_and_every_probability(sample: ITBSetup) -> None:
    plot = plot_config(sample)
    assert set(plot["subplots"]["ITB score"]) == {
        "trade_score",
        "buy_threshold",
        "sell_threshold",
    }
    plotted = [c for cols in plot["subplots"].values() for c in cols]
    assert set(sample.score_columns) <= set(plotted)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("label_sets"), "itb: missing required key 'label_sets'"),
        (lambda s: s["algorithms"][0].update(algo="rf"), r"itb: algorithms\[0\].algo"),
        (
            lambda s: s["feature_sets"][0]["config"].update(functions=["NOPE"]),
            r"itb.feature_sets\[0\] \(talib\): config",
        ),
        (
            lambda s: s.update(train_features=["close_SMA_999"]),
            "itb.train_features: 'close_SMA_999' is not produced",
        ),
        (
            lambda s: s["signal_sets"][0]["config"].update(columns=["high_30_xgb"]),
            r"itb.signal_sets\[0\] \(smoothen\): input column .high_30_xgb. is neither",
        ),
        (lambda s: s.update(signal_sets=s["signal_sets"][:3]), "no threshold_rule entry"),
        (lambda s: s["algorithms"].append(dict(s["algorithms"][0])), "names must be unique"),
        (lambda s: s.update(colour="red"), "itb: unknown key 'colour'"),
    ],
)
def test_bad_itb_sections_are_rejected_naming_the_key(change, message: str) -> None:
    section = copy.deepcopy(SAMPLE["itb"])
    change(section)
    with pytest.raises(ConfigError, match=message):
        setup_from(section)


def test_missing_itb_section_is_named() -> None:
    with pytest.raises(ConfigError, match="missing 'itb' section"):
        ITBSetup.from_freqtrade_config({})
