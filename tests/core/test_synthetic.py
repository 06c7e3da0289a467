"""Short bars drawn through longer candles aggregate back to those candles exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.data.synthetic import brownian_bridge_bars
from itb_ext.errors import DataError

CANDLES_30M = Path(__file__).resolve().parents[2] / "user_data/data/bitfinex/BTC_USD-30m.feather"


def aggregate(bars: pd.DataFrame, rule: str) -> pd.DataFrame:
    grouped = bars.groupby(bars["date"].dt.floor(rule))
    return pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )


@pytest.mark.parametrize("parts", [6, 30])
def test_bars_aggregate_back_to_the_real_30m_candles(parts: int) -> None:
    candles = pd.read_feather(CANDLES_30M).iloc[:3000]  # gaps included (2017 maintenance)
    bars = brownian_bridge_bars(candles, parts, seed=11)
    assert len(bars) == parts * len(candles)
    step = pd.Timedelta(minutes=30 // parts)
    assert (bars["date"].diff().dropna() >= step).all()
    back = aggregate(bars, "30min")
    original = candles.set_index("date")
    assert back.index.equals(original.index)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(back[column], original[column], err_msg=column)
    np.testing.assert_allclose(back["volume"], original["volume"], rtol=1e-12)
    assert (bars["volume"] >= 0).all()
    # proper bars: high/low contain open/close, each bar opens at the previous close
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    inside = bars["date"].dt.floor("30min").duplicated()
    np.testing.assert_array_equal(bars["open"][inside], bars["close"].shift()[inside])


def test_same_seed_same_bars_other_seed_other_path() -> None:
    candles = pd.read_feather(CANDLES_30M).iloc[:200]
    first = brownian_bridge_bars(candles, 6, seed=3)
    pd.testing.assert_frame_equal(first, brownian_bridge_bars(candles, 6, seed=3))
    assert not np.array_equal(first["close"], brownian_bridge_bars(candles, 6, seed=4)["close"])


def test_a_flat_candle_gives_flat_bars() -> None:
    dates = pd.date_range("2024-01-01", periods=2, freq="30min", tz="UTC")
    flat = pd.DataFrame(
        {"date": dates, "open": 5.0, "high": 5.0, "low": 5.0, "close": 5.0, "volume": [0.0, 6.0]}
    )
    bars = brownian_bridge_bars(flat, 3, seed=0)
    assert (bars[["open", "high", "low", "close"]] == 5.0).all(axis=None)
    assert bars["date"].tolist() == list(
        pd.date_range("2024-01-01", periods=6, freq="10min", tz="UTC")
    )


def test_a_candle_whose_range_misses_its_close_is_refused() -> None:
    dates = pd.date_range("2024-01-01", periods=2, freq="30min", tz="UTC")
    broken = pd.DataFrame(
        {
            "date": dates,
            "open": 5.0,
            "high": [6.0, 5.5],
            "low": 4.0,
            "close": [5.0, 7.0],
            "volume": 1.0,
        }
    )
    with pytest.raises(DataError, match="candle 2024-01-01 00:30:00\\+00:00: high/low do not"):
        brownian_bridge_bars(broken, 6, seed=0)
