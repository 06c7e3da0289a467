"""Model health of the strategy's analysed candles: labels from the candles, figures per model."""

from __future__ import annotations

import pandas as pd

from itb_ext.config.risk_controls import ModelHealthConfig
from itb_ext.errors import ConfigError
from itb_ext.pipeline.naming import score_column
from itb_ext.risk.model_health import model_health_frame
from itb_ext.strategy.charts import health_plot as health_plot  # its home is the charts module
from itb_ext.strategy.setup import ITBSetup

TRAINING_MEAN_SUFFIX = "_mean"
"""FreqAI's live column of a returned column's training mean (``high_30_lc_mean``)."""


def candle_health(setup: ITBSetup, candles: pd.DataFrame, cfg: ModelHealthConfig) -> pd.DataFrame:
    """Health columns for the analysed candles (FreqAI's probability columns and do_predict).

    The labels come from the candles themselves; a label of candle t is used from candle t+H on.
    Without probability columns (no model yet) every figure is NaN and nothing pauses.

    :raises ConfigError: when a label has no horizon (it would never mature).
    """
    horizon = setup.label_horizon()
    if horizon is None:
        raise ConfigError("itb.risk.model_health: a label without horizon never matures")
    models = {
        score_column(label, algo.name): label for label in setup.labels for algo in setup.algorithms
    }
    probabilities = candles.reindex(columns=list(models)).astype("float64")
    labels_frame = setup.label_frame(candles)
    labels = {model: labels_frame[label] for model, label in models.items()}
    trusted = candles.get("do_predict", pd.Series(0, index=candles.index)) == 1
    means = {
        model: candles[model + TRAINING_MEAN_SUFFIX].astype("float64")
        for model in models
        if model + TRAINING_MEAN_SUFFIX in candles
    }
    return model_health_frame(probabilities, labels, trusted, horizon, means, cfg)
