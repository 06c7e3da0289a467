"""Configuration of ITB's signal generators: ``smoothen``, ``combine``, ``threshold_rule(2)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from itb_ext.config.base import FrozenModel, one_or_many

Number = int | float


class SmoothenConfig(FrozenModel):
    """``smoothen``: row mean of several score columns, optional binarisation and smoothing.

    :param columns: score columns averaged row-wise (NaN ignored); a string or a list.
    :param names: the output column.
    :param point_threshold: when truthy, the mean becomes ``mean >= point_threshold``
        (NaN -> False). As in ITB, ``0`` means "not set".
    :param window: an ``int`` W gives a rolling mean over W rows (``min_periods = W // 2``);
        a ``float`` W gives an exponential mean with span W (``adjust=False``,
        ``min_periods = W // 2``). The JSON literal decides: ``3`` is a rolling mean, ``3.0`` an
        exponential one.
    """

    columns: tuple[str, ...] = Field(min_length=1)
    names: str
    point_threshold: Number | None = None
    window: int | float | None = Field(default=None, gt=0)

    _normalise_columns = field_validator("columns", mode="before")(one_or_many)

    def input_columns(self) -> tuple[str, ...]:
        return self.columns

    def output_columns(self) -> tuple[str, ...]:
        return (self.names,)

    def lookback(self) -> int:
        if self.window is None:
            return 1
        return int(self.window) if isinstance(self.window, int) else 1


CombineMode = Literal["difference", "relative", "no_combine", ""]


class CombineConfig(FrozenModel):
    """``combine``: one signed score from an up score and a down score.

    :param columns: exactly ``[up, down]``.
    :param names: the output column (positive = buy side, negative = sell side).
    :param combine: ``difference`` (u - d), ``relative`` ((u - d) / (u + d)) or ``no_combine``
        (u if u >= d else -d); missing or empty means ``no_combine`` as in ITB.
    :param coefficient: multiplies the score when truthy.
    :param constant: is added to the score when truthy (after the coefficient).
    """

    columns: tuple[str, str]
    names: str
    combine: CombineMode | None = None
    coefficient: Number | None = None
    constant: Number | None = None

    def input_columns(self) -> tuple[str, ...]:
        return self.columns

    def output_columns(self) -> tuple[str, ...]:
        return (self.names,)

    def lookback(self) -> int:
        return 1


class ThresholdParameters(FrozenModel):
    """Thresholds of ``threshold_rule``; a missing threshold never fires (as in ITB)."""

    buy_signal_threshold: Number | None = None
    sell_signal_threshold: Number | None = None


class _RuleConfig(FrozenModel):
    """Shared shape of the threshold rules: score columns in, ``[buy, sell]`` columns out."""

    columns: tuple[str, ...]
    names: tuple[str, str]

    def input_columns(self) -> tuple[str, ...]:
        return self.columns

    def output_columns(self) -> tuple[str, ...]:
        return self.names

    def lookback(self) -> int:
        return 1


class ThresholdRuleConfig(_RuleConfig):
    """``threshold_rule``: ``buy = score >= buy_threshold``, ``sell = score <= sell_threshold``.

    :param columns: the score column, as a string or a one-element list.
    :param names: ``[buy_column, sell_column]``.
    :param parameters: the two thresholds.
    """

    columns: tuple[str]
    names: tuple[str, str]
    parameters: ThresholdParameters = ThresholdParameters()

    _normalise_columns = field_validator("columns", mode="before")(one_or_many)

    @property
    def score_column(self) -> str:
        return self.columns[0]


class ThresholdParameters2(FrozenModel):
    """Thresholds of ``threshold_rule2`` (first and second score)."""

    buy_signal_threshold: Number | None = None
    buy_signal_threshold_2: Number | None = None
    sell_signal_threshold: Number | None = None
    sell_signal_threshold_2: Number | None = None


class ThresholdRule2Config(_RuleConfig):
    """``threshold_rule2``: both scores must pass their thresholds.

    ``buy = s1 >= B1 and s2 >= B2``; ``sell = s1 <= S1 and s2 <= S2``.
    """

    columns: tuple[str, str]
    names: tuple[str, str]
    parameters: ThresholdParameters2 = ThresholdParameters2()

    @model_validator(mode="after")
    def _distinct_outputs(self) -> ThresholdRule2Config:
        if self.names[0] == self.names[1]:
            raise ValueError("buy and sell columns must have different names")
        return self


@dataclass(frozen=True)
class ThresholdRuleInfo:
    """What the grid search, the strategy and the simulation need to know about a threshold rule.

    :param name: ITB's generator name.
    :param parameters_model: the model of its ``parameters`` (the thresholds).
    :param score_inputs: how many score columns it reads.
    """

    name: str
    parameters_model: type[FrozenModel]
    score_inputs: int

    @property
    def parameter_keys(self) -> tuple[str, ...]:
        """Its threshold keys in ITB's grid order (alphabetical, as ``sklearn.ParameterGrid``)."""
        return tuple(sorted(self.parameters_model.model_fields))


#: Every threshold rule, described once.
THRESHOLD_RULES: dict[str, ThresholdRuleInfo] = {
    r.name: r
    for r in (
        ThresholdRuleInfo("threshold_rule", ThresholdParameters, score_inputs=1),
        ThresholdRuleInfo("threshold_rule2", ThresholdParameters2, score_inputs=2),
    )
}
