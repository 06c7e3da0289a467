"""Walk-forward training as one pool of tasks.

A walk-forward backtest trains one set of models per window. Fitted window by window, a cluster
can use no more workers than one window has models, and each window waits for its slowest
model. Here every (window, label, algorithm) fit of a backtest is one task: all of them go to
the ``itb.compute`` backend at once (:func:`run_pool`), and each window's models are then taken
from the pool (:func:`window_models`) when the walk-forward loop reaches the window.

A fitted model is kept under a key (:func:`fit_key`): a hash of its training rows (feature and
label bytes, column names), its algorithm entry, the seed and the code versions
(:func:`code_versions`). The same key always means the same model, so a :class:`FittedModels`
kept in a folder lets a rerun fit only the models whose rows or settings changed.

Each task fits exactly what :func:`~itb_ext.algorithms.training.train_score_models` fits for
that (label, algorithm) on the window's known rows: the models do not depend on where, or with
which other tasks, they were fitted.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import itb_ext
from itb_ext.algorithms.parallel import run_tasks
from itb_ext.algorithms.training import ScoreModel, ScoreModels, train_score_models
from itb_ext.config.compute import ComputeConfig
from itb_ext.config.models import AlgorithmConfig
from itb_ext.data.files import write_atomically
from itb_ext.errors import DataError

VERSIONED_PACKAGES = ("scikit-learn", "lightgbm")
"""Installed packages whose version is part of every model key (besides itb_ext's own)."""

MODEL_SUFFIX = ".joblib"

#: How much longer a fit of each kind takes than a logistic regression on the same rows (an
#: ordering hint for the pool only; the models do not depend on it).
ALGORITHM_WEIGHT = {
    "lc": 1.0,
    "svc_linear": 2.0,
    "gb": 3.0,
    "svc_fast": 3.0,
    "nn": 6.0,
    "svc": 10.0,
}


def code_versions() -> dict[str, str]:
    """The versions a fitted model depends on: ``itb_ext`` and :data:`VERSIONED_PACKAGES`."""
    versions = {"itb_ext": itb_ext.__version__}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


@dataclass(frozen=True)
class WindowRows:
    """The training rows of one walk-forward window, as its models learn from them.

    :param window: the window's name (FreqAI's model id: the end of its training range).
    :param features: the transformed training features.
    :param labels: one boolean column per label, same index (NaN = unknown).
    """

    window: str
    features: pd.DataFrame
    labels: pd.DataFrame


@dataclass(frozen=True)
class ModelFit:
    """One task of the pool: one (window, label, algorithm) model and the rows it learns from.

    :param key: see :func:`fit_key`.
    :param window: the window's name.
    :param algorithm: the algorithm entry.
    :param features: the window's known rows (every feature and label known).
    :param labels: this label's column on those rows.
    :param seed: random seed of the model.
    :param centred: see :class:`~itb_ext.algorithms.training.ScoreModels`.
    """

    key: str
    window: str
    algorithm: AlgorithmConfig
    features: pd.DataFrame
    labels: pd.DataFrame
    seed: int
    centred: bool = False

    @property
    def label(self) -> str:
        return str(self.labels.columns[0])


@dataclass(frozen=True)
class FitResult:
    """A task's fitted model and what fitting it cost where it ran.

    :param seconds: wall seconds of the fit on its worker.
    :param cpu_seconds: CPU seconds of the worker process during the fit.
    """

    key: str
    model: ScoreModel
    seconds: float
    cpu_seconds: float


def known_rows(features: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """Rows where every feature is finite and every label known (the rows models train on)."""
    values = features.to_numpy(dtype="float64")
    return np.isfinite(values).all(axis=1) & labels.notna().all(axis=1).to_numpy()


def rows_digest(features: pd.DataFrame, labels: pd.DataFrame) -> str:
    """SHA-256 of training rows: column names, shape and the bytes of every value.

    :param features: float features.
    :param labels: label columns without unknown values (stored as 0/1 bytes).
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps([list(map(str, features.columns)), list(map(str, labels.columns))]).encode()
    )
    values = np.ascontiguousarray(features.to_numpy(dtype="float64"))
    digest.update(str(values.shape).encode())
    digest.update(values.tobytes())
    digest.update(np.ascontiguousarray(labels.to_numpy().astype(bool), dtype=np.int8).tobytes())
    return digest.hexdigest()


def fit_key(
    rows: str, algorithm: AlgorithmConfig, seed: int, versions: Mapping[str, str], centred: bool
) -> str:
    """The key of one fitted model: what its estimator and its fit depend on.

    :param rows: :func:`rows_digest` of its training rows (one label column).
    :param algorithm: its algorithm entry (every setting, not just the name).
    :param seed: its random seed.
    :param versions: :func:`code_versions`.
    :param centred: whether the window's scores are centred on the base rate.
    """
    settings = {
        "rows": rows,
        "algorithm": algorithm.model_dump(mode="json"),
        "seed": seed,
        "versions": dict(versions),
        "centred": centred,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def window_fits(
    rows: WindowRows,
    algorithms: Sequence[AlgorithmConfig],
    seed: int,
    *,
    centred: bool = False,
    versions: Mapping[str, str] | None = None,
) -> list[ModelFit]:
    """The tasks of one window, labels in the outer loop (the order of its models).

    :raises DataError: when no training row is left (as a direct training says).
    """
    train_score_models(rows.features, rows.labels, [], seed=seed)  # its checks, no fit
    versions = code_versions() if versions is None else versions
    known = known_rows(rows.features, rows.labels)
    features = rows.features.loc[known]
    fits = []
    for label in rows.labels.columns:
        labels = rows.labels.loc[known, [label]]
        digest = rows_digest(features, labels)
        for algorithm in algorithms:
            key = fit_key(digest, algorithm, seed, versions, centred)
            fits.append(ModelFit(key, rows.window, algorithm, features, labels, seed, centred))
    return fits


def fit_model(fit: ModelFit) -> FitResult:
    """Fit one task, as :func:`train_score_models` fits that (label, algorithm).

    The fit runs on one thread (BLAS and OpenMP): the pool's parallelism is its tasks, and
    threads of their own would only compete for the same cores.
    """
    from threadpoolctl import threadpool_limits

    started, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(limits=1):
        trained = train_score_models(
            fit.features, fit.labels, [fit.algorithm], seed=fit.seed, centred=fit.centred
        )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return FitResult(fit.key, trained.models[0], seconds, cpu_seconds)


class FittedModels:
    """Fitted models by key (:func:`fit_key`), in memory and, with a folder, as files there.

    :param folder: where the models are kept between runs (None: this process only).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._models: dict[str, ScoreModel] = {}
        #: models fitted (not found) through this store
        self.fitted = 0

    def _file(self, key: str) -> Path | None:
        return self.folder / f"{key}{MODEL_SUFFIX}" if self.folder is not None else None

    def get(self, key: str) -> ScoreModel | None:
        """The model of ``key``, or None when it was never fitted (or its file is unreadable)."""
        if key in self._models:
            return self._models[key]
        path = self._file(key)
        if path is None or not path.is_file():
            return None
        import joblib

        try:
            model = joblib.load(path)
        except Exception:  # a half-written or foreign file: fit the model again
            return None
        if not isinstance(model, ScoreModel):
            return None
        self._models[key] = model
        return model

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def add(self, key: str, model: ScoreModel) -> None:
        """Keep ``model`` under ``key`` (and write its file, atomically)."""
        self._models[key] = model
        path = self._file(key)
        if path is not None:
            import joblib

            path.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            joblib.dump(model, buffer)
            write_atomically(path, buffer.getvalue())


def run_pool(
    fits: Iterable[ModelFit], store: FittedModels, compute: ComputeConfig | None = None
) -> list[FitResult]:
    """Fit every task whose key ``store`` lacks, all at once on ``compute``'s backend.

    Tasks of the same key are fitted once. The fitted models are added to ``store``.

    :return: the fits done, in the order of ``fits`` (reused models are not in it).
    """
    missing: dict[str, ModelFit] = {}
    for fit in fits:
        if fit.key not in missing and fit.key not in store:
            missing[fit.key] = fit
    # the longest tasks first, so that no worker starts a long one when the others are done
    ordered = sorted(missing.values(), key=expected_cost, reverse=True)
    results = run_tasks(fit_model, ordered, compute, one_per_batch=True)
    for result in results:
        store.add(result.key, result.model)
    store.fitted += len(results)
    by_key = {r.key: r for r in results}
    return [by_key[key] for key in missing]


def expected_cost(fit: ModelFit) -> float:
    """A rough order of a task's length: rows it trains on times its algorithm's weight."""
    params = fit.algorithm.params
    rows = len(fit.features) // max(params.every_nth_row, 1)
    if params.length:
        rows = min(rows, params.length)
    return rows * ALGORITHM_WEIGHT.get(fit.algorithm.algo, 1.0)


def window_models(
    rows: WindowRows,
    algorithms: Sequence[AlgorithmConfig],
    *,
    seed: int,
    compute: ComputeConfig | None = None,
    store: FittedModels | None = None,
    centred: bool = False,
) -> ScoreModels:
    """One window's models: those ``store`` holds, the others fitted now on ``compute``.

    The models equal those of :func:`~itb_ext.algorithms.training.train_score_models` on the
    same rows.

    :raises DataError: when no training row is left.
    """
    store = FittedModels() if store is None else store
    fits = window_fits(rows, algorithms, seed, centred=centred)
    run_pool(fits, store, compute)
    models = []
    for fit in fits:
        model = store.get(fit.key)
        if model is None:  # a file that vanished between the fit and now
            raise DataError(
                f"training: the fitted model of {fit.label} {fit.algorithm.name} "
                "could not be read back"
            )
        models.append(model)
    return ScoreModels(features=list(rows.features.columns), models=models, centred=centred)


def window_record(
    fits: Sequence[ModelFit],
    done: Mapping[str, FitResult],
    versions: Mapping[str, str],
    **window: Any,
) -> dict[str, Any]:
    """A window's entry of the manifest: seed, versions, its rows' hash and every model's key.

    :param fits: the window's tasks.
    :param done: the fits of this run by key (the other models were found fitted).
    :param versions: :func:`code_versions` the keys were made with.
    :param window: what names the window (its model id, training and backtest ranges).
    """
    features = fits[0].features if fits else pd.DataFrame()
    labels = pd.concat([f.labels for f in fits], axis=1) if fits else pd.DataFrame()
    labels = labels.loc[:, ~labels.columns.duplicated()]
    models = []
    for fit in fits:
        result = done.get(fit.key)
        models.append(
            {
                "label": fit.label,
                "algorithm": fit.algorithm.name,
                "key": fit.key,
                "fitted": result is not None,
                "seconds": round(result.seconds, 4) if result else None,
                "cpu_seconds": round(result.cpu_seconds, 4) if result else None,
            }
        )
    return {
        **window,
        "seed": fits[0].seed if fits else None,
        "versions": dict(versions),
        "rows": len(features),
        "features": len(features.columns),
        "rows_hash": rows_digest(features, labels),
        "fits": models,
    }


def write_manifest(
    path: Path,
    pair: str,
    seed: int,
    compute: ComputeConfig,
    windows: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Write (atomically) the pool's manifest of ``pair``: seed, versions, compute, windows.

    Windows of an earlier manifest at ``path`` that this run did not train are kept, so that
    the manifest describes every window stored beside it.

    :param windows: :func:`window_record` entries, each with a ``model_id``.
    """
    kept: list[dict[str, Any]] = []
    if path.is_file():
        try:
            kept = json.loads(path.read_text()).get("windows", [])
        except (OSError, ValueError, AttributeError):
            kept = []
    ids = {w["model_id"] for w in windows}
    merged = [w for w in kept if w.get("model_id") not in ids] + list(windows)
    manifest = {
        "pair": pair,
        "seed": seed,
        "versions": code_versions(),
        "compute": compute.model_dump(mode="json"),
        "windows": sorted(merged, key=lambda w: w["model_id"]),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(manifest, indent=1))
    return manifest
