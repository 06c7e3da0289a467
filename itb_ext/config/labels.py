"""Configuration of ITB's label generators: legacy ``highlow``, ``highlow2`` and ``topbot2``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from itb_ext.config.base import FrozenModel, one_or_many

Number = int | float

#: Thresholds (percent) of the legacy ``highlow`` labels; ITB hard-codes them.
HIGHLOW_RISE_THRESHOLDS: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0)
HIGHLOW_CALM_THRESHOLDS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5)


def _one_name_each(names: tuple[str, ...], values: tuple[float, ...], what: str) -> None:
    """One output name per threshold (tolerance), in the same order."""
    if len(names) != len(values):
        raise ValueError(
            f"'names' has {len(names)} entries but '{what}s' has {len(values)}: one name per {what}"
        )


def _threshold_suffix(threshold: float) -> str:
    """ITB's name suffix of a legacy threshold: 1.5 -> ``15``, 0.1 -> ``01``, 3.0 -> ``30``."""
    return f"{round(threshold * 10):02d}"


def _check_unique(names: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate output name '{name}'")
        seen.add(name)


class HighlowConfig(FrozenModel):
    """Legacy ``highlow``: future maximum high / minimum low and 20 fixed-threshold labels.

    Reads ``close``, ``high`` and ``low`` (fixed names, as in ITB).

    :param horizon: H, the number of future bars ``t+1 .. t+H`` looked at.
    """

    horizon_bars: int = Field(alias="horizon", ge=1)

    def input_columns(self) -> tuple[str, ...]:
        return ("close", "high", "low")

    def output_columns(self) -> tuple[str, ...]:
        h = self.horizon_bars
        return (
            f"high_max_{h}",
            *(f"high_{_threshold_suffix(t)}" for t in HIGHLOW_RISE_THRESHOLDS),
            *(f"high_{_threshold_suffix(t)}" for t in HIGHLOW_CALM_THRESHOLDS),
            f"low_min_{h}",
            *(f"low_{_threshold_suffix(t)}" for t in HIGHLOW_CALM_THRESHOLDS),
            *(f"low_{_threshold_suffix(t)}" for t in HIGHLOW_RISE_THRESHOLDS),
        )

    def horizon(self) -> int:
        """Future rows a label reads: H."""
        return self.horizon_bars


class Highlow2Config(FrozenModel):
    """``highlow2``: does the price reach +θ % (or -θ %) before moving the other way?

    :param columns: ``[reference, up_price, down_price]``, normally ``["close", "high", "low"]``
        (required: ITB has no default).
    :param function: ``high`` (a rise of θ % in ``up_price``) or ``low`` (a fall of θ % in
        ``down_price``).
    :param thresholds: θ in percent, one label per threshold; the sign is ignored (a single
        number is accepted). Zero is rejected (ITB has no direction for it).
    :param tolerance: the adverse move that cancels the label, as a fraction of θ
        (adverse level ``round(-θ·tolerance, 6)`` %); must be >= 0.
    :param horizon: H, the number of future bars ``t+1 .. t+H`` looked at.
    :param names: one output column per threshold.
    """

    columns: tuple[str, str, str]
    function: Literal["high", "low"]
    thresholds: tuple[Number, ...] = Field(min_length=1)
    tolerance: Number = Field(ge=0)
    horizon_bars: int = Field(alias="horizon", ge=1)
    names: tuple[str, ...] = Field(min_length=1)

    _normalise_thresholds = field_validator("thresholds", mode="before")(one_or_many)

    @model_validator(mode="after")
    def _consistent(self) -> Highlow2Config:
        _one_name_each(self.names, self.thresholds, "threshold")
        if any(t == 0 for t in self.thresholds):
            raise ValueError("thresholds must be non-zero")
        _check_unique(self.names)
        return self

    def input_columns(self) -> tuple[str, ...]:
        # A reference column may repeat (e.g. close used as all three prices): list it once.
        return tuple(dict.fromkeys(self.columns))

    def output_columns(self) -> tuple[str, ...]:
        return self.names

    def horizon(self) -> int:
        """Future rows a label reads: H."""
        return self.horizon_bars


class Topbot2Config(FrozenModel):
    """``topbot2``: plateaus around tops (or bottoms) that stand ``level`` above the dips around.

    :param columns: the price column (a string or a one-element list).
    :param function: ``top`` or ``bot``.
    :param level: L, the minimum move (fraction, e.g. 0.02) between the extremum and the
        nearest deeper dips on both sides; the sign is ignored, zero is rejected.
    :param tolerances: τ per output, as a fraction of the level: rows within ``|L|·τ`` of
        the extremum are labelled (a single number is accepted); must be >= 0.
    :param names: one output column per tolerance.
    :param horizon: extension (not in ITB). Unset: ITB's labels, which look arbitrarily far
        ahead. Set to H: row t is labelled only from rows ``<= t+H`` (see
        :func:`itb_ext.labels.topbot2.generate_topbot2`) and the last H rows are unknown.
    """

    columns: str
    function: Literal["top", "bot"]
    level: Number
    tolerances: tuple[Number, ...] = Field(min_length=1)
    names: tuple[str, ...] = Field(min_length=1)
    horizon_bars: int | None = Field(default=None, alias="horizon", ge=1)

    _normalise_tolerances = field_validator("tolerances", mode="before")(one_or_many)

    @field_validator("columns", mode="before")
    @classmethod
    def _single_column(cls, value: Any) -> Any:
        if isinstance(value, tuple | list) and len(value) == 1:
            return value[0]
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Topbot2Config:
        _one_name_each(self.names, self.tolerances, "tolerance")
        if self.level == 0:
            raise ValueError("level must be non-zero")
        if any(t < 0 for t in self.tolerances):
            raise ValueError("tolerances must be >= 0")
        _check_unique(self.names)
        return self

    def input_columns(self) -> tuple[str, ...]:
        return (self.columns,)

    def output_columns(self) -> tuple[str, ...]:
        return self.names

    def horizon(self) -> int | None:
        """Future rows a label reads: H, or None (unbounded, ITB) when ``horizon`` is unset."""
        return self.horizon_bars
