"""Model quality rows of the report and the demo: only known labels count."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from itb_ext.evaluation.report import model_quality_rows


def test_model_quality_counts_only_known_labels() -> None:
    frame = pd.DataFrame(
        {
            "high_30": pd.array([True, False, True, False, pd.NA], dtype="boolean"),
            "high_30_lc": [0.9, 0.2, 0.8, 0.1, 0.5],
        }
    )
    (row,) = model_quality_rows(frame, {"high_30_lc": "high_30"}, "BTC/USD", "all")
    assert row["candles"] == 4  # the last label is unknown
    assert row["positive_%"] == 50.0
    assert row["auc"] == 1.0  # both positives score above both negatives
    assert row["avg_precision"] == 1.0
    # (0.1^2 + 0.2^2 + 0.2^2 + 0.1^2) / 4
    assert row["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)


def test_model_quality_is_nan_when_a_class_is_missing() -> None:
    frame = pd.DataFrame(
        {"low_30": pd.array([False, False], dtype="boolean"), "low_30_gb": [0.1, 0.2]}
    )
    (row,) = model_quality_rows(frame, {"low_30_gb": "low_30"}, "ETH/USD", "all")
    assert math.isnan(row["auc"]) and math.isnan(row["avg_precision"])
