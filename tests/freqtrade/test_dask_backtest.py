"""A FreqTrade walk-forward backtest whose models are fitted on a Dask cluster predicts exactly
what the same backtest fitted locally predicts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from itb_ext.evaluation.stored import read_window_predictions
from tests.freqtrade.conftest import make_userdir, run_offline, write_config

pytestmark = pytest.mark.usefixtures("freqtrade_installed")
USER_DATA = Path(__file__).resolve().parents[2] / "user_data"
TIMERANGE = "20190101-20190201"


def backtest(folder: Path, compute: dict) -> tuple[pd.DataFrame, str]:
    itb = json.loads((USER_DATA / "itb-sample-1h.json").read_text())["itb"]
    itb["compute"] = compute
    userdir = make_userdir(folder)
    config = write_config(
        folder,
        exchange={"pair_whitelist": ["BTC/USD"]},
        max_open_trades=1,
        freqai={"identifier": "itb-dask", "train_period_days": 30, "backtest_period_days": 31},
        itb=itb,
    )
    run = run_offline("backtesting", config, userdir, "--timerange", TIMERANGE)
    assert run.returncode == 0, run.output[-3000:]
    assert run.log.count("Done training BTC/USD") == 1
    return read_window_predictions(userdir / "models" / "itb-dask", "BTC/USD"), run.log


def test_backtest_trained_on_a_dask_cluster_predicts_as_local_training(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    local, _ = backtest(tmp_path / "local", {})
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        remote, _ = backtest(
            tmp_path / "dask", {"backend": "dask", "scheduler": cluster.scheduler_address}
        )
        tasks = dict(cluster.scheduler.task_prefixes)
    assert "batch_of_fit_model_1_calls" in tasks, list(tasks)  # the pool's fits ran there
    scores = [c for c in local.columns if c.startswith(("high_30_", "low_30_"))]
    assert len(scores) == 6 and len(local) >= 30 * 24
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
