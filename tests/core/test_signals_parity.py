"""ITB parity of the signal stage on the reference fixtures (scores fed as they are)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from itb_ext.pipeline.steps import parse_section, run_steps
from tests.conftest import ITBREF_DATASETS, compare_with_itb

SCORE_INPUTS = ["lin_up", "lin_down", "rnd_up", "rnd_down", "q_up", "q_down"]


@pytest.mark.parametrize("dataset", ITBREF_DATASETS)
def test_signal_sets_match_itb_reference(dataset: str, itbref_dir: Path, tmp_path: Path) -> None:
    ref = itbref_dir / dataset
    config = json.loads((ref / "config.json").read_text())
    signals = pd.read_parquet(ref / "signals.parquet")
    frame = signals[["timestamp", "close", *SCORE_INPUTS]]
    steps = parse_section(config["signal_sets"], "signal_sets", config)
    out = run_steps(frame, steps)
    out.to_parquet(tmp_path / "signals.parquet", index=False)
    result = compare_with_itb(ref, tmp_path, "signals")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed, 0 missing" in result.stdout, result.stdout
