"""The signal stage as hyperopt tunes it: the threshold rule's levels, a smoothing window on the
combine's inputs and the combine mode, applied to the typed signal steps of a config.

Hyperopt acts on stored model predictions only, so a new value of these parameters never retrains
a model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from itb_ext.config.signals import (
    CombineConfig,
    SmoothenConfig,
    ThresholdRule2Config,
    ThresholdRuleConfig,
)
from itb_ext.errors import ConfigError
from itb_ext.pipeline.steps import GeneratorStep
from itb_ext.signals.scores import generate_smoothen

CombineMode = Literal["difference", "relative", "no_combine"]
COMBINE_MODES: tuple[CombineMode, ...] = ("difference", "relative", "no_combine")

RuleConfig = ThresholdRuleConfig | ThresholdRule2Config


@dataclass(frozen=True)
class SignalOverrides:
    """Values of the strategy's hyperoptable parameters applied to the signal stage.

    :param buy_threshold: ``threshold_rule``'s ``buy_signal_threshold``.
    :param sell_threshold: ``threshold_rule``'s ``sell_signal_threshold``.
    :param smoothing_window: rolling mean over this many candles of the combine's inputs (1 = none).
    :param combine_mode: ``combine``'s mode.
    """

    buy_threshold: float
    sell_threshold: float
    smoothing_window: int = 1
    combine_mode: CombineMode = "difference"


def rule_config(step: GeneratorStep) -> RuleConfig:
    """The typed config of a threshold rule step.

    :raises ConfigError: the step is no threshold rule.
    """
    if not isinstance(step.config, ThresholdRuleConfig | ThresholdRule2Config):
        raise ConfigError(f"{step.where}: not a threshold rule")
    return step.config


def combine_config(step: GeneratorStep) -> CombineConfig:
    """The typed config of a ``combine`` step.

    :raises ConfigError: the step is no ``combine``.
    """
    if not isinstance(step.config, CombineConfig):
        raise ConfigError(f"{step.where}: not a combine entry")
    return step.config


def smoothed_name(column: str, window: int) -> str:
    """The column holding ``column`` smoothed over ``window`` candles (``high_30_sm3``)."""
    return f"{column}_sm{window}"


def smoothing_step(column: str, window: int, where: str) -> GeneratorStep:
    """A ``smoothen`` step: the rolling mean of ``column`` over ``window`` candles.

    :param where: how messages name the step, e.g. ``smoothing_window[0] (smoothen)``.
    """
    return GeneratorStep(
        where=where,
        generator="smoothen",
        column_prefix="",
        feature_prefix="",
        config=SmoothenConfig(
            columns=(column,), names=smoothed_name(column, window), window=window
        ),
        function=generate_smoothen,
    )


def configured_parameters(rule: RuleConfig, combine: CombineConfig | None) -> SignalOverrides:
    """The signal parameters exactly as the config states them (no smoothing added).

    A combine mode hyperopt does not search (ITB's empty mode) counts as ``no_combine``, which is
    what ITB computes for it; without a combine step the mode is unused.

    :raises ConfigError: the rule lacks a threshold.
    """
    mode: CombineMode = "difference"
    if combine is not None:
        mode = next((m for m in COMBINE_MODES if m == combine.combine), "no_combine")
    params = rule.parameters
    return SignalOverrides(
        buy_threshold=_threshold(params.buy_signal_threshold, "buy_signal_threshold"),
        sell_threshold=_threshold(params.sell_signal_threshold, "sell_signal_threshold"),
        smoothing_window=1,
        combine_mode=mode,
    )


def tuned_signal_steps(
    steps: Sequence[GeneratorStep],
    rule_index: int,
    combine_index: int | None,
    overrides: SignalOverrides,
) -> tuple[GeneratorStep, ...]:
    """The signal steps with the rule's thresholds, the combine mode and smoothing replaced.

    :param steps: the signal steps as configured.
    :param rule_index: position of the threshold rule.
    :param combine_index: position of the combine producing the rule's score, or None (then only
        the thresholds apply).
    :param overrides: the values to apply.
    :return: new steps; with ``smoothing_window`` > 1 one smoothing step per combine input is
        inserted before the combine, which then reads the smoothed columns.
    """
    tuned = list(steps)
    rule = rule_config(tuned[rule_index])
    levels = rule.parameters.model_copy(
        update={
            "buy_signal_threshold": overrides.buy_threshold,
            "sell_signal_threshold": overrides.sell_threshold,
        }
    )
    tuned[rule_index] = dataclasses.replace(
        tuned[rule_index], config=rule.model_copy(update={"parameters": levels})
    )
    if combine_index is None:
        return tuple(tuned)
    combine = combine_config(tuned[combine_index])
    columns: tuple[str, ...] = combine.columns
    smoothing: list[GeneratorStep] = []
    window = overrides.smoothing_window
    if window > 1:
        smoothing = [
            smoothing_step(column, window, f"smoothing_window[{i}] (smoothen)")
            for i, column in enumerate(columns)
        ]
        columns = tuple(smoothed_name(column, window) for column in columns)
    tuned[combine_index] = dataclasses.replace(
        tuned[combine_index],
        config=combine.model_copy(update={"columns": columns, "combine": overrides.combine_mode}),
    )
    return (*tuned[:combine_index], *smoothing, *tuned[combine_index:])


def _threshold(value: float | None, key: str) -> float:
    if value is None:
        raise ConfigError(f"itb.signal_sets: threshold_rule needs parameters.{key}")
    return float(value)
