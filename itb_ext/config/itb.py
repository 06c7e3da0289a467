"""The ``itb`` section of a FreqTrade config: ITB's own keys, validated.

The ``algorithms`` entries are checked against the algorithm registry, which this package does
not import: whoever validates the section imports :mod:`itb_ext.algorithms` first (the setup of
:mod:`itb_ext.strategy.setup` does).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from itb_ext.config.base import FrozenModel
from itb_ext.config.compute import ComputeConfig
from itb_ext.config.diagram import DiagramConfig
from itb_ext.config.models import AlgorithmConfig
from itb_ext.config.notifications import ScoreNotificationConfig
from itb_ext.config.risk import RiskConfig
from itb_ext.config.thresholds import ThresholdsConfig


class ITBSectionModel(FrozenModel):
    """The ``itb`` section of a FreqTrade config (ITB's own keys, validated).

    :param feature_sets: ITB feature generator entries.
    :param label_sets: ITB label generator entries.
    :param train_features: features the models train on (default: every generated feature).
    :param labels: labels a model is trained for (default: every generated label).
    :param algorithms: ITB's algorithm entries; one model per (label, algorithm).
    :param signal_sets: ITB signal entries turning the score columns into ``trade_score`` and
        buy/sell levels; their ``threshold_rule`` parameters and ``combine`` mode are the defaults
        of the strategy's hyperoptable parameters.
    :param freqai_expansion: compute the features in FreqAI's expandable hook, so that
        ``include_timeframes``, ``include_corr_pairlist`` and ``include_shifted_candles`` expand
        them; off reproduces ITB's feature set exactly.
    :param seed: random seed of every model.
    :param score_notification_model: ITB's score notification bands (see the notifier).
    :param compute: where the models of a training window are fitted (workers, Dask).
    :param risk: sizing, stops, protections and slippage (``itb_ext.config.risk``).
    :param thresholds: fixed levels, or levels set by each walk-forward training window.
    :param accept_hyperopt_from_other_config: use a hyperopt result file searched on another
        configuration (refused by default).
    :param centred_scores: each model predicts its probability minus its label's base rate in
        its own training window (kept with the window's models), so that a score of 0 means "as
        likely as usual" and one threshold means the same in calm and wild windows.
    :param diagram: ITB's daily score diagram, sent as a photo to Telegram (off without it).
    """

    feature_sets: tuple[dict[str, Any], ...] = Field(min_length=1)
    label_sets: tuple[dict[str, Any], ...] = Field(min_length=1)
    train_features: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    algorithms: tuple[AlgorithmConfig, ...] = Field(min_length=1)
    signal_sets: tuple[dict[str, Any], ...] = Field(min_length=1)
    freqai_expansion: bool = False
    seed: int = 0
    score_notification_model: ScoreNotificationConfig | None = None
    compute: ComputeConfig = ComputeConfig()
    risk: RiskConfig = Field(default_factory=RiskConfig)
    thresholds: ThresholdsConfig = ThresholdsConfig()
    accept_hyperopt_from_other_config: bool = False
    centred_scores: bool = False
    diagram: DiagramConfig | None = None
