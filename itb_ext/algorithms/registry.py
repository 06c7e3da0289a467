"""The algorithm registry: ``algo`` name -> builder, default scaling and accepted ``train`` keys.

Adding an algorithm is one builder function (see :mod:`itb_ext.algorithms.builders`) and one
line in :data:`ALGORITHMS` (or :func:`register_algorithm` from outside the package). Importing
this module installs the registry as the catalog that validates ``algorithms`` entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from itb_ext.algorithms.builders import (
    build_gb,
    build_lc,
    build_nn,
    build_svc,
    build_svc_fast,
    build_svc_linear,
    lc_train_keys,
    nn_train_keys,
    svc_fast_train_keys,
    svc_linear_train_keys,
    svc_train_keys,
)
from itb_ext.config.models import AlgorithmConfig, use_algorithm_catalog
from itb_ext.errors import ConfigError


class Builder(Protocol):
    """Makes the unfitted estimator (``fit``, ``predict_proba``) of one algorithm entry.

    A scaled algorithm's estimator is put in a scikit-learn pipeline after a ``StandardScaler``,
    so it must be a scikit-learn estimator (derive from ``BaseEstimator``).
    """

    def __call__(self, cfg: AlgorithmConfig, *, n_features: int, n_rows: int, seed: int) -> Any:
        """:param cfg: the entry; :param n_features: training features; :param n_rows: training
        rows; :param seed: random seed (same data and seed give the same model)."""
        ...


@dataclass(frozen=True)
class Algorithm:
    """One registered algorithm.

    :param name: the ``algo`` value of config entries.
    :param build: its builder.
    :param scaled: whether features are standardised when ``params.is_scale`` is not given.
    :param train_keys: the accepted ``train`` keys (called when a config is validated); None when
        the library checks its own parameters.
    """

    name: str
    build: Builder
    scaled: bool
    train_keys: Callable[[], frozenset[str]] | None = None


class AlgorithmRegistry:
    """The algorithms by name, in the order they were registered."""

    def __init__(self, algorithms: tuple[Algorithm, ...] = ()) -> None:
        self._by_name: dict[str, Algorithm] = {}
        for algorithm in algorithms:
            self.register(algorithm)

    def register(self, algorithm: Algorithm) -> Algorithm:
        """Add ``algorithm``.

        :raises ConfigError: the name is taken.
        """
        if algorithm.name in self._by_name:
            raise ConfigError(f"algorithms: '{algorithm.name}' is already registered")
        self._by_name[algorithm.name] = algorithm
        return algorithm

    def unregister(self, name: str) -> None:
        """Remove an algorithm (a no-op for unknown names)."""
        self._by_name.pop(name, None)

    def __getitem__(self, name: str) -> Algorithm:
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigError(f"algorithms: unknown algo '{name}'") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._by_name)

    def default_scaling(self, algo: str) -> bool:
        """Whether ``algo`` standardises features by default."""
        return self[algo].scaled

    def check_train_arguments(self, algo: str, train: Mapping[str, Any]) -> None:
        """Reject ``train`` keys the library would not accept, before any training starts.

        :raises ValueError: naming the first unknown key (pydantic turns it into a ConfigError).
        """
        keys = self[algo].train_keys
        if keys is None:
            return
        unknown = sorted(set(train) - keys())
        if unknown:
            raise ValueError(f"unknown train argument '{unknown[0]}' for algo '{algo}'")


#: The registered algorithms; error messages list them in this order.
ALGORITHMS = AlgorithmRegistry(
    (
        # LightGBM accepts many aliases and reports unknown parameters itself.
        Algorithm("gb", build_gb, scaled=False),
        Algorithm("lc", build_lc, scaled=True, train_keys=lc_train_keys),
        Algorithm("svc", build_svc, scaled=True, train_keys=svc_train_keys),
        Algorithm("svc_linear", build_svc_linear, scaled=True, train_keys=svc_linear_train_keys),
        Algorithm("nn", build_nn, scaled=True, train_keys=nn_train_keys),
        Algorithm("svc_fast", build_svc_fast, scaled=True, train_keys=svc_fast_train_keys),
    )
)

use_algorithm_catalog(ALGORITHMS)


def register_algorithm(algorithm: Algorithm) -> Algorithm:
    """Add an algorithm to :data:`ALGORITHMS` (e.g. from a plug-in module).

    :raises ConfigError: the name is taken.
    """
    return ALGORITHMS.register(algorithm)


def check_train_arguments(algo: str, train: Mapping[str, Any]) -> None:
    """Reject ``train`` keys ``algo`` would not accept, before any training starts.

    :raises ValueError: naming the first unknown key.
    """
    ALGORITHMS.check_train_arguments(algo, train)
