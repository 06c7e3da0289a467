"""ITB parity of the whole ``itb-ext compute`` command on the reference fixtures.

Each fixture's input candles plus its stand-in score columns are run through the ITB entries of
its ``config.json``; the output is split into features, labels and signals and compared with
ITB's own numbers by the fixtures' comparison script (corrected profile: ITB's documented
defects are allowed to differ, see the README).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ITBREF_DATASETS, compare_with_itb

SCORE_INPUTS = ["lin_up", "lin_down", "rnd_up", "rnd_down", "q_up", "q_down"]


@pytest.mark.parametrize("dataset", ITBREF_DATASETS)
def test_itb_ext_compute_matches_itb_on_reference_fixture(
    dataset: str, itbref_dir: Path, tmp_path: Path
) -> None:
    ref = itbref_dir / dataset
    candles = pd.read_parquet(ref / "input.parquet")
    scores = pd.read_parquet(ref / "signals.parquet", columns=["timestamp", *SCORE_INPUTS])
    data = candles.merge(scores, on="timestamp", how="left")
    data.to_parquet(tmp_path / "input.parquet", index=False)
    out = tmp_path / "out.parquet"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "itb_ext.cli",
            "compute",
            "--config",
            str(ref / "config.json"),
            "--data",
            str(tmp_path / "input.parquet"),
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = pd.read_parquet(out)
    config = json.loads((ref / "config.json").read_text())
    for stage in ("features", "labels", "signals"):
        expected = pd.read_parquet(ref / f"{stage}.parquet").columns
        columns = ["timestamp", *[c for c in expected if c in result.columns and c != "timestamp"]]
        result[columns].to_parquet(tmp_path / f"{stage}.parquet", index=False)
    compare = compare_with_itb(ref, tmp_path, "features,labels,signals")
    assert compare.returncode == 0, compare.stdout
    assert compare.stdout.count(" 0 failed, 0 missing") == 3, compare.stdout
    assert "RESULT: PASS" in compare.stdout
    assert config["feature_sets"]  # the fixture's own ITB entries were used
