"""Configuration of the signal generators: ITB's ``smoothen``, ``combine``, ``threshold_rule(2)``
and the ``trend_gate`` extension."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from itb_ext.config.base import FrozenModel, one_or_many
from itb_ext.config.stationary import EWM_SPANS_KEPT

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
    """Thresholds of ``threshold_rule``; a missing threshold never fires (as in ITB).

    :param buy_signal_threshold: buy where the score is at or above it.
    :param sell_signal_threshold: sell where the score is at or below it.
    """

    buy_signal_threshold: Number | None = None
    sell_signal_threshold: Number | None = None


class _RuleConfig(FrozenModel):
    """Shared shape of the threshold rules: score columns in, ``[buy, sell]`` columns out.

    :param gate: optional (extension): a yes/no column such as ``trend_gate``'s. Where it is
        closed (false, 0 or missing) the rule never buys and always sells, so a closing gate
        also closes an open long. Without it the rule is exactly ITB's.
    """

    columns: tuple[str, ...]
    names: tuple[str, str]
    gate: str | None = None

    def input_columns(self) -> tuple[str, ...]:
        return self.columns if self.gate is None else (*self.columns, self.gate)

    def output_columns(self) -> tuple[str, ...]:
        return self.names

    def lookback(self) -> int:
        return 1


class ThresholdRuleConfig(_RuleConfig):
    """``threshold_rule``: ``buy = score >= buy_threshold``, ``sell = score <= sell_threshold``.

    With a ``gate``: ``buy = score >= buy_threshold and gate open``,
    ``sell = score <= sell_threshold or gate closed``.

    :param columns: the score column, as a string or a one-element list.
    :param names: ``[buy_column, sell_column]``.
    :param parameters: the two thresholds.
    :param gate: see :class:`_RuleConfig`.
    """

    columns: tuple[str]
    names: tuple[str, str]
    parameters: ThresholdParameters = ThresholdParameters()

    _normalise_columns = field_validator("columns", mode="before")(one_or_many)

    @property
    def score_column(self) -> str:
        return self.columns[0]


class ThresholdParameters2(FrozenModel):
    """Thresholds of ``threshold_rule2`` (first and second score).

    :param buy_signal_threshold: the first score's buy level (at or above).
    :param buy_signal_threshold_2: the second score's buy level (at or above).
    :param sell_signal_threshold: the first score's sell level (at or below).
    :param sell_signal_threshold_2: the second score's sell level (at or below).
    """

    buy_signal_threshold: Number | None = None
    buy_signal_threshold_2: Number | None = None
    sell_signal_threshold: Number | None = None
    sell_signal_threshold_2: Number | None = None


class ThresholdRule2Config(_RuleConfig):
    """``threshold_rule2``: both scores must pass their thresholds.

    ``buy = s1 >= B1 and s2 >= B2``; ``sell = s1 <= S1 and s2 <= S2``. With a ``gate``, ``buy``
    also needs the gate open and ``sell`` also holds wherever the gate is closed.

    :param columns: the two score columns ``[s1, s2]``.
    :param names: ``[buy_column, sell_column]``.
    :param parameters: the four thresholds.
    :param gate: see :class:`_RuleConfig`.
    """

    columns: tuple[str, str]
    names: tuple[str, str]
    parameters: ThresholdParameters2 = ThresholdParameters2()

    @model_validator(mode="after")
    def _distinct_outputs(self) -> ThresholdRule2Config:
        if self.names[0] == self.names[1]:
            raise ValueError("buy and sell columns must have different names")
        return self


_TIMEFRAME_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


def timeframe_minutes(timeframe: str) -> int:
    """Minutes in a FreqTrade timeframe: ``<n>m``, ``<n>h``, ``<n>d`` or ``<n>w`` (``1d`` -> 1440).

    :raises ValueError: anything else (months and seconds have no fixed whole-minute length).
    """
    match = re.fullmatch(r"([1-9][0-9]*)([mhdw])", timeframe)
    if match is None:
        raise ValueError(
            f"unknown timeframe '{timeframe}' (expected <n>m, <n>h, <n>d or <n>w, e.g. 4h or 1d)"
        )
    return int(match[1]) * _TIMEFRAME_UNIT_MINUTES[match[2]]


GateComparison = Literal["above_mean", "above_ema"]


class TrendGateConfig(FrozenModel):
    """``trend_gate`` (extension): long only while a higher timeframe trends up.

    :param column: the price whose higher-timeframe closes are compared (``close``).
    :param time_column: the candles' open times: UTC datetimes (FreqTrade's ``date``) or
        milliseconds since the epoch (ITB's ``timestamp``).
    :param timeframe: the higher timeframe, ``<n>m``, ``<n>h``, ``<n>d`` or ``<n>w`` (default
        ``1d``); a whole multiple of the candles' timeframe.
    :param window: N, the number of completed higher-timeframe bars (default 20, at least 2).
    :param comparison: ``above_mean`` (default): open while the last completed close is above the
        mean of the last N completed closes. ``above_ema``: above their exponential mean of span
        N, taken over the last ``4 N`` completed closes.
    :param max_volatility: optional: the gate is also closed while the annualised volatility of
        the last N completed higher-timeframe log returns exceeds this level (a fraction:
        ``1.0`` is 100 % a year). Off by default.
    :param candle_timeframe: optional: the candles' own timeframe. The gate infers it from the
        dates and does not need it; given, :meth:`lookback` counts candles exactly and a frame
        of another timeframe is refused.
    :param names: the output column (default ``trend_gate``).
    """

    column: str = "close"
    time_column: str = "date"
    timeframe: str = "1d"
    window: int = Field(default=20, ge=2)
    comparison: GateComparison = "above_mean"
    max_volatility: float | None = Field(default=None, gt=0)
    candle_timeframe: str | None = None
    names: str = "trend_gate"

    @field_validator("timeframe", "candle_timeframe")
    @classmethod
    def _known_timeframe(cls, value: str | None) -> str | None:
        if value is not None:
            timeframe_minutes(value)
        return value

    @model_validator(mode="after")
    def _candles_fit_the_bars(self) -> TrendGateConfig:
        if self.candle_timeframe is not None and self.bar_minutes % self.candle_minutes():
            raise ValueError(
                f"timeframe '{self.timeframe}' is not a whole multiple of candle_timeframe "
                f"'{self.candle_timeframe}'"
            )
        return self

    @property
    def bar_minutes(self) -> int:
        """Minutes in one higher-timeframe bar."""
        return timeframe_minutes(self.timeframe)

    def candle_minutes(self) -> int:
        """Minutes in one candle: ``candle_timeframe``, or 1 when it is not given."""
        return 1 if self.candle_timeframe is None else timeframe_minutes(self.candle_timeframe)

    def bars_needed(self) -> int:
        """Completed higher-timeframe closes one gate value reads (N, 4 N for ``above_ema``;
        N + 1 for the N returns of ``max_volatility``)."""
        closes = EWM_SPANS_KEPT * self.window if self.comparison == "above_ema" else self.window
        if self.max_volatility is not None:
            closes = max(closes, self.window + 1)
        return closes

    def input_columns(self) -> tuple[str, ...]:
        return (self.column, self.time_column)

    def output_columns(self) -> tuple[str, ...]:
        return (self.names,)

    def lookback(self) -> int:
        """Candles a value needs: ``bars_needed`` times the candles per higher-timeframe bar.

        The oldest bar read needs only its last candle and the bar in progress at most all but
        its last, so ``B`` bars of ``R`` candles each take ``B R`` rows. The candles' timeframe
        comes from ``candle_timeframe``; without it the count is for 1-minute candles, an upper
        bound for every timeframe.
        """
        return self.bars_needed() * (self.bar_minutes // self.candle_minutes())


@dataclass(frozen=True)
class ThresholdRuleInfo:
    """What the grid search, the strategy and the simulation need to know about a threshold rule.

    Every rule takes an optional ``gate`` column (not counted in ``score_inputs``): buy only
    while it is open, sell wherever it is closed.

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
