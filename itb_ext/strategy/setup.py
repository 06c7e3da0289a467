"""ITB's pipeline arranged for FreqAI: the ``itb`` section of a FreqTrade config, features as
``%``-columns, labels as ``&``-targets, and the signal stage with hyperoptable overrides.

Nothing here imports FreqTrade: the strategy and the FreqAI model are thin shells around it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# The registry validates the ``algo`` and ``train`` keys of ``algorithms`` entries.
from itb_ext.algorithms import registry as _algorithm_registry  # noqa: F401
from itb_ext.config.base import validate
from itb_ext.config.itb import ITBSectionModel
from itb_ext.config.models import AlgorithmConfig
from itb_ext.config.signals import THRESHOLD_RULES, ThresholdRule2Config, ThresholdRuleConfig
from itb_ext.errors import ConfigError
from itb_ext.pipeline.naming import class_names, feature_column, score_column, target_column
from itb_ext.pipeline.steps import GeneratorStep, ITBPipeline, run_steps
from itb_ext.signals.rules import gate_open
from itb_ext.signals.tuning import (
    COMBINE_MODES,
    CombineMode,
    SignalOverrides,
    combine_config,
    configured_parameters,
    rule_config,
    smoothed_name,
    tuned_signal_steps,
)

# COMBINE_MODES, CombineMode, ITBSectionModel and SignalOverrides live in itb_ext.config.itb and
# itb_ext.signals.tuning; they stay importable from here.
__all__ = ["COMBINE_MODES", "CombineMode", "ITBSectionModel", "ITBSetup", "SignalOverrides"]


@dataclass(frozen=True)
class ITBSetup:
    """Everything the strategy and the model need from the ``itb`` section.

    :param pipeline: the parsed generator sections (features, labels, signals).
    :param train_features: names of the features models train on.
    :param label_names: names of the labels models are trained for.
    :param algorithms: algorithm entries.
    :param rule_index: position of the threshold rule in the signal steps.
    :param combine_index: position of the combine that produces the rule's score, or None.
    :param freqai_expansion: see :class:`ITBSectionModel`.
    :param seed: random seed of every model.
    :param raw: the validated section.
    """

    pipeline: ITBPipeline
    train_features: tuple[str, ...]
    label_names: tuple[str, ...]
    algorithms: tuple[AlgorithmConfig, ...]
    rule_index: int
    combine_index: int | None
    freqai_expansion: bool
    seed: int
    raw: ITBSectionModel

    @classmethod
    def from_freqtrade_config(cls, config: Mapping[str, Any]) -> ITBSetup:
        """Validate the ``itb`` section of a FreqTrade config.

        :raises ConfigError: naming ``itb.<key>`` and the problem.
        """
        raw = config.get("itb")
        if raw is None:
            near = next((k for k in config if isinstance(k, str) and k.lower() == "itb"), None)
            hint = f" (found '{near}': the key is lower-case 'itb')" if near else ""
            raise ConfigError(
                f"config: missing 'itb' section (ITB feature_sets, label_sets, ...){hint}"
            )
        model = validate(ITBSectionModel, raw, "itb")
        pipeline = ITBPipeline.from_config(dict(raw), "itb")
        for step in (*pipeline.feature_sets, *pipeline.label_sets):
            if step.is_custom:
                raise ConfigError(
                    f"{step.where}: custom generators cannot be used here (their columns and "
                    "window are unknown before they run)"
                )
        feature_names = [c for s in pipeline.feature_sets for c in s.output_columns() or ()]
        label_names = [c for s in pipeline.label_sets for c in s.output_columns() or ()]
        train_features = _subset(model.train_features, feature_names, "itb.train_features")
        labels = _subset(model.labels, label_names, "itb.labels")
        names = [a.name for a in model.algorithms]
        if len(set(names)) != len(names):
            raise ConfigError("itb.algorithms: algorithm names must be unique")
        signals = pipeline.signal_sets
        rule_index = _rule_index(signals)
        if model.thresholds.mode == "walk_forward" and signals[rule_index].generator != (
            "threshold_rule"
        ):
            raise ConfigError(
                "itb.thresholds.mode: walk_forward levels need a threshold_rule entry "
                f"(got {signals[rule_index].generator})"
            )
        scores = {score_column(lb, a) for lb in labels for a in names}
        _check_signal_inputs(signals, scores)
        if (
            rule_config(signals[rule_index]).gate is not None
            and config.get("trading_mode", "spot") == "futures"
        ):
            raise ConfigError(
                f"{signals[rule_index].where}: gate: a regime gate is for long positions; "
                "remove it in futures mode (a closed gate would open shorts)"
            )
        return cls(
            pipeline=pipeline,
            train_features=tuple(train_features),
            label_names=tuple(labels),
            algorithms=model.algorithms,
            rule_index=rule_index,
            combine_index=_combine_index(signals, rule_index),
            freqai_expansion=model.freqai_expansion,
            seed=model.seed,
            raw=model,
        )

    @property
    def feature_steps(self) -> tuple[GeneratorStep, ...]:
        """The feature generator steps."""
        return self.pipeline.feature_sets

    @property
    def label_steps(self) -> tuple[GeneratorStep, ...]:
        """The label generator steps."""
        return self.pipeline.label_sets

    @property
    def signal_steps(self) -> tuple[GeneratorStep, ...]:
        """The signal steps as configured (see :meth:`tuned_signal_steps` for hyperopt's)."""
        return self.pipeline.signal_sets

    # Earlier names, kept working: ``features``/``labels_steps``/``signals`` hold steps, ``labels``
    # holds names.
    features = feature_steps
    labels_steps = label_steps
    signals = signal_steps

    @property
    def labels(self) -> tuple[str, ...]:
        """Same as :attr:`label_names`."""
        return self.label_names

    # --- features and labels -------------------------------------------------------------------

    def startup_candles(self) -> int:
        """Candles of history a feature needs before its first full-window value."""
        return max(s.lookback() or 0 for s in self.feature_steps)

    def label_horizon(self) -> int | None:
        """The furthest any label looks ahead (None when a label is unbounded)."""
        horizons = [s.horizon() for s in self.label_steps]
        known = [h for h in horizons if h is not None]
        return max(known) if len(known) == len(horizons) else None

    def feature_frame(self, candles: pd.DataFrame) -> pd.DataFrame:
        """The training features of ``candles`` as FreqAI ``%-`` columns (same index)."""
        out = run_steps(candles, self.feature_steps)
        return pd.DataFrame(
            {feature_column(c): out[c].to_numpy(dtype="float64") for c in self.train_features},
            index=candles.index,
        )

    def label_frame(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Labels of ``candles`` as boolean columns, NA where the future is not known.

        The last ``horizon`` rows of a label are unknown whatever its generator says (ITB's
        legacy ``highlow`` reports False there): ``candles`` ends where a training window ends,
        so those rows would teach the model prices it is about to predict.
        """
        out = run_steps(candles, self.label_steps)
        for name in self.label_names:
            if not pd.api.types.is_bool_dtype(out[name]):
                raise ConfigError(
                    f"itb.labels: '{name}' is not a yes/no label (dtype {out[name].dtype}); "
                    "name the labels to train in itb.labels"
                )
        labels = out.loc[:, list(self.label_names)].astype("boolean")
        for step in self.label_steps:
            horizon = step.horizon()
            if not horizon:
                continue
            tail = labels.index[max(0, len(labels) - horizon) :]
            for name in step.output_columns() or ():
                if name in labels.columns:
                    labels.loc[tail, name] = pd.NA
        return labels

    def target_frame(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Labels as FreqAI ``&-`` targets with per-label class names; unknown stays missing."""
        labels = self.label_frame(candles)
        targets = {}
        for label in self.label_names:
            positive, negative = class_names(label)
            values = labels[label]
            col = np.where(values.fillna(False).to_numpy(bool), positive, negative).astype(object)
            col[values.isna().to_numpy()] = np.nan
            targets[target_column(label)] = pd.Series(col, index=candles.index, dtype="object")
        return pd.DataFrame(targets, index=candles.index)

    @property
    def score_columns(self) -> list[str]:
        """ITB names of the model probability columns, labels in the outer loop."""
        return [score_column(lb, a.name) for lb in self.label_names for a in self.algorithms]

    # --- signals -------------------------------------------------------------------------------

    @property
    def rule(self) -> ThresholdRuleConfig | ThresholdRule2Config:
        """The typed config of the threshold rule."""
        return rule_config(self.signal_steps[self.rule_index])

    @property
    def trade_score_column(self) -> str:
        """The column the threshold rule reads (``trade_score`` in ITB's samples)."""
        return self.rule.columns[0]

    def default_overrides(self) -> SignalOverrides:
        """The signal parameters exactly as the config states them."""
        index = self.combine_index
        combine = combine_config(self.signal_steps[index]) if index is not None else None
        return configured_parameters(self.rule, combine)

    def tuned_signal_steps(self, overrides: SignalOverrides) -> tuple[GeneratorStep, ...]:
        """The signal steps with the rule's thresholds, the combine mode and smoothing replaced
        (see :func:`itb_ext.signals.tuning.tuned_signal_steps`)."""
        return tuned_signal_steps(self.signal_steps, self.rule_index, self.combine_index, overrides)

    @property
    def candle_inputs(self) -> tuple[str, ...]:
        """The candle columns the signal stage reads (a regime gate: ``date`` and ``close``)."""
        wanted = {c for step in self.signal_steps for c in step.input_columns() or ()}
        return tuple(c for c in CANDLE_INPUTS if c in wanted)

    @property
    def gate_column(self) -> str | None:
        """The regime gate the threshold rule obeys, or None."""
        gate: str | None = self.rule.gate
        return gate

    def signal_inputs(self, candles: pd.DataFrame) -> pd.DataFrame:
        """What the signal stage reads from the analysed candles: the score columns (missing
        until a model is ready: no score, no signal) and the candle columns it needs."""
        return candles.reindex(columns=[*self.candle_inputs, *self.score_columns])

    def signal_frame(self, scores: pd.DataFrame, overrides: SignalOverrides) -> pd.DataFrame:
        """Run the signal stage over frame ``scores`` (the score columns, and the candle columns
        of :attr:`candle_inputs`).

        :return: ``trade_score`` (the rule's score column), ``buy`` and ``sell`` levels, and the
            gate (True where open) when the rule has one.
        """
        out = run_steps(scores, self.tuned_signal_steps(overrides))
        buy_col, sell_col = self.rule.names
        columns = {
            "trade_score": out[self.trade_score_column].to_numpy(dtype="float64"),
            "buy": out[buy_col].to_numpy(dtype=bool),
            "sell": out[sell_col].to_numpy(dtype=bool),
        }
        if self.gate_column is not None:
            columns[self.gate_column] = gate_open(out, self.gate_column)
        return pd.DataFrame(columns, index=scores.index)

    def trade_score(self, scores: pd.DataFrame, overrides: SignalOverrides) -> pd.Series:
        """The rule's score alone, from the signal entries it depends on (a regime gate, which
        reads candles, is left out): for stored predictions that hold only the score columns."""
        steps = self.tuned_signal_steps(overrides)
        needed, kept = {self.trade_score_column}, []
        for step in reversed(steps):
            if needed & set(step.output_columns() or ()):
                kept.append(step)
                needed |= set(step.input_columns() or ())
        out = run_steps(scores, tuple(reversed(kept)))
        return pd.Series(
            out[self.trade_score_column].to_numpy(dtype="float64"),
            index=scores.index,
            name="trade_score",
        )

    @property
    def combined_score_columns(self) -> tuple[str, ...]:
        """The columns the combine turns into the rule's score (ITB's names, e.g. ``high_30``)."""
        if self.combine_index is None:
            return ()
        columns: tuple[str, ...] = combine_config(self.signal_steps[self.combine_index]).columns
        return columns

    def combined_scores(self, scores: pd.DataFrame, overrides: SignalOverrides) -> pd.DataFrame:
        """The combine's inputs as the rule used them (after ``smoothing_window``), for charts.

        :return: one column per :attr:`combined_score_columns`, named as in the config.
        """
        out = run_steps(scores, self.tuned_signal_steps(overrides))
        window = overrides.smoothing_window
        return pd.DataFrame(
            {
                c: out[smoothed_name(c, window) if window > 1 else c].to_numpy(dtype="float64")
                for c in self.combined_score_columns
            },
            index=scores.index,
        )


def _subset(chosen: Sequence[str] | None, available: Sequence[str], where: str) -> list[str]:
    if chosen is None:
        return list(available)
    unknown = [c for c in chosen if c not in available]
    if unknown:
        raise ConfigError(f"{where}: '{unknown[0]}' is not produced by any generator entry")
    return list(chosen)


def _rule_index(signals: Sequence[GeneratorStep]) -> int:
    for i, step in enumerate(signals):
        if step.generator in THRESHOLD_RULES:
            return i
    raise ConfigError("itb.signal_sets: no threshold_rule entry (it makes the buy/sell signals)")


def _combine_index(signals: Sequence[GeneratorStep], rule_index: int) -> int | None:
    score = rule_config(signals[rule_index]).columns[0]
    for i in range(rule_index - 1, -1, -1):
        step = signals[i]
        if step.generator == "combine" and score in (step.output_columns() or ()):
            return i
    return None


#: Candle columns a signal entry may read besides the model scores (a regime gate's prices).
CANDLE_INPUTS = ("date", "open", "high", "low", "close", "volume")


def _check_signal_inputs(signals: Sequence[GeneratorStep], scores: set[str]) -> None:
    known = set(scores) | set(CANDLE_INPUTS)
    for step in signals:
        for col in step.input_columns() or ():
            if col not in known:
                listed = ", ".join(sorted(scores))
                raise ConfigError(
                    f"{step.where}: input column '{col}' is neither a model score ({listed}), "
                    "a candle column, nor made by an earlier signal entry"
                )
        known.update(step.output_columns() or ())
