"""FreqAI model that trains ITB's classifiers: one per (label, algorithm) of the ``itb`` section."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.freqai.base_models.BaseClassifierModel import BaseClassifierModel
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.strategy import IStrategy

from itb_ext.adapters.freqai_charts import missing_chart_predictions
from itb_ext.algorithms import ScoreModels, train_score_models
from itb_ext.errors import ITBError
from itb_ext.pipeline.naming import class_names, label_of_target, score_column
from itb_ext.signals.levels import BUY_LEVEL, SELL_LEVEL, quantile_levels
from itb_ext.strategy.setup import ITBSetup

logger = logging.getLogger(__name__)

PREDICTION_BLOCK = 256
"""Rows per model call. BLAS computes the last rows of a matrix product with other kernels than
the rest, so a probability could change in its last bits with the length of the frame predicted;
fixed-size blocks (the last one padded) make each candle's value independent of where the
backtest ends."""


class ITBClassifier(BaseClassifierModel):
    """ITB's ``gb``/``lc``/``svc``/``nn`` classifiers inside FreqAI.

    Each ``&-<label>`` target (classes ``<label>:yes``/``<label>:no``) gets one model per entry
    of ``itb.algorithms``. Predictions are returned as ITB-named probability columns
    (``high_30_svc``), plus the ``&-<label>`` class voted by the mean probability.

    A failed training stops the run with an error instead of leaving empty predictions.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            self.itb = ITBSetup.from_freqtrade_config(self.config)
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        self._training_error: BaseException | None = None
        #: Per pair, the last live training failure (cleared by a successful training); the
        #: strategy turns it into a log line and a Telegram warning.
        self.training_failures: dict[str, str] = {}

    def extract_data_and_train_model(
        self,
        new_trained_timerange: Any,
        pair: str,
        strategy: Any,
        dk: FreqaiDataKitchen,
        data_load_timerange: Any,
    ) -> None:
        try:
            super().extract_data_and_train_model(
                new_trained_timerange, pair, strategy, dk, data_load_timerange
            )
        except Exception as exc:
            self.training_failures[pair] = f"{type(exc).__name__}: {exc}"
            raise
        self.training_failures.pop(pair, None)

    def start_backtesting(
        self,
        dataframe: pd.DataFrame,
        metadata: dict,
        dk: FreqaiDataKitchen,
        strategy: IStrategy,
    ) -> FreqaiDataKitchen:
        """FreqAI's walk-forward backtest, also predicting the timerange's last candle.

        FreqAI's backtest windows exclude their end, so the candle at the end of ``--timerange``
        (which the backtest holds) got no prediction and a 0 fill. Cutting the timerange there,
        as ``lookahead-analysis`` does, then changed that candle's scores and ``do_predict``.
        The last window now reaches one candle further; its model is unchanged.
        """
        if dk.backtesting_timeranges:
            last = dk.backtesting_timeranges[-1].copy()
            last.stopts += timeframe_to_seconds(self.config["timeframe"])
            dk.backtesting_timeranges[-1] = last
        if self.config.get("runmode") in (RunMode.WEBSERVER, RunMode.PLOT):
            # Charts load no training window: stop before training on the few candles they hold.
            problem = missing_chart_predictions(
                dk, dataframe, metadata["pair"], self.config, strategy.startup_candle_count
            )
            if problem:
                raise OperationalException(problem)
        return super().start_backtesting(dataframe, metadata, dk, strategy)

    def train(
        self, unfiltered_df: pd.DataFrame, pair: str, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> Any:
        self._training_error = None
        try:
            return super().train(unfiltered_df, pair, dk, **kwargs)
        except Exception as exc:
            self._training_error = exc
            raise

    def fit(self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        """Train every (label, algorithm) model on the training window.

        :param data_dictionary: FreqAI's train/test split (only the training part is used: ITB
            trains on the whole window).
        :param dk: the data kitchen of the pair.
        """
        features: pd.DataFrame = data_dictionary["train_features"]
        targets: pd.DataFrame = data_dictionary["train_labels"]
        labels = pd.DataFrame(index=features.index)
        for column in targets.columns:
            label = label_of_target(column)
            positive, _ = class_names(label)
            labels[label] = (targets[column] == positive).to_numpy()
        models = train_score_models(
            features,
            labels,
            self.itb.algorithms,
            seed=self.itb.seed,
            compute=self.itb.raw.compute,
        )
        walk_forward = self.itb.raw.thresholds.mode == "walk_forward"
        if walk_forward or self.live:
            fitted = _predict_in_blocks(models, features.reset_index(drop=True))
        if walk_forward:
            self._set_window_levels(dk, fitted)
        if self.live:
            # FreqAI's live bookkeeping keeps a mean/std for every returned column (a KeyError per
            # candle otherwise). The probabilities' mean on the training window is the reference
            # of the live confidence drift (``<column>_mean``). Backtests would add them as columns.
            for column in models.columns:
                dk.data.setdefault("labels_mean", {})[column] = float(fitted[column].mean())
                dk.data.setdefault("labels_std", {})[column] = float(fitted[column].std())
        self._write_training_record(dk, labels)
        return models

    def _set_window_levels(self, dk: FreqaiDataKitchen, fitted: pd.DataFrame) -> None:
        """Walk-forward thresholds: levels from this window's training rows only, returned with
        every prediction of the model (FreqAI's ``extra_returns_per_train``, stored with the
        model and in the backtest predictions)."""
        score = self.itb.signal_frame(fitted, self.itb.default_overrides())["trade_score"]
        buy, sell = quantile_levels(score.to_numpy(), self.itb.raw.thresholds)
        # A new dict: FreqAI hands every window the same one from the config.
        dk.data["extra_returns_per_train"] = {
            **dk.data.get("extra_returns_per_train", {}),
            BUY_LEVEL: buy,
            SELL_LEVEL: sell,
        }
        logger.info(f"ITB {dk.pair}: walk-forward levels buy {buy:.4f}, sell {sell:.4f}")

    def _write_training_record(self, dk: FreqaiDataKitchen, labels: pd.DataFrame) -> None:
        """Leave ``itb_training.json`` beside the model: which candles were fitted, and why
        none of their labels reads a price from the period the model then predicts."""
        dates = pd.to_datetime(dk.train_dates)
        window = getattr(self, "training_timerange", None)
        record = {
            "pair": dk.pair,
            "first_trained_candle": str(dates.min()),
            "last_trained_candle": str(dates.max()),
            "window_end": str(window.stopdt) if window is not None else None,
            "label_horizon_candles": self.itb.label_horizon(),
            "timeframe": self.config.get("timeframe"),
            "rows": len(labels),
            "positive_rate": {c: float(labels[c].mean()) for c in labels.columns},
            "models": [score_column(lb, a.name) for lb in labels for a in self.itb.algorithms],
        }
        Path(dk.data_path).mkdir(parents=True, exist_ok=True)
        (Path(dk.data_path) / "itb_training.json").write_text(json.dumps(record, indent=1))

    def predict(
        self, unfiltered_df: pd.DataFrame, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> tuple[pd.DataFrame, npt.NDArray[np.int_]]:
        """Probabilities of every (label, algorithm) model for each candle of ``unfiltered_df``.

        :return: the prediction frame and FreqAI's ``do_predict`` (0 where a feature was missing
            or the outlier filters reject the candle).
        """
        dk.find_features(unfiltered_df)
        filtered, _ = dk.filter_features(
            unfiltered_df, dk.training_features_list, training_filter=False
        )
        dk.data_dictionary["prediction_features"] = filtered
        features, outliers, _ = dk.feature_pipeline.transform(filtered, outlier_check=True)
        dk.data_dictionary["prediction_features"] = features

        model: ScoreModels = self.model
        scores = _predict_in_blocks(model, features.reset_index(drop=True))
        pred = {}
        for column in dk.label_list:
            label = label_of_target(column)
            positive, negative = class_names(label)
            mean = scores[[c for c in model.columns if c.startswith(f"{label}_")]].mean(axis=1)
            pred[column] = np.where(mean.to_numpy() >= 0.5, positive, negative)
        pred_df = pd.concat([pd.DataFrame(pred), scores], axis=1)

        outlier_steps = dict(dk.feature_pipeline.steps)
        if "di" in outlier_steps:
            dk.DI_values = outlier_steps["di"].di_values
        else:
            dk.DI_values = np.zeros(len(outliers))
        dk.do_predict = outliers
        return pred_df, dk.do_predict

    def _append_null_backtesting_predictions(
        self, dk: FreqaiDataKitchen, dataframe_backtest: pd.DataFrame
    ) -> None:
        # FreqAI would log a warning and carry on with neutral predictions: trading on them
        # would report a backtest of no model at all.
        error = self._training_error
        reason = f"{type(error).__name__}: {error}" if error is not None else "no model"
        raise OperationalException(f"ITBClassifier: training for {dk.pair} failed ({reason})")


def _predict_in_blocks(model: ScoreModels, features: pd.DataFrame) -> pd.DataFrame:
    """``model.predict`` over blocks of :data:`PREDICTION_BLOCK` rows, the last padded with zeros.

    :param features: transformed features with a 0..n-1 index.
    """
    parts = []
    for start in range(0, len(features), PREDICTION_BLOCK):
        block = features.iloc[start : start + PREDICTION_BLOCK]
        rows = len(block)
        if rows < PREDICTION_BLOCK:
            padding = pd.DataFrame(0.0, index=range(PREDICTION_BLOCK - rows), columns=block.columns)
            block = pd.concat([block, padding], ignore_index=True)
        parts.append(model.predict(block.reset_index(drop=True)).iloc[:rows])
    if not parts:
        return model.predict(features)
    return pd.concat(parts, ignore_index=True)
