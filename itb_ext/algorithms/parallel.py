"""Running fits one after another, on local workers, or on Dask.

The estimators are built (and seeded) before they are sent anywhere, and each fit depends only
on its estimator and its rows, so the fitted models are the same wherever they ran. joblib
carries the work: ``local`` uses its process pool, ``dask`` its Dask backend, whose client is
imported only then (a bot without ``itb.compute.backend: "dask"`` never imports Dask).

:func:`fit_estimators` fits the models of one training window; :func:`run_tasks` runs any
picklable function over a list of tasks the same way (the walk-forward task pool of
:mod:`itb_ext.algorithms.pool` sends every fit of a backtest through it at once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from itb_ext.config.compute import ComputeConfig
from itb_ext.errors import ConfigError, ITBError

#: Seconds to wait for the Dask scheduler to answer, and for a first worker to join.
DASK_CONNECT_SECONDS = 30

Task = TypeVar("Task")
Result = TypeVar("Result")


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
    return run_tasks(_fit, tasks, compute)


def run_tasks(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    compute: ComputeConfig | None = None,
    *,
    one_per_batch: bool = False,
) -> list[Result]:
    """``function`` over every task, as ``compute`` says; results in the order of ``tasks``.

    :param function: a module-level (picklable) function of one task.
    :param tasks: its arguments.
    :param compute: the ``itb.compute`` section (None: one after another in this process).
    :param one_per_batch: send each task on its own rather than in batches joblib sizes by
        itself: tasks of very different lengths then spread evenly over the workers.
    :raises ITBError: Dask is not installed, or its scheduler does not answer.
    """
    if compute is None or not compute.parallel or (len(tasks) <= 1 and compute.backend == "local"):
        return [function(task) for task in tasks]
    from joblib import Parallel, delayed

    batch: int | str = 1 if one_per_batch else "auto"
    if compute.backend == "dask":
        return _run_on_dask(function, tasks, compute, batch)
    parallel = Parallel(n_jobs=compute.n_jobs, backend="loky", batch_size=batch)
    return list(parallel(delayed(function)(task) for task in tasks))


def _run_on_dask(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    compute: ComputeConfig,
    batch: int | str,
) -> list[Result]:
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
            parallel = Parallel(n_jobs=jobs, batch_size=batch)
            return list(parallel(delayed(function)(task) for task in tasks))
    finally:
        client.close()
