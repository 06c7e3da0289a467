"""Configuration of ITB's trainable models: the ``algorithms`` list.

Which algorithms exist, their default scaling and the ``train`` keys they accept are decided by
the algorithm registry (:mod:`itb_ext.algorithms.registry`), which installs itself here with
:func:`use_algorithm_catalog` when it is imported. This module therefore imports no model code,
and a new algorithm needs no edit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import Field, ValidationInfo, field_validator

from itb_ext.config.base import FrozenModel, one_of
from itb_ext.errors import ConfigError

#: The ``algo`` of an entry: a name of the algorithm registry (``gb``, ``lc``, ``svc``, ...).
AlgorithmKind = str


class AlgorithmCatalog(Protocol):
    """What the configuration needs to know about the available algorithms."""

    def names(self) -> tuple[str, ...]:
        """The accepted ``algo`` values, in the order error messages list them."""
        ...

    def default_scaling(self, algo: str) -> bool:
        """Whether ``algo`` standardises features when ``params.is_scale`` is not given."""
        ...

    def check_train_arguments(self, algo: str, train: Mapping[str, Any]) -> None:
        """Raise ValueError naming the first ``train`` key ``algo`` would not accept."""
        ...


_catalog: list[AlgorithmCatalog] = []


def use_algorithm_catalog(catalog: AlgorithmCatalog) -> None:
    """Install the catalog that validates ``algo`` and ``train`` (the algorithm registry).

    :param catalog: the registry; a later call replaces an earlier one.
    """
    _catalog[:] = [catalog]


def algorithm_catalog() -> AlgorithmCatalog:
    """The installed catalog.

    :raises ConfigError: when no registry was imported (``import itb_ext.algorithms``).
    """
    if not _catalog:
        raise ConfigError(
            "algorithms: no algorithm registry is loaded (import itb_ext.algorithms first)"
        )
    return _catalog[0]


class AlgorithmParams(FrozenModel):
    """ITB's ``params`` of an algorithm entry.

    :param is_scale: standardise features with statistics of the training rows (default per
        algorithm: on for lc/svc/nn, off for gb).
    :param length: keep only the most recent ``length`` training rows (0 = all).
    :param every_nth_row: keep every n-th training row, starting with the first (0 or 1 = all),
        applied before ``length``.
    :param is_regression: must be false: only classification is provided.
    :param layers: hidden layer sizes of ``nn`` (default: one layer of n_features // 4 units).
    """

    is_scale: bool | None = None
    length: int = Field(default=0, ge=0)
    every_nth_row: int = Field(default=0, ge=0)
    is_regression: bool = False
    layers: tuple[int, ...] | None = None

    @field_validator("is_regression")
    @classmethod
    def _classification_only(cls, value: bool) -> bool:
        if value:
            raise ValueError("regression models are not provided; use binary labels")
        return value

    @field_validator("layers")
    @classmethod
    def _positive_layers(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and (not value or min(value) < 1):
            raise ValueError("layers must be a non-empty list of positive unit counts")
        return value


class AlgorithmConfig(FrozenModel):
    """One entry of ITB's ``algorithms`` list.

    :param name: the name used in score columns (``<label>_<name>``).
    :param algo: ``gb`` (LightGBM), ``lc`` (logistic regression), ``svc`` (RBF support vector
        classifier with Platt-scaled probabilities), ``svc_linear`` (linear SVC, calibrated the same
        way, much faster on long windows), ``nn`` (multi-layer perceptron), or any other name
        of the algorithm registry.
    :param params: ITB's training-set and scaling options.
    :param train: keyword arguments for the library (LightGBM parameters, scikit-learn
        constructor arguments, or ITB's ``learning_rate``/``bs``/``n_epochs`` for ``nn``).
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    algo: AlgorithmKind = Field(min_length=1)
    params: AlgorithmParams = AlgorithmParams()
    train: dict[str, Any] = Field(default_factory=dict)

    @property
    def scaled(self) -> bool:
        """Whether features are standardised before this algorithm sees them."""
        if self.params.is_scale is None:
            return algorithm_catalog().default_scaling(self.algo)
        return self.params.is_scale

    @field_validator("algo")
    @classmethod
    def _algo_is_registered(cls, value: str) -> str:
        return one_of(value, algorithm_catalog().names())

    @field_validator("train")
    @classmethod
    def _train_arguments_are_known(cls, value: dict[str, Any], info: ValidationInfo) -> Any:
        if "algo" in info.data:
            algorithm_catalog().check_train_arguments(info.data["algo"], value)
        return value
