"""The models of a window fitted on local workers or a Dask cluster equal those fitted serially."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from itb_ext.algorithms import parallel, train_score_models
from itb_ext.config.base import validate
from itb_ext.config.compute import ComputeConfig
from itb_ext.config.models import AlgorithmConfig
from itb_ext.errors import ConfigError, ITBError
from itb_ext.strategy.setup import ITBSectionModel


def algo(name: str, kind: str, **extra: object) -> AlgorithmConfig:
    return validate(AlgorithmConfig, {"name": name, "algo": kind, **extra}, "test")


def problem(n: int = 300, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=list("abcde"))
    noise = rng.normal(scale=0.7, size=n)
    labels = pd.DataFrame({"high_30": X["a"] + noise > 0.3, "low_30": X["b"] - noise < -0.3})
    return X, labels


ALGORITHMS = [
    algo("gb", "gb", train={"num_boost_round": 30}),
    algo("lc", "lc"),
    algo("svc", "svc", params={"length": 250, "every_nth_row": 1}),
    algo("nn", "nn", train={"n_epochs": 200}),
]


def compute(**section: object) -> ComputeConfig:
    return validate(ComputeConfig, section, "itb.compute")


def test_local_workers_fit_the_same_models_as_serial_training() -> None:
    X, labels = problem()
    serial = train_score_models(X, labels, ALGORITHMS, seed=5).predict(X)
    workers = train_score_models(X, labels, ALGORITHMS, seed=5, compute=compute(n_jobs=2))
    pd.testing.assert_frame_equal(workers.predict(X), serial, check_exact=True)
    assert list(serial.columns) == [f"{lb}_{a.name}" for lb in labels for a in ALGORITHMS]


def test_a_dask_cluster_fits_the_same_models_as_local_training() -> None:
    distributed = pytest.importorskip("dask.distributed")
    X, labels = problem()
    local = train_score_models(X, labels, ALGORITHMS, seed=5).predict(X)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        section = compute(backend="dask", scheduler=cluster.scheduler_address, n_jobs=-1)
        models = train_score_models(X, labels, ALGORITHMS, seed=5, compute=section)
        tasks = dict(cluster.scheduler.task_prefixes)
    pd.testing.assert_frame_equal(models.predict(X), local, check_exact=True)
    assert "batch_of__fit_1_calls" in tasks, list(tasks)  # the fits ran on the cluster


def test_without_the_setting_nothing_about_dask_is_imported() -> None:
    script = textwrap.dedent(
        """
        import sys
        import numpy as np, pandas as pd
        from itb_ext.algorithms import train_score_models
        from itb_ext.config.base import validate
        from itb_ext.config.compute import ComputeConfig
        from itb_ext.config.models import AlgorithmConfig

        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(200, 3)), columns=list("abc"))
        y = pd.DataFrame({"high": X["a"] > 0})
        algos = [validate(AlgorithmConfig, {"name": n, "algo": n}, "t") for n in ("lc", "gb")]
        for section in ({}, {"n_jobs": 2}):
            cfg = validate(ComputeConfig, section, "itb.compute")
            train_score_models(X, y, algos, compute=cfg).predict(X)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
        print("LOADED", loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(parallel, "DASK_CONNECT_SECONDS", 1)
    X, labels = problem(n=100)
    section = compute(backend="dask", scheduler="tcp://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(ITBError, match=r"^itb.compute.scheduler: no Dask scheduler answers at "):
        train_score_models(X, labels, [algo("lc", "lc")], compute=section)
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"backend": "dask"}, "scheduler: backend 'dask' needs the scheduler's address"),
        ({"scheduler": "tcp://h:8786"}, "scheduler: only used with backend 'dask'"),
        ({"n_jobs": 0}, "n_jobs: 0 fits nothing"),
        ({"workers": 2}, "unknown key 'workers'"),
        ({"backend": "spark"}, "backend: Input should be 'local' or 'dask'"),
    ],
)
def test_compute_section_mistakes_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="^itb.compute: " + message):
        compute(**section)


def test_the_itb_section_carries_the_compute_setting() -> None:
    fields = ITBSectionModel.model_fields
    assert fields["compute"].default == ComputeConfig()
    assert not ComputeConfig().parallel and compute(n_jobs=2).parallel
