"""Model health as a risk, end to end: a FreqAI model made useless on purpose (trained on
shuffled labels) runs in ``freqtrade trade`` on the replay exchange; its live rolling AUC, hit
rate and confidence drift appear as dataframe columns, match an independent computation, and
entries pause with a Telegram message once quality stays below the floor.

``ShuffledITB`` is ITBStrategy whose FreqAI targets are permuted before training (test only).
Labels: 0.5 % up/down within 3 candles (both classes frequent), ``lc`` only, 30 training days.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tests.freqtrade.itb_live_helpers import (
    MODEL_PATH,
    PAIR,
    START,
    candles,
    freqai_section,
)
from tests.support.bot import ROOT, replay_session

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

SHUFFLED = '''
import numpy as np
import pandas as pd

from ITBStrategy import ITBStrategy


class ShuffledITB(ITBStrategy):
    """ITBStrategy trained on shuffled labels: a model without skill, on purpose (tests only)."""

    def set_freqai_targets(self, dataframe, metadata, **kwargs):
        dataframe = super().set_freqai_targets(dataframe, metadata, **kwargs)
        order = np.random.default_rng(7).permutation(len(dataframe))
        for column in [c for c in dataframe.columns if c.startswith("&")]:
            dataframe[column] = dataframe[column].to_numpy()[order]
        return dataframe
'''
HORIZON, WINDOW, MIN_SAMPLES, FLOOR, PERIOD = 3, 12, 8, 0.65, 3
MODELS = ("high_05_lc", "low_05_lc")


def label(function: str, name: str) -> dict[str, Any]:
    return {
        "generator": "highlow2",
        "config": {
            "columns": ["close", "high", "low"],
            "function": function,
            "thresholds": [0.5],
            "tolerance": 0.2,
            "horizon": HORIZON,
            "names": [name],
        },
    }


def itb_section() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    raw.pop("score_notification_model", None)
    raw["label_sets"] = [label("high", "high_05"), label("low", "low_05")]
    raw["algorithms"] = [a for a in raw["algorithms"] if a["name"] == "lc"]
    raw["signal_sets"] = [
        {
            "generator": "combine",
            "config": {
                "columns": list(MODELS),
                "names": "trade_score",
                "combine": "difference",
            },
        },
        {
            "generator": "threshold_rule",
            "config": {
                "columns": "trade_score",
                "names": ["buy_signal_column", "sell_signal_column"],
                # Every trusted candle is a buy and none a sell (scores lie in [-1, 1]): only the
                # health pause can hold entries back.
                "parameters": {"buy_signal_threshold": -1.0, "sell_signal_threshold": -1.5},
            },
        },
    ]
    raw["risk"] = {
        "enabled": False,
        "kill_switch": {"enabled": False},
        "model_health": {
            "enabled": True,
            "window": WINDOW,
            "min_samples": MIN_SAMPLES,
            "min_auc": FLOOR,
            "period": PERIOD,
        },
    }
    return raw


def expected_auc(frame: pd.DataFrame, labels: pd.DataFrame, model: str, row: int) -> float:
    """The rolling AUC at ``row`` recomputed with scikit-learn from the frame's own columns."""
    label_name = model.removesuffix("_lc")
    scores = frame[model].where(frame["do_predict"] == 1).shift(HORIZON)
    truth = labels[label_name].astype("float64").shift(HORIZON)
    window = slice(row - WINDOW + 1, row + 1)
    s, t = scores.iloc[window], truth.iloc[window]
    known = s.notna() & t.notna()
    if known.sum() < MIN_SAMPLES or t[known].nunique() < 2:
        return float("nan")
    return float(roc_auc_score(t[known] > 0.5, s[known]))


