"""Where the models are fitted: the ``itb.compute`` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from itb_ext.config.base import FrozenModel


class ComputeConfig(FrozenModel):
    """How the (label, algorithm) models are fitted.

    :param n_jobs: models fitted at the same time (1 = one after another in this process; -1 =
        one per core). With ``backend: "dask"`` it caps the tasks sent to the cluster at once.
    :param pool: in a backtest (and hyperopt), fit every window's models of a pair as one pool
        of tasks before FreqAI's walk-forward loop replays the windows, and keep the fitted
        models by a hash of their training rows, so that a rerun fits only what changed
        (:mod:`itb_ext.algorithms.pool`). ``false``: FreqAI's loop fits each window in turn.
        Live trading always retrains on FreqAI's schedule.
    :param backend: ``local`` (worker processes on this machine, through joblib) or ``dask``
        (the workers of a Dask cluster, through joblib's Dask backend).
    :param scheduler: address of the Dask scheduler (``tcp://host:8786``); required for
        ``dask`` and only allowed there.
    """

    n_jobs: int = Field(default=1, ge=-1)
    pool: bool = True
    backend: Literal["local", "dask"] = "local"
    scheduler: str | None = Field(
        default=None, pattern=r"^(tcp|tls|inproc|ws|wss)://\S+$", validate_default=True
    )

    @field_validator("n_jobs")
    @classmethod
    def _some_work(cls, value: int) -> int:
        if value == 0:
            raise ValueError("0 fits nothing; use 1 (one after another), a worker count, or -1")
        return value

    @field_validator("scheduler")
    @classmethod
    def _scheduler_with_dask_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        backend = info.data.get("backend")
        if backend == "dask" and value is None:
            raise ValueError("backend 'dask' needs the scheduler's address (tcp://host:8786)")
        if backend == "local" and value is not None:
            raise ValueError("only used with backend 'dask'")
        return value

    @property
    def parallel(self) -> bool:
        """Whether fitting leaves this process (several workers or a cluster)."""
        return self.backend == "dask" or self.n_jobs != 1
