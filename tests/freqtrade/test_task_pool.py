"""A FreqTrade walk-forward backtest whose windows are trained as one pool of tasks (local workers
or a Dask cluster) predicts, bit for bit, and trades as the same backtest trained by FreqAI's own
window-by-window loop; a rerun fits only the models whose training rows changed.

Fits are counted where they happen, independently of the pool's own bookkeeping: a
``sitecustomize`` module on the child processes' path (FreqTrade's and every worker's) appends a
line to a file each time an estimator is built for a fit.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from itb_ext.evaluation.stored import read_backtest_stats, read_window_predictions
from tests.freqtrade.conftest import CANDLES, USER_DATA, make_userdir, run_offline, write_config

pytestmark = [pytest.mark.usefixtures("freqtrade_installed")]

PAIRS = ("BTC/USD", "ETH/USD")
#: three 7-day windows, each trained on the 30 days before it
TIMERANGE = "20190101-20190122"
WINDOWS = 3
#: the last window's training reaches into the week before it; no other window trains on it
LAST_WINDOW_ONLY = ("2019-01-08", "2019-01-15")
IDENTIFIER = "itb-pool"
TRADE_FIELDS = ("pair", "open_date", "close_date", "open_rate", "close_rate", "profit_abs")

COUNTER = """
import os

if os.environ.get("ITB_FIT_LOG"):
    from itb_ext.algorithms import training

    _build = training.build_estimator

    def _counted(cfg, n_features, n_rows, seed):
        with open(os.environ["ITB_FIT_LOG"], "a") as log:
            log.write(cfg.name + "\\n")
        return _build(cfg, n_features, n_rows, seed)

    training.build_estimator = _counted
"""


@dataclass
class Backtest:
    userdir: Path
    log: str
    fits: int
    predictions: dict[str, pd.DataFrame]
    trades: list[tuple[object, ...]]

    def manifest(self, pair: str) -> dict:
        name = f"itb_pool_{pair.replace('/', '_')}.json"
        folder = self.userdir / "models" / IDENTIFIER / "backtesting_predictions"
        return json.loads((folder / name).read_text())


@pytest.fixture(scope="module")
def counting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("counting")
    (folder / "sitecustomize.py").write_text(textwrap.dedent(COUNTER))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", f"{folder}:{Path(__file__).resolve().parents[2]}")
        yield folder


def candles(folder: Path, moved: tuple[str, str] | None = None) -> Path:
    """The pairs' 1h candles; ``moved``: BTC/USD's prices 1 % higher in that period."""
    folder.mkdir(parents=True, exist_ok=True)
    for pair in PAIRS:
        name = pair.replace("/", "_") + "-1h.feather"
        frame = pd.read_feather(CANDLES / name)
        if moved and pair == "BTC/USD":
            inside = (frame["date"] >= moved[0]) & (frame["date"] < moved[1])
            frame.loc[inside, ["open", "high", "low", "close"]] *= 1.01
        frame.to_feather(folder / name)
    return folder


def fit_log(folder: Path) -> Path:
    """The file where the fits of the backtest run in ``folder`` are counted."""
    return folder / "fits.log"


def backtest(
    folder: Path, datadir: Path, compute: dict, counting: Path, userdir: Path | None = None
) -> Backtest:
    itb = json.loads((USER_DATA / "itb-sample-1h.json").read_text())["itb"]
    userdir = userdir or make_userdir(folder)
    config = write_config(
        folder,
        exchange={"pair_whitelist": list(PAIRS)},
        max_open_trades=2,
        freqai={"identifier": IDENTIFIER, "train_period_days": 30, "backtest_period_days": 7},
        itb={**itb, "compute": compute},
    )
    fits = fit_log(folder)
    fits.unlink(missing_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ITB_FIT_LOG", str(fits))
        run = run_offline(
            "backtesting", config, userdir, "--timerange", TIMERANGE, "--datadir", str(datadir)
        )
    assert run.returncode == 0, run.output[-3000:]
    for pair in PAIRS:
        assert run.log.count(f"Done training {pair}") == WINDOWS
    assert "not fitted by the task pool" not in run.log
    stats = read_backtest_stats(userdir / "backtest_results")["strategy"]["ITBStrategy"]
    models = userdir / "models" / IDENTIFIER
    return Backtest(
        userdir,
        run.log,
        len(fits.read_text().split()) if fits.exists() else 0,
        {pair: read_window_predictions(models, pair) for pair in PAIRS},
        [tuple(trade[k] for k in TRADE_FIELDS) for trade in stats["trades"]],
    )


def forget_predictions(userdir: Path) -> None:
    """Delete FreqAI's stored predictions and models (the demo config saves them), so that its
    loop trains every window again; the pool's fitted models stay."""
    models = userdir / "models" / IDENTIFIER
    for path in (models / "backtesting_predictions").glob("*.feather"):
        path.unlink()
    for folder in models.glob("sub-train-*"):
        shutil.rmtree(folder)


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory, counting: Path) -> Backtest:
    folder = tmp_path_factory.mktemp("sequential")
    return backtest(folder, candles(folder / "data"), {"pool": False}, counting)


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory, counting: Path) -> Backtest:
    folder = tmp_path_factory.mktemp("pooled")
    return backtest(folder, candles(folder / "data"), {"n_jobs": 2}, counting)


