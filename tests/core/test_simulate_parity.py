"""Parity of the trade simulation with the fixtures' entry-based accounting (``correct`` blocks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.simulate import simulate_frame
from tests.conftest import compare_with_itb
from tests.core.simulate_report import performance_report

DATASETS = ("synthetic_1h_3000", "bitfinex_btcusd_1h_2018")


def _fixture(itbref_dir: Path, dataset: str) -> Path:
    folder = itbref_dir / dataset
    if not (folder / "simulate.json").exists():
        pytest.skip(f"parity fixtures missing: {folder}")
    return folder


@pytest.mark.parametrize("dataset", DATASETS)
def test_simulate_json_passes_compare_itbref(
    itbref_dir: Path, tmp_path: Path, dataset: str
) -> None:
    folder = _fixture(itbref_dir, dataset)
    config = json.loads((folder / "config.json").read_text())
    signals = pd.read_parquet(folder / "signals.parquet")
    simulations = {}
    for entry in config["reference_simulate"]:
        result = simulate_frame(
            signals,
            entry["buy_column"],
            entry["sell_column"],
            price_column=entry["price_column"],
            fee=0.0,
            fill="close",
        )
        simulations[entry["name"]] = {"correct": performance_report(result)}
    assert len(simulations) == 25
    (tmp_path / "simulate.json").write_text(json.dumps({"simulations": simulations}))
    run = compare_with_itb(folder, tmp_path, "simulate")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "25 simulations compared, 0 failed" in run.stdout


@pytest.mark.parametrize("dataset", DATASETS)
def test_events_and_trades_match_simulate_trades(itbref_dir: Path, dataset: str) -> None:
    folder = _fixture(itbref_dir, dataset)
    config = json.loads((folder / "config.json").read_text())
    signals = pd.read_parquet(folder / "signals.parquet")
    reference = pd.read_parquet(folder / "simulate_trades.parquet")
    for entry in config["reference_simulate"]:
        ref = reference[reference["simulation"] == entry["name"]].sort_values("event_no")
        result = simulate_frame(
            signals, entry["buy_column"], entry["sell_column"], price_column="close", fee=0.0
        )
        assert [e.row for e in result.events] == ref["row"].tolist(), entry["name"]
        assert [e.side for e in result.events] == ref["side"].astype(str).tolist()
        np.testing.assert_array_equal([e.price for e in result.events], ref["price"])
        # trade k closes at event k+1; the first BUY has no trade (NaN in the fixture)
        np.testing.assert_allclose(
            [t.profit for t in result.trades], ref["profit"].iloc[1:], rtol=1e-12, atol=1e-9
        )
        np.testing.assert_allclose(
            [t.profit_percent for t in result.trades],
            ref["profit_percent"].iloc[1:],
            rtol=1e-12,
            atol=1e-12,
        )
