"""The strategy's ``plot_config``: readable on FreqUI's themes, one subplot per label."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.charts import (
    DARK_BACKGROUND,
    LIGHT_BACKGROUND,
    MIN_CONTRAST,
    build_plot_config,
    contrast_ratio,
    health_plot,
    plot_config,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())


@pytest.fixture(scope="module")
def sample() -> ITBSetup:
    return ITBSetup.from_freqtrade_config(SAMPLE)


def lines(plot: dict) -> dict[str, dict[str, dict]]:
    return {"main_plot": plot["main_plot"], **plot["subplots"]}


def test_contrast_ratio_is_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    # the colour FreqUI users could not see on the dark theme
    assert contrast_ratio("#333333", DARK_BACKGROUND) < 1.5


def test_every_line_is_visible_on_both_themes(sample: ITBSetup) -> None:
    for title, columns in lines(plot_config(sample)).items():
        for column, options in columns.items():
            for background in (DARK_BACKGROUND, LIGHT_BACKGROUND):
                ratio = contrast_ratio(options["color"], background)
                assert ratio >= MIN_CONTRAST, (title, column, background, ratio)


def test_thresholds_and_models_never_share_a_colour(sample: ITBSetup) -> None:
    plot = plot_config(sample)
    score = plot["subplots"]["ITB score"]
    threshold_colours = {score["buy_threshold"]["color"], score["sell_threshold"]["color"]}
    assert len(threshold_colours) == 2
    model_colours = {
        options["color"]
        for column, options in (
            (c, o) for cols in plot["subplots"].values() for c, o in cols.items()
        )
        if column in sample.score_columns
    }
    assert not threshold_colours & model_colours
    # every line of a subplot has its own colour, which stays far from the others
    for title, columns in lines(plot).items():
        colours = [o["color"] for o in columns.values()]
        assert len(set(colours)) == len(colours), title
        for a, b in combinations(colours, 2):
            rgb = [np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for c in (a, b)]
            assert np.linalg.norm(rgb[0] - rgb[1]) > 80, (title, a, b)


def test_one_subplot_per_label_compares_its_algorithms_and_combined_score(
    sample: ITBSetup,
) -> None:
    subplots = plot_config(sample)["subplots"]
    assert list(subplots) == ["ITB score", "P(high_30)", "P(low_30)", "trusted (do_predict)"]
    assert list(subplots["P(high_30)"]) == ["high_30_svc", "high_30_lc", "high_30_gb", "high_30"]
    assert list(subplots["P(low_30)"]) == ["low_30_svc", "low_30_lc", "low_30_gb", "low_30"]
    assert list(subplots["ITB score"]) == ["trade_score", "buy_threshold", "sell_threshold"]
    # an algorithm keeps its colour in every label's subplot
    for algo in ("svc", "lc", "gb"):
        high, low = subplots["P(high_30)"], subplots["P(low_30)"]
        assert high[f"high_30_{algo}"]["color"] == low[f"low_30_{algo}"]["color"]
    assert subplots["trusted (do_predict)"]["do_predict"]["type"] == "bar"


def test_subplot_titles_do_not_collide_with_each_other_or_with_columns(sample: ITBSetup) -> None:
    subplots = plot_config(sample)["subplots"]
    titles = list(subplots)
    columns = {c for cols in subplots.values() for c in cols}
    assert len(set(titles)) == len(titles)
    assert not set(titles) & columns
    assert all(len(t) <= 24 for t in titles)


def test_combined_scores_are_what_the_rule_combined(sample: ITBSetup) -> None:
    scores = pd.DataFrame(
        {
            "high_30_svc": [0.5, 0.25, 0.75],
            "high_30_lc": [0.25, 0.25, 0.5],
            "high_30_gb": [0.75, 0.25, 1.0],
            "low_30_svc": [0.0, 0.5, 0.25],
            "low_30_lc": [0.5, 0.5, 0.25],
            "low_30_gb": [0.25, 0.5, 0.25],
        }
    )
    plain = sample.combined_scores(scores, SignalOverrides(0.1, -0.1))
    np.testing.assert_allclose(plain["high_30"], [0.5, 0.25, 0.75])
    np.testing.assert_allclose(plain["low_30"], [0.25, 0.5, 0.25])
    smoothed = sample.combined_scores(scores, SignalOverrides(0.1, -0.1, smoothing_window=2))
    np.testing.assert_allclose(smoothed["high_30"], [0.5, 0.375, 0.5])
    trade = sample.signal_frame(scores, SignalOverrides(0.1, -0.1, smoothing_window=2))
    np.testing.assert_allclose(trade["trade_score"], smoothed["high_30"] - smoothed["low_30"])


def test_further_subplots_are_added_in_one_place() -> None:
    kwargs = {
        "score_column": "trade_score",
        "labels": ["up"],
        "algorithms": ["lc"],
        "score_columns": {("up", "lc"): "up_lc"},
        "smoothed": {"mix": None},
    }
    plot = build_plot_config(
        **kwargs, extra_subplots={"model health": {"auc_30d": {"color": "#238c8c"}}}
    )
    # a score mixing several labels is drawn with trade_score
    assert "mix" in plot["subplots"]["ITB score"]
    assert list(plot["subplots"])[-2:] == ["model health", "trusted (do_predict)"]
    with pytest.raises(ValueError, match="'P\\(up\\)' already exists"):
        build_plot_config(**kwargs, extra_subplots={"P(up)": {}})


def test_model_health_subplots_are_visible_on_both_themes(sample: ITBSetup) -> None:
    for title, columns in health_plot(sample).items():
        for column, options in columns.items():
            for background in (DARK_BACKGROUND, LIGHT_BACKGROUND):
                assert contrast_ratio(options["color"], background) >= MIN_CONTRAST, (title, column)


def test_model_health_subplots_are_drawn_only_when_switched_on() -> None:
    section = json.loads(json.dumps(SAMPLE))
    assert "model health" not in plot_config(ITBSetup.from_freqtrade_config(section))["subplots"]
    section["itb"]["risk"] = {"model_health": {"enabled": True}}
    subplots = plot_config(ITBSetup.from_freqtrade_config(section))["subplots"]
    assert list(subplots)[-3:] == ["model health", "health pause", "trusted (do_predict)"]
    assert {"health_auc", "health_hit_rate", "health_auc_high_30_svc"} <= set(
        subplots["model health"]
    )
    assert subplots["health pause"] == {"health_pause": {"color": "#e83a3a", "type": "bar"}}
