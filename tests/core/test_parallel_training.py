"""The models of a window fitted on local workers or a Dask cluster equal those fitted serially;
so do those of a whole walk-forward fitted as one pool of tasks, kept by the hash of their rows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.algorithms import parallel, pool, train_score_models, training
from itb_ext.config.base import validate
from itb_ext.config.compute import ComputeConfig
from itb_ext.config.models import AlgorithmConfig
from itb_ext.errors import ConfigError, ITBError
from itb_ext.strategy.setup import ITBSectionModel, ITBSetup


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


# The walk-forward task pool: every (window, label, algorithm) fit of a backtest is one task.


def windows(count: int = 3, n: int = 240) -> list[pool.WindowRows]:
    """Overlapping windows of one series, with a few unknown features and labels."""
    X, labels = problem(n + 60 * count, seed=8)
    X.loc[[5, 17], "c"] = np.nan
    labels = labels.astype(object)
    labels.loc[[9, 40], "low_30"] = None
    return [
        pool.WindowRows(f"w{i}", X.iloc[60 * i : 60 * i + n], labels.iloc[60 * i : 60 * i + n])
        for i in range(count)
    ]


POOL_ALGORITHMS = [
    algo("gb", "gb", train={"num_boost_round": 20}),
    algo("lc", "lc"),
    algo("svc", "svc", params={"length": 200, "every_nth_row": 2}),
]


def test_a_window_from_the_pool_equals_its_direct_training() -> None:
    for rows in windows():
        direct = train_score_models(rows.features, rows.labels, POOL_ALGORITHMS, seed=4)
        pooled = pool.window_models(rows, POOL_ALGORITHMS, seed=4)
        assert pooled.columns == direct.columns
        assert pooled.base_rates() == direct.base_rates()
        X = rows.features.fillna(0.0)
        pd.testing.assert_frame_equal(pooled.predict(X), direct.predict(X), check_exact=True)


def test_one_pool_on_local_workers_fits_every_window_as_serial_training() -> None:
    every = windows()
    fits = [fit for rows in every for fit in pool.window_fits(rows, POOL_ALGORITHMS, seed=4)]
    store = pool.FittedModels()
    done = pool.run_pool(fits, store, compute(n_jobs=2))
    assert len(done) == len(fits) == 3 * 2 * 3  # windows x labels x algorithms, nothing shared
    assert all(r.seconds > 0 for r in done)
    for rows in every:
        serial = train_score_models(rows.features, rows.labels, POOL_ALGORITHMS, seed=4)
        from_pool = pool.window_models(rows, POOL_ALGORITHMS, seed=4, store=store)
        X = rows.features.fillna(0.0)
        pd.testing.assert_frame_equal(from_pool.predict(X), serial.predict(X), check_exact=True)
    assert store.fitted == len(fits)  # the windows were taken from the pool, none refitted


def test_one_pool_on_a_dask_cluster_fits_every_window_as_serial_training() -> None:
    distributed = pytest.importorskip("dask.distributed")
    every = windows(count=2)
    fits = [fit for rows in every for fit in pool.window_fits(rows, POOL_ALGORITHMS, seed=4)]
    store = pool.FittedModels()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        section = compute(backend="dask", scheduler=cluster.scheduler_address, n_jobs=-1)
        pool.run_pool(fits, store, section)
        tasks = dict(cluster.scheduler.task_prefixes)
    assert "batch_of_fit_model_1_calls" in tasks, list(tasks)  # one fit per cluster task
    for rows in every:
        serial = train_score_models(rows.features, rows.labels, POOL_ALGORITHMS, seed=4)
        from_pool = pool.window_models(rows, POOL_ALGORITHMS, seed=4, store=store)
        X = rows.features.fillna(0.0)
        pd.testing.assert_frame_equal(from_pool.predict(X), serial.predict(X), check_exact=True)


def count_fits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every estimator built for a fit, counted where train_score_models builds it."""
    built: list[str] = []
    original = training.build_estimator

    def counted(cfg: AlgorithmConfig, n_features: int, n_rows: int, seed: int) -> object:
        built.append(cfg.name)
        return original(cfg, n_features, n_rows, seed)

    monkeypatch.setattr(training, "build_estimator", counted)
    return built


def test_a_rerun_fits_nothing_and_a_changed_window_only_its_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = count_fits(monkeypatch)
    every = windows()

    def backtest(rows_of_windows: list[pool.WindowRows]) -> list[pd.DataFrame]:
        store = pool.FittedModels(tmp_path / "fitted")  # a new process: only the files remain
        fits = [f for rows in rows_of_windows for f in pool.window_fits(rows, POOL_ALGORITHMS, 4)]
        pool.run_pool(fits, store)
        return [
            pool.window_models(rows, POOL_ALGORITHMS, seed=4, store=store).predict(
                rows.features.fillna(0.0)
            )
            for rows in rows_of_windows
        ]

    first = backtest(every)
    assert len(built) == 18
    built.clear()
    again = backtest(every)
    assert built == []  # nothing changed: nothing fitted
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)

    moved = pool.WindowRows("w2", every[2].features * 1.01, every[2].labels)  # its candles moved
    changed = [*every[:2], moved]
    third = backtest(changed)
    assert sorted(built) == sorted([a.name for a in POOL_ALGORITHMS] * 2)  # its 2 labels x 3
    pd.testing.assert_frame_equal(third[0], first[0], check_exact=True)


