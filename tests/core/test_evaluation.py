"""Out-of-sample evaluation helpers: model quality against labels, buy-and-hold."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from itb_ext.errors import DataError
from itb_ext.evaluation.quality import buy_and_hold, model_quality


def test_model_quality_counts_only_known_labels_and_trusted_predictions() -> None:
    dates = pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC")
    predictions = pd.DataFrame(
        {
            "date": dates,
            "do_predict": [1, 1, 1, 1, 0, 1],
            "high_30_lc": [0.9, 0.2, 0.8, 0.1, 0.9, 0.5],
        }
    )
    labels = pd.DataFrame(
        {
            "date": dates,
            "high_30": pd.array([True, False, True, False, False, pd.NA], dtype="boolean"),
        }
    )
    table = model_quality(predictions, labels, ["high_30_lc"], "BTC/USD")
    row = table.iloc[0]
    assert row["candles"] == 4  # row 4 untrusted, row 5 unknown
    assert row["positive_%"] == 50.0
    assert row["auc"] == 1.0  # both positives score above both negatives
    assert row["avg_precision"] == 1.0


def test_model_quality_is_nan_when_a_class_is_missing() -> None:
    dates = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    predictions = pd.DataFrame({"date": dates, "do_predict": [1, 1], "low_30_gb": [0.1, 0.2]})
    labels = pd.DataFrame({"date": dates, "low_30": pd.array([False, False], dtype="boolean")})
    row = model_quality(predictions, labels, ["low_30_gb"], "ETH/USD").iloc[0]
    assert math.isnan(row["auc"]) and math.isnan(row["avg_precision"])


def test_buy_and_hold_uses_first_and_last_close_inside_the_period() -> None:
    candles = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=5, freq="1D", tz="UTC"),
            "close": [90.0, 100.0, 130.0, 125.0, 70.0],
        }
    )
    period = (pd.Timestamp("2024-01-02", tz="UTC"), pd.Timestamp("2024-01-05", tz="UTC"))
    result = buy_and_hold(candles, period, "BTC/USD")
    assert result["first_close"] == 100.0 and result["last_close"] == 125.0
    assert result["buy_and_hold_%"] == pytest.approx(25.0)
    with pytest.raises(DataError, match="no candles"):
        buy_and_hold(
            candles,
            (period[1] + pd.Timedelta(days=9), period[1] + pd.Timedelta(days=10)),
            "BTC/USD",
        )
