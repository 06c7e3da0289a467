"""Walk-forward study without FreqTrade: the rolling schedule and what each model may see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from itb_ext.evaluation import walk_forward_study as walkforward
from itb_ext.evaluation.walk_forward_study import (
    WalkForward,
    auc_table,
    walk_forward_predictions,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
PRESET = ROOT / "user_data" / "itb-stationary-1h.json"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_schedule_trains_before_each_predicted_month() -> None:
    windows = WalkForward(ts("2019-01-01"), ts("2019-03-01"), train_days=10, step_days=30).windows()
    assert windows == [
        (ts("2018-12-22"), ts("2019-01-01"), ts("2019-01-31")),
        (ts("2019-01-21"), ts("2019-01-31"), ts("2019-03-01")),
    ]


def lc_only_preset() -> ITBSetup:
    itb: dict[str, Any] = json.loads(PRESET.read_text())["itb"]
    itb["algorithms"] = [a for a in itb["algorithms"] if a["name"] == "lc"]
    for entry in itb["signal_sets"]:
        if entry["generator"] == "smoothen":
            entry["config"]["columns"] = [f"{entry['config']['names']}_lc"]
    return ITBSetup.from_freqtrade_config({"itb": itb})


def test_models_never_train_on_a_label_that_reads_the_predicted_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = lc_only_preset()
    candles = pd.read_feather(ROOT / "user_data" / "data" / "bitfinex" / "BTC_USD-1h.feather")
    seen: list[pd.DataFrame] = []
    train = walkforward.train_score_models

    def recording(X: pd.DataFrame, labels: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        seen.append(labels)
        return train(X, labels, *args, **kwargs)

    monkeypatch.setattr(walkforward, "train_score_models", recording)
    schedule = WalkForward(ts("2019-01-01"), ts("2019-01-03"), train_days=20, step_days=1)
    out = walk_forward_predictions(setup, candles, schedule)
    dates = pd.to_datetime(candles["date"], utc=True)
    horizon = setup.label_horizon()
    assert horizon == 24
    for labels, (_, begin, _) in zip(seen, schedule.windows(), strict=True):
        known = labels.dropna().index
        # a label at t reads t+1..t+24: the last known one must end before the window starts
        assert dates[known.max()] + pd.Timedelta(hours=horizon) < begin
        assert dates[labels.index.max()] == begin - pd.Timedelta(hours=1)
    assert len(out) == 48 and out["date"].min() == ts("2019-01-01")
    assert np.isfinite(out[["high_30_lc", "low_30_lc"]].to_numpy()).all()
    table = auc_table(out, setup.labels, setup.score_columns, "BTC/USD")
    assert table["model"].tolist() == ["high_30_lc", "low_30_lc"]
    assert table["candles"].tolist() == [48, 48]
