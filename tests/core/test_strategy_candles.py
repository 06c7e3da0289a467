"""The columns ITBStrategy adds and the candles its callbacks read, without FreqTrade
(``itb_ext.strategy.candles``)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.risk import RiskConfig
from itb_ext.risk.policy import RiskPolicy
from itb_ext.strategy.candles import (
    analysed,
    newest_candle,
    stop_candles,
    with_columns,
    with_features,
    with_targets,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())


def setup(**changes: object) -> ITBSetup:
    section = copy.deepcopy(SAMPLE["itb"])
    section.update(changes)
    return ITBSetup.from_freqtrade_config({"itb": section})


def candles(n: int = 200) -> pd.DataFrame:
    close = 100 + np.sin(np.arange(n) / 5)
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.ones(n),
        }
    )


def test_with_columns_replaces_columns_of_the_same_name() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    out = with_columns(frame, pd.DataFrame({"b": [5, 6], "c": [7, 8]}))
    assert out.to_dict("list") == {"a": [1, 2], "b": [5, 6], "c": [7, 8]}
    assert with_columns(frame, pd.DataFrame(index=frame.index)) is frame


def test_features_are_computed_in_exactly_one_freqai_hook() -> None:
    plain, expanded = setup(), setup(freqai_expansion=True)
    standard = with_features(plain, candles(), expandable=False)
    assert standard.shape[1] == 6 + 16
    # close_SMA_3 of candle 10: the mean of closes 8..10
    assert standard["%-close_SMA_3"].iloc[10] == pytest.approx(candles()["close"][8:11].mean())
    assert with_features(plain, candles(), expandable=True).shape[1] == 6
    assert with_features(expanded, candles(), expandable=True).shape[1] == 6 + 16
    assert with_features(expanded, candles(), expandable=False).shape[1] == 6


def test_targets_replace_earlier_targets() -> None:
    frame = candles().assign(**{"&-high_30": "stale"})
    out = with_targets(setup(), frame)
    assert list(out.columns).count("&-high_30") == 1
    assert "stale" not in set(out["&-high_30"].dropna())


def test_analysed_candles_carry_the_risk_columns_when_risk_is_on() -> None:
    on = RiskPolicy(RiskConfig.model_validate({"regime": None}))
    out = analysed(setup(), on, candles())
    assert "risk_atr" in out.columns
    # true range 2 on every candle: the ATR is 2 once its window is full
    assert out["risk_atr"].iloc[-1] == pytest.approx(2.0)
    assert "health_pause" not in out.columns  # model health is off in the sample
    off = RiskPolicy(RiskConfig(enabled=False))
    assert list(analysed(setup(), off, candles()).columns) == list(candles().columns)


def test_the_newest_candle_and_the_stop_candles() -> None:
    frame = candles(4).assign(risk_atr=[1.0, 2.0, 3.0, 4.0])
    assert newest_candle(frame)["close"] == frame["close"].iloc[-1]
    assert newest_candle(None) == {} and newest_candle(frame.iloc[:0]) == {}
    opened = datetime(2024, 1, 1, 2, 30, tzinfo=UTC)  # after the 02:00 candle opened
    newest, entry = stop_candles(frame, ("risk_atr", "risk_high_vol"), opened)
    assert newest == {"risk_atr": 4.0} and entry == {"risk_atr": 3.0}
    early = datetime(2023, 12, 31, tzinfo=UTC)
    assert stop_candles(frame, ("risk_atr",), early) == ({"risk_atr": 4.0}, None)
    assert stop_candles(None, ("risk_atr",), opened) == (None, None)
