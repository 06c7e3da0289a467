"""Configuration of ITB's trainable models: the ``algorithms`` list."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from itb_ext.config.base import FrozenModel

AlgorithmKind = Literal["gb", "lc", "svc", "svc_linear", "nn"]

#: Default of ``params.is_scale`` per algorithm, as in ITB (trees need no scaling).
DEFAULT_SCALING: dict[str, bool] = {
    "gb": False,
    "lc": True,
    "svc": True,
    "svc_linear": True,
    "nn": True,
}


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
        way, much faster on long windows) or ``nn`` (multi-layer perceptron).
    :param params: ITB's training-set and scaling options.
    :param train: keyword arguments for the library (LightGBM parameters, scikit-learn
        constructor arguments, or ITB's ``learning_rate``/``bs``/``n_epochs`` for ``nn``).
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    algo: AlgorithmKind
    params: AlgorithmParams = AlgorithmParams()
    train: dict[str, Any] = Field(default_factory=dict)

    @property
    def scaled(self) -> bool:
        """Whether features are standardised before this algorithm sees them."""
        if self.params.is_scale is None:
            return DEFAULT_SCALING[self.algo]
        return self.params.is_scale

    @field_validator("train")
    @classmethod
    def _train_arguments_are_known(cls, value: dict[str, Any], info: ValidationInfo) -> Any:
        # Imported here: the check inspects scikit-learn's constructors.
        from itb_ext.algorithms import check_train_arguments

        if "algo" in info.data:
            check_train_arguments(info.data["algo"], value)
        return value
