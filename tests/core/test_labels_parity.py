"""ITB parity of the label generators on the reference fixtures (``--profile corrected``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from itb_ext.config.base import validate
from itb_ext.config.labels import Highlow2Config, HighlowConfig, Topbot2Config
from itb_ext.labels.highlow import generate_highlow
from itb_ext.labels.highlow2 import generate_highlow2
from itb_ext.labels.topbot2 import generate_topbot2
from tests.conftest import ITBREF_DATASETS, compare_with_itb

GENERATORS: dict[str, tuple[type, Callable[[pd.DataFrame, Any], pd.DataFrame]]] = {
    "highlow": (HighlowConfig, generate_highlow),
    "highlow2": (Highlow2Config, generate_highlow2),
    "topbot2": (Topbot2Config, generate_topbot2),
}


def compute_labels(ref: Path) -> pd.DataFrame:
    config = json.loads((ref / "config.json").read_text())
    candles = pd.read_parquet(ref / "input.parquet").drop(columns=["date"])
    parts = [candles[["timestamp"]]]
    for i, entry in enumerate(config["label_sets"]):
        model, generate = GENERATORS[entry["generator"]]
        cfg: Any = validate(model, entry["config"], f"label_sets[{i}]")
        out = generate(candles, cfg)
        assert list(out.columns) == list(cfg.output_columns())
        if entry.get("feature_prefix"):
            out = out.add_prefix(entry["feature_prefix"] + "_")
        parts.append(out)
    return pd.concat(parts, axis=1)


@pytest.mark.parametrize("dataset", ITBREF_DATASETS)
def test_label_sets_match_itb_reference(dataset: str, itbref_dir: Path, tmp_path: Path) -> None:
    ref = itbref_dir / dataset
    labels = compute_labels(ref)
    labels.to_parquet(tmp_path / "labels.parquet", index=False)
    result = compare_with_itb(ref, tmp_path, "labels")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "36 columns compared, 0 failed, 0 missing" in result.stdout, result.stdout


@pytest.mark.parametrize("dataset", ITBREF_DATASETS)
def test_highlow2_tail_is_unknown_where_itb_says_false(dataset: str, itbref_dir: Path) -> None:
    labels = compute_labels(itbref_dir / dataset)
    assert labels["high_30"].iloc[-24:].isna().all()
    assert labels["high_30"].iloc[:-24].notna().all()
    assert labels["top2_1"].notna().all()
