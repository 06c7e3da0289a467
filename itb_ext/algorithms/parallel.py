"""Fitting the models of one training window one after another, on local workers, or on Dask.

The estimators are built (and seeded) before they are sent anywhere, and each fit depends only
on its estimator and its rows, so the fitted models are the same wherever they ran. joblib
carries the work: ``local`` uses its process pool, ``dask`` its Dask backend, whose client is
imported only then (a bot without ``itb.compute.backend: "dask"`` never imports Dask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from itb_ext.config.compute import ComputeConfig
from itb_ext.errors import ConfigError, ITBError

#: Seconds to wait for the Dask scheduler to answer, and for a first worker to join.
DASK_CONNECT_SECONDS = 30


@dataclass(frozen=True)
class FitTask:
    """One unfitted estimator and the rows it learns from."""

    estimator: Any
    X: np.ndarray
    y: np.ndarray


def _fit(task: FitTask) -> Any:
    return task.estimator.fit(task.X, task.y)


def fit_estimators(tasks: Sequence[FitTask], compute: ComputeConfig | None = None) -> list[Any]:
    """Fit every task's estimator, as ``compute`` says; results in the order of ``tasks``.

    :param tasks: estimators with their training rows.
    :param compute: the ``itb.compute`` section (None: one after another in this process).
    :raises ITBError: Dask is not installed, or its scheduler does not answer.
    """
    if compute is None or not compute.parallel or (len(tasks) <= 1 and compute.backend == "local"):
        return [_fit(task) for task in tasks]
    from joblib import Parallel, delayed

    if compute.backend == "dask":
        return _fit_on_dask(tasks, compute)
    return list(Parallel(n_jobs=compute.n_jobs, backend="loky")(delayed(_fit)(t) for t in tasks))


def _fit_on_dask(tasks: Sequence[FitTask], compute: ComputeConfig) -> list[Any]:
    from joblib import Parallel, delayed, parallel_config

    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError(
            "itb.compute.backend: 'dask' needs Dask (pip install 'itb-freqai[dask]')"
        ) from None
    try:
        client = Client(compute.scheduler, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
    except OSError as exc:
        raise ITBError(
            f"itb.compute.scheduler: no Dask scheduler answers at {compute.scheduler} ({exc})"
        ) from None
    try:
        with (
            client.as_current(),
            parallel_config(backend="dask", wait_for_workers_timeout=DASK_CONNECT_SECONDS),
        ):
            jobs = compute.n_jobs if compute.n_jobs > 0 else None
            return list(Parallel(n_jobs=jobs)(delayed(_fit)(t) for t in tasks))
    finally:
        client.close()
