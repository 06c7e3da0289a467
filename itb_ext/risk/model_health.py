"""Rolling out-of-sample AUC, hit rate and confidence drift of every model, and the pause rule.

A prediction made at candle t for a label with horizon H can be scored once candles t+1..t+H
have closed. The figures at candle t therefore use the predictions of candles up to t-H only,
and only those FreqAI trusted (``do_predict == 1``): the rows before the first live
prediction hold in-sample values.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from itb_ext.config.risk_controls import ModelHealthConfig
from itb_ext.evaluation.metrics import auc_from_ranks
from itb_ext.pipeline.naming import health_column

PAUSE_COLUMN = "health_pause"
AUC_COLUMN = "health_auc"
HIT_COLUMN = "health_hit_rate"


# Rolling figures of one model (its probability column, e.g. ``high_30_lc``): AUC, hit rate,
# mean of (probability - its training mean) and mean of |probability - 0.5|.
auc_column = partial(health_column, "auc")
hit_column = partial(health_column, "hit")
drift_column = partial(health_column, "drift")
confidence_column = partial(health_column, "confidence")


def rolling_auc(scores: pd.Series, outcomes: pd.Series, window: int, min_samples: int) -> pd.Series:
    """AUC over the last ``window`` rows where both ``scores`` and ``outcomes`` are known.

    All windows at once: unknown rows are given the score +inf, so that they rank above every
    known row and leave the known rows' ranks (1..K) as they are; they are then left out of the
    rank sum.

    :param min_samples: fewer known pairs in the window give NaN, as does a window of one class.
    """
    n = len(scores)
    known = scores.notna().to_numpy() & outcomes.notna().to_numpy()
    values = np.where(known, scores.to_numpy(dtype="float64", na_value=np.nan), np.inf)
    truth = known & (outcomes.astype("float64").to_numpy(na_value=np.nan) > 0.5)
    pad = window - 1
    values = np.concatenate([np.full(pad, np.inf), values])
    truth = np.concatenate([np.zeros(pad, dtype=bool), truth])
    known = np.concatenate([np.zeros(pad, dtype=bool), known])
    view = np.lib.stride_tricks.sliding_window_view
    ranks = rankdata(view(values, window), method="average", axis=1)
    count = view(known, window).sum(axis=1)
    result = auc_from_ranks(ranks, view(truth, window), count)
    result[count < min_samples] = np.nan
    return pd.Series(result[:n], index=scores.index)


def rolling_hit_rate(
    scores: pd.Series, outcomes: pd.Series, window: int, min_samples: int
) -> pd.Series:
    """Share of the last ``window`` known predictions on the right side of 0.5."""
    known = scores.notna() & outcomes.notna()
    hits = ((scores >= 0.5) == (outcomes.astype("float64") > 0.5)).astype("float64")
    hits = hits.where(known)
    return hits.rolling(window, min_periods=min_samples).mean()


def matured(values: pd.Series | pd.DataFrame, horizon: int) -> pd.Series | pd.DataFrame:
    """``values`` as known ``horizon`` candles later: row t holds row t-horizon."""
    return values.shift(horizon)


def model_health_frame(
    probabilities: pd.DataFrame,
    labels: Mapping[str, pd.Series],
    trusted: pd.Series,
    horizon: int,
    training_means: Mapping[str, float],
    cfg: ModelHealthConfig,
) -> pd.DataFrame:
    """The health columns of every model and the pause signal.

    :param probabilities: one probability column per model.
    :param labels: per model, its label (True/False/NA) at each candle.
    :param trusted: True where the candle's prediction is out of sample and trusted.
    :param horizon: candles until a label is known.
    :param training_means: per model, the mean probability on its training window (missing:
        no drift column).
    :return: per model ``health_auc_<m>``, ``health_hit_<m>``, ``health_confidence_<m>``
        (and ``health_drift_<m>``), plus ``health_auc``/``health_hit_rate`` (mean over models)
        and ``health_pause`` (1 once both have stayed below their floor for ``cfg.period``
        candles; NaN figures are never below).
    """
    out = pd.DataFrame(index=probabilities.index)
    live = probabilities.where(trusted.astype(bool), axis=0)
    w, n = cfg.window, cfg.min_samples
    for model in probabilities.columns:
        outcome = labels[model].astype("float64")
        scored = matured(live[model], horizon)
        known_outcome = matured(outcome, horizon)
        assert isinstance(scored, pd.Series) and isinstance(known_outcome, pd.Series)
        out[auc_column(model)] = rolling_auc(scored, known_outcome, w, n)
        out[hit_column(model)] = rolling_hit_rate(scored, known_outcome, w, n)
        # Confidence needs no label: it uses the predictions up to now.
        distance = (live[model] - 0.5).abs()
        out[confidence_column(model)] = distance.rolling(w, min_periods=n).mean()
        if model in training_means:
            shift = live[model] - training_means[model]
            out[drift_column(model)] = shift.rolling(w, min_periods=n).mean()
    models = list(probabilities.columns)
    out[AUC_COLUMN] = out[[auc_column(m) for m in models]].mean(axis=1, skipna=False)
    out[HIT_COLUMN] = out[[hit_column(m) for m in models]].mean(axis=1, skipna=False)
    out[PAUSE_COLUMN] = pause_signal(out[AUC_COLUMN], out[HIT_COLUMN], cfg)
    return out


def pause_signal(quality_auc: pd.Series, hit_rate: pd.Series, cfg: ModelHealthConfig) -> pd.Series:
    """1 where quality has been below a floor on each of the last ``cfg.period`` candles."""
    below = (quality_auc < cfg.min_auc) | (hit_rate < cfg.min_hit_rate)
    streak = below.astype("int64").rolling(cfg.period, min_periods=cfg.period).sum()
    return (streak >= cfg.period).astype("int64")
