"""Connects the `simulate_model` section to the signal rule whose thresholds it searches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itb_ext.config.base import validate
from itb_ext.config.signals import ThresholdRule2Config, ThresholdRuleConfig
from itb_ext.config.simulate import SimulateModelConfig
from itb_ext.errors import ConfigError
from itb_ext.pipeline.steps import GeneratorStep, ITBPipeline

_RULE_CONFIGS = (ThresholdRuleConfig, ThresholdRule2Config)


@dataclass(frozen=True)
class SimulationInputs:
    """What the threshold search needs from a config.

    :param config: the validated ``simulate_model`` section.
    :param rule: the rule generator whose parameters are searched (``threshold_rule``/``2``).
    :param score_columns: the rule's score columns.
    :param score_steps: the signal steps before the rule, which compute those scores.
    :param price_column: the column trades are priced at.
    :param base_parameters: the rule's own thresholds, for grid keys the grid leaves out.
    """

    config: SimulateModelConfig
    rule: str
    score_columns: tuple[str, ...]
    score_steps: tuple[GeneratorStep, ...]
    price_column: str
    base_parameters: dict[str, float]


def simulation_inputs(document: Mapping[str, Any], pipeline: ITBPipeline) -> SimulationInputs:
    """Find the rule that ``simulate_model.signal_generator`` names (its first use in signal_sets).

    :raises ConfigError: when ``simulate_model`` is missing or names no rule of ``signal_sets``.
    """
    raw = document.get("simulate_model")
    if raw is None:
        raise ConfigError("config: missing 'simulate_model' section (the grid to search)")
    cfg = validate(SimulateModelConfig, raw, "simulate_model")
    for i, step in enumerate(pipeline.signal_sets):
        rule = step.config
        if step.generator == cfg.signal_generator and isinstance(rule, _RULE_CONFIGS):
            columns = step.input_columns() or ()
            return SimulationInputs(
                config=cfg,
                rule=step.generator,
                score_columns=tuple(columns),
                score_steps=pipeline.signal_sets[:i],
                price_column=cfg.price_column,
                base_parameters={
                    k: float(v) for k, v in rule.parameters.model_dump().items() if v is not None
                },
            )
    raise ConfigError(
        f"simulate_model.signal_generator: no '{cfg.signal_generator}' entry in signal_sets"
    )