def models_per_window() -> int:
    itb = json.loads((USER_DATA / "itb-sample-1h.json").read_text())["itb"]
    return len(itb["label_sets"]) * len(itb["algorithms"])


def assert_same_backtest(one: Backtest, other: Backtest) -> None:
    for pair in PAIRS:
        pd.testing.assert_frame_equal(one.predictions[pair], other.predictions[pair],
                                      check_exact=True)  # fmt: skip
    assert one.trades == other.trades


def test_the_pool_on_local_workers_predicts_and_trades_as_freqai_loop(
    sequential: Backtest, pooled: Backtest
) -> None:
    every_model = len(PAIRS) * WINDOWS * models_per_window()
    assert sequential.fits == pooled.fits == every_model
    assert "task pool" not in sequential.log  # the reference is FreqAI's own loop
    for pair in PAIRS:
        assert f"ITB {pair}: task pool trained {WINDOWS} windows" in pooled.log
        scores = [c for c in sequential.predictions[pair] if c.startswith(("high_30_", "low_30_"))]
        assert len(scores) == models_per_window()
        assert len(sequential.predictions[pair]) >= 21 * 24
    assert len(sequential.trades) > 0
    assert_same_backtest(pooled, sequential)


def test_the_pool_on_a_dask_cluster_predicts_and_trades_as_freqai_loop(
    tmp_path: Path, sequential: Backtest, counting: Path
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ITB_FIT_LOG", str(fit_log(tmp_path)))  # the workers count their fits too
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            section = {"backend": "dask", "scheduler": cluster.scheduler_address, "n_jobs": -1}
            on_dask = backtest(tmp_path, candles(tmp_path / "data"), section, counting)
            tasks = dict(cluster.scheduler.task_prefixes)
    assert "batch_of_fit_model_1_calls" in tasks, list(tasks)  # the fits ran on the cluster
    assert on_dask.fits == len(PAIRS) * WINDOWS * models_per_window()
    assert_same_backtest(on_dask, sequential)


def test_a_rerun_fits_nothing_and_a_changed_window_only_its_models(
    tmp_path: Path, pooled: Backtest, counting: Path
) -> None:
    userdir = tmp_path / "user_data"
    shutil.copytree(pooled.userdir, userdir)
    forget_predictions(userdir)
    again = backtest(tmp_path, candles(tmp_path / "data"), {"n_jobs": 2}, counting, userdir)
    assert again.fits == 0
    assert_same_backtest(again, pooled)
    for pair in PAIRS:
        manifest = again.manifest(pair)
        assert [f["fitted"] for w in manifest["windows"] for f in w["fits"]] == [False] * (
            WINDOWS * models_per_window()
        )
        assert manifest["windows"] == [
            {
                **w,
                "fits": [
                    {**f, "fitted": False, "seconds": None, "cpu_seconds": None} for f in w["fits"]
                ],
            }
            for w in pooled.manifest(pair)["windows"]
        ]  # the same rows hash to the same keys

    forget_predictions(userdir)
    moved = candles(tmp_path / "moved", LAST_WINDOW_ONLY)
    changed = backtest(tmp_path, moved, {"n_jobs": 2}, counting, userdir)
    assert changed.fits == models_per_window()
    btc = changed.manifest("BTC/USD")["windows"]
    assert [any(f["fitted"] for f in w["fits"]) for w in btc] == [False, False, True]
    assert all(f["fitted"] for f in btc[-1]["fits"])
    before = pooled.manifest("BTC/USD")["windows"]
    assert [w["rows_hash"] for w in btc[:2]] == [w["rows_hash"] for w in before[:2]]
    assert btc[-1]["rows_hash"] != before[-1]["rows_hash"]
    first_window = pooled.predictions["BTC/USD"]["window"].min()
    unchanged = changed.predictions["BTC/USD"]["window"] == first_window
    pd.testing.assert_frame_equal(
        changed.predictions["BTC/USD"][unchanged],
        pooled.predictions["BTC/USD"][pooled.predictions["BTC/USD"]["window"] == first_window],
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        changed.predictions["ETH/USD"], pooled.predictions["ETH/USD"], check_exact=True
    )
