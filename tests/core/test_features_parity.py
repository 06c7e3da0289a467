"""Parity of the talib, itbstats and itblib generators with ITB's reference features."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.base import validate
from itb_ext.config.features import ItblibConfig, ItbstatsConfig, TalibConfig
from itb_ext.features.itblib import generate_itblib
from itb_ext.features.itbstats import generate_itbstats
from itb_ext.features.talib import generate_talib
from tests.conftest import compare_with_itb

GENERATORS: dict[str, tuple[Any, Any]] = {
    "talib": (TalibConfig, generate_talib),
    "itbstats": (ItbstatsConfig, generate_itbstats),
    "itblib": (ItblibConfig, generate_itblib),
}
DATASETS = ("synthetic_1h_3000", "bitfinex_btcusd_1h_2018")
# deliberate corrections of ITB (spec j.8): these differ from the reference by design
CORRECTED = {"close_SMA_reldiff_20", "close_SMA_first_10", "close_SMA_first_20"}


def compute_features(dataset_dir: Path) -> pd.DataFrame:
    """Every feature_sets entry in order, as ITB's features stage: prefix, then ±inf -> NaN."""
    candles = pd.read_parquet(dataset_dir / "input.parquet").drop(columns=["date"])
    config = json.loads((dataset_dir / "config.json").read_text())
    parts = []
    for i, entry in enumerate(config["feature_sets"]):
        model, generate = GENERATORS[entry["generator"]]
        cfg = validate(model, entry["config"], f"feature_sets[{i}] ({entry['generator']}): config")
        out = generate(candles, cfg)
        assert tuple(out.columns) == cfg.output_columns()
        if entry.get("feature_prefix"):
            out = out.add_prefix(f"{entry['feature_prefix']}_")
        parts.append(out)
    features = pd.concat(parts, axis=1).replace([np.inf, -np.inf], np.nan)
    features.insert(0, "timestamp", candles["timestamp"])
    return features


def compare(
    itbref_dir: Path, dataset: str, candidate: Path, profile: str
) -> subprocess.CompletedProcess[str]:
    return compare_with_itb(itbref_dir / dataset, candidate, "features", profile)


@pytest.mark.parametrize("dataset", DATASETS)
def test_features_match_itb_reference_with_corrected_profile(
    itbref_dir: Path, dataset: str, tmp_path: Path
) -> None:
    features = compute_features(itbref_dir / dataset)
    reference = pd.read_parquet(itbref_dir / dataset / "features.parquet")
    missing = set(reference.columns) - set(features.columns)
    assert not missing, f"reference columns not produced: {sorted(missing)}"
    features.to_parquet(tmp_path / "features.parquet")

    result = compare(itbref_dir, dataset, tmp_path, "corrected")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed, 0 missing" in result.stdout, result.stdout

    # the faithful profile fails exactly on the deliberate corrections
    faithful = compare(itbref_dir, dataset, tmp_path, "faithful")
    bad = {
        line.split()[1].rstrip(":")
        for line in faithful.stdout.splitlines()
        if line.strip().startswith("BAD")
    }
    assert bad == CORRECTED, faithful.stdout