def test_the_key_follows_rows_settings_seed_and_versions() -> None:
    rows = windows(count=1)[0]
    fit = pool.window_fits(rows, POOL_ALGORITHMS[:1], seed=4)[0]
    versions = pool.code_versions()
    assert set(versions) == {"itb_ext", "scikit-learn", "lightgbm"}
    digest = pool.rows_digest(fit.features, fit.labels)
    key = pool.fit_key(digest, fit.algorithm, 4, versions, False)
    assert key == fit.key
    moved = fit.features.copy()
    moved.iloc[0, 0] = np.nextafter(moved.iloc[0, 0], np.inf)  # one value, one ulp
    flipped = fit.labels.copy()
    flipped.iloc[0, 0] = not flipped.iloc[0, 0]
    others = {
        "a feature value": pool.fit_key(
            pool.rows_digest(moved, fit.labels), fit.algorithm, 4, versions, False
        ),
        "a label": pool.fit_key(
            pool.rows_digest(fit.features, flipped), fit.algorithm, 4, versions, False
        ),
        "an algorithm setting": pool.fit_key(
            digest, algo("gb", "gb", train={"num_boost_round": 21}), 4, versions, False
        ),
        "the seed": pool.fit_key(digest, fit.algorithm, 5, versions, False),
        "a version": pool.fit_key(digest, fit.algorithm, 4, {**versions, "lightgbm": "0"}, False),
    }
    assert all(other != key for other in others.values()), others
    assert len(set(others.values())) == len(others)
    # where the rows sit in the frame is not part of them
    shifted = fit.features.set_axis(fit.features.index + 1000)
    assert pool.rows_digest(shifted, fit.labels.set_axis(shifted.index)) == digest


def test_the_manifest_keeps_the_windows_of_an_earlier_run(tmp_path: Path) -> None:
    every = windows()
    versions = pool.code_versions()
    store = pool.FittedModels()
    path = tmp_path / "itb_pool_BTC_USD.json"
    records = []
    for index, rows in enumerate(every[:2]):
        fits = pool.window_fits(rows, POOL_ALGORITHMS, seed=4)
        done = {r.key: r for r in pool.run_pool(fits, store)}
        records.append(pool.window_record(fits, done, versions, model_id=index))
    pool.write_manifest(path, "BTC/USD", 4, compute(), records)
    fits = pool.window_fits(every[1], POOL_ALGORITHMS, seed=4)  # fitted already: found
    later = pool.window_record(fits, {}, versions, model_id=1)
    manifest = pool.write_manifest(path, "BTC/USD", 4, compute(), [later])
    assert json.loads(path.read_text()) == manifest
    assert [w["model_id"] for w in manifest["windows"]] == [0, 1]
    first, second = manifest["windows"]
    assert [f["fitted"] for f in first["fits"]] == [True] * 6
    assert [f["fitted"] for f in second["fits"]] == [False] * 6
    assert first["seed"] == 4 and first["versions"] == versions
    assert first["rows"] == 240 - 4 and first["features"] == 5  # rows 5, 17 and 9, 40 unknown
    assert first["rows_hash"] != second["rows_hash"]
    assert {f["key"] for f in first["fits"]}.isdisjoint(f["key"] for f in second["fits"])
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_only_backtests_and_hyperopt_train_as_one_pool() -> None:
    freqai_model = pytest.importorskip("itb_ext.adapters.freqai_model")
    from freqtrade.enums import RunMode

    section = json.loads((Path(__file__).parents[2] / "user_data/itb-sample-1h.json").read_text())
    pooled = ITBSetup.from_freqtrade_config(section)
    section["itb"]["compute"] = {"pool": False}
    unpooled = ITBSetup.from_freqtrade_config(section)
    for mode in RunMode:
        expected = mode in (RunMode.BACKTEST, RunMode.HYPEROPT)
        assert freqai_model.pool_applies({"runmode": mode}, pooled) is expected, mode
        assert not freqai_model.pool_applies({"runmode": mode}, unpooled)
    live_models = {"runmode": RunMode.BACKTEST, "freqai_backtest_live_models": True}
    assert not freqai_model.pool_applies(live_models, pooled)  # replays stored live predictions


def test_a_window_the_pool_did_not_fit_is_fitted_and_told() -> None:
    from itb_ext.strategy import classifier

    section = json.loads((Path(__file__).parents[2] / "user_data/itb-sample-1h.json").read_text())
    setup = ITBSetup.from_freqtrade_config(section)
    X, labels = problem(n=200)
    seen, unseen = pool.WindowRows("seen", X, labels), pool.WindowRows("unseen", X * 2, labels)
    store = pool.FittedModels()
    pool.run_pool(pool.window_fits(seen, setup.algorithms, setup.seed), store)
    models, missed = classifier.train_window(setup, seen, store)
    assert missed is None and store.fitted == 6  # 2 labels x 3 algorithms, fitted by the pool
    models, missed = classifier.train_window(setup, unseen, store)
    assert missed is not None and missed.startswith("window unseen was not fitted by the task pool")
    assert store.fitted == 12 and models.columns == [
        f"{label}_{a}" for label in ("high_30", "low_30") for a in ("svc", "lc", "gb")
    ]
    assert classifier.train_window(setup, unseen, None)[1] is None  # no pool: nothing to tell