def test_a_useless_model_pauses_entries_and_telegram_is_told(tmp_path: Path) -> None:
    from itb_ext.strategy.setup import ITBSetup

    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", strategies)
    (strategies / "ShuffledITB.py").write_text(SHUFFLED)
    section = itb_section()
    with replay_session(
        tmp_path,
        START,
        strategy="ShuffledITB",
        strategy_path=strategies,
        speed=900,
        startup_speed=60,
        pairs=(PAIR,),
        extra_args=("--freqaimodel-path", str(MODEL_PATH)),
        config_overrides={
            "max_open_trades": 1,
            "freqaimodel": "ITBClassifier",
            "freqai": {**freqai_section(), "identifier": "itb-health-test"},
            "itb": section,
        },
    ) as session:
        bot, telegram = session.bot, session.telegram
        assert telegram is not None
        bot.wait_for_log(r"Done training BTC/USDT", 120)
        started = time.monotonic()
        message = telegram.wait_for_message(r"live model quality below the floor", 180)
        print(f"paused after {time.monotonic() - started:.0f}s: {message.text}")
        frame = candles(session, limit=400)
        plot = bot.api("/api/v1/plot_config")
        trades = bot.trades()

    # The figures are columns of the analysed dataframe, and plot_config draws them.
    per_model = [
        f"health_{kind}_{m}" for m in MODELS for kind in ("auc", "hit", "drift", "confidence")
    ]
    assert set(per_model) <= set(frame.columns)
    assert {"health_auc_high_05_lc", "health_auc"} <= set(plot["subplots"]["model health"])
    assert "health_pause" in plot["subplots"]["health pause"]

    # The AUC columns equal scikit-learn's on the matured, trusted predictions of the frame.
    setup = ITBSetup.from_freqtrade_config({"itb": section})
    labels = setup.label_frame(frame.reset_index(drop=True))
    flat = frame.reset_index(drop=True)
    checked = 0
    for model in MODELS:
        for row in range(WINDOW, len(flat)):
            expected = expected_auc(flat, labels, model, row)
            got = flat.loc[row, f"health_auc_{model}"]
            if np.isnan(expected):
                assert np.isnan(got)
            else:
                assert got == pytest.approx(expected), (model, row)
                checked += 1
    assert checked >= 2 * PERIOD  # at least the candles of the pause, for both models
    # Drift: the rolling mean of (probability - its training mean, FreqAI's <model>_mean).
    model = MODELS[0]
    live = flat[model].where(flat["do_predict"] == 1)
    drift = (live - flat[f"{model}_mean"]).rolling(WINDOW, min_periods=MIN_SAMPLES).mean()
    assert flat[f"{model}_mean"].iloc[-1] != 0  # the training mean is really recorded
    np.testing.assert_allclose(flat[f"health_drift_{model}"], drift, equal_nan=True)

    # The pause is exactly "mean AUC below the floor on each of the last PERIOD candles".
    below = (flat["health_auc"] < FLOOR).astype(int)
    pause = (below.rolling(PERIOD).sum() >= PERIOD).astype(int)
    assert (flat["health_pause"] == pause).all()
    assert flat["health_pause"].iloc[-1] == 1 or flat["health_pause"].iloc[-2] == 1
    numbers = re.search(r"AUC (\d\.\d\d)", message.text)
    assert numbers is not None and float(numbers[1]) < FLOOR

    # Entries: every trusted candle is a buy signal, except those the pause holds back.
    trusted = flat["do_predict"] == 1
    paused = flat["health_pause"] == 1
    assert (flat.loc[trusted & ~paused, "enter_long"] == 1).all()
    assert (flat.loc[paused, "enter_long"].fillna(0) == 0).all()
    assert paused.sum() >= 1
    for trade in trades:
        signal = pd.Timestamp(trade["open_date"]).tz_localize("UTC").floor("1h") - pd.Timedelta(
            hours=1
        )
        assert frame.loc[signal, "health_pause"] == 0
    print(
        f"health: {int(paused.sum())} paused candles, last AUC {flat['health_auc'].iloc[-1]:.2f}, "
        f"{len(trades)} trades"
    )
