"""FreqAI model that trains ITB's classifiers: one per (label, algorithm) of the ``itb`` section."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from freqtrade.exceptions import OperationalException
from freqtrade.freqai.base_models.BaseClassifierModel import BaseClassifierModel
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.strategy import IStrategy

from itb_ext.adapters.freqai_model import (
    failed_training_message,
    pool_applies,
    pool_backtest,
    prepare_backtest,
)
from itb_ext.algorithms.pool import FittedModels, WindowRows
from itb_ext.errors import ITBError
from itb_ext.strategy import classifier
from itb_ext.strategy.setup import ITBSetup

logger = logging.getLogger(__name__)


class ITBClassifier(BaseClassifierModel):
    """ITB's ``gb``/``lc``/``svc``/``nn`` classifiers inside FreqAI.

    Each ``&-<label>`` target (classes ``<label>:yes``/``<label>:no``) gets one model per entry
    of ``itb.algorithms``. Predictions are ITB-named probability columns (``high_30_svc``), plus
    the ``&-<label>`` class voted by the mean probability. A failed training stops a backtest
    with an error instead of trading on empty predictions. In a backtest, every window's models
    of a pair are fitted as one pool of tasks before FreqAI's loop replays the windows
    (``itb.compute.pool``; :func:`itb_ext.adapters.freqai_model.pool_backtest`).
    """

    model: Any  # the models of the pair's current window (itb_ext.algorithms.ScoreModels)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            self.itb = ITBSetup.from_freqtrade_config(self.config)
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        self._training_error: BaseException | None = None
        #: Per pair, the last live training failure (cleared by a success); the strategy tells it.
        self.training_failures: dict[str, str] = {}
        #: In a backtest, the models the task pool fitted for the pair's windows.
        self.fitted: FittedModels | None = None

    def extract_data_and_train_model(
        self,
        new_trained_timerange: Any,
        pair: str,
        strategy: IStrategy,
        dk: FreqaiDataKitchen,
        data_load_timerange: Any,
    ) -> None:
        try:
            super().extract_data_and_train_model(
                new_trained_timerange, pair, strategy, dk, data_load_timerange
            )
        except Exception as exc:
            self.training_failures[pair] = classifier.failure_text(exc)
            raise
        self.training_failures.pop(pair, None)

    def start_backtesting(
        self, dataframe: pd.DataFrame, metadata: dict, dk: FreqaiDataKitchen, strategy: IStrategy
    ) -> FreqaiDataKitchen:
        """FreqAI's walk-forward backtest, also predicting the timerange's last candle."""
        startup = strategy.startup_candle_count
        prepare_backtest(dk, dataframe, metadata["pair"], self.config, startup)
        self.fitted = None
        if pool_applies(self.config, self.itb):
            self.fitted = pool_backtest(self, dataframe, metadata, dk, strategy, self.itb)
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
        """Train every (label, algorithm) model on the whole window (ITB has no test split);
        in a backtest the task pool fitted them already for exactly these rows."""
        itb, features = self.itb, data_dictionary["train_features"]
        labels = classifier.labels_from_targets(data_dictionary["train_labels"])
        rows = WindowRows(dk.model_filename, features, labels)
        models, missed = classifier.train_window(itb, rows, self.fitted)
        if missed:
            logger.warning(f"ITB {dk.pair}: {missed}")
        returns = classifier.window_returns(itb, models, features, live=self.live)
        if returns.levels:
            # a new dict: FreqAI hands every window the same one from the config
            extra = dk.data.get("extra_returns_per_train", {})
            dk.data["extra_returns_per_train"] = {**extra, **returns.levels}
            logger.info(classifier.describe_levels(dk.pair, returns.levels))
        if self.live:  # FreqAI's live bookkeeping needs a mean/std per returned column
            dk.data.setdefault("labels_mean", {}).update(returns.means)
            dk.data.setdefault("labels_std", {}).update(returns.stds)
        window = getattr(self, "training_timerange", None)
        end, timeframe = window and str(window.stopdt), self.config.get("timeframe")
        record = classifier.training_record(itb, dk.pair, dk.train_dates, end, timeframe, labels)
        classifier.write_training_record(Path(dk.data_path), record)
        return models

    def predict(
        self, unfiltered_df: pd.DataFrame, dk: FreqaiDataKitchen, **kwargs: Any
    ) -> tuple[pd.DataFrame, npt.NDArray[np.int_]]:
        """FreqAI's prediction, the models seen as a FreqAI classifier (stored as trained)."""
        models, self.model = self.model, classifier.FreqaiScoreModels(self.model, dk.label_list)
        try:
            return super().predict(unfiltered_df, dk, **kwargs)
        finally:
            self.model = models

    def _append_null_backtesting_predictions(
        self, dk: FreqaiDataKitchen, dataframe_backtest: pd.DataFrame
    ) -> None:
        # FreqAI's private hook (no public one exists; see itb_ext.adapters.freqai_model, checked
        # against FreqTrade 2026.9): it would carry on with neutral predictions, a backtest of no
        # model at all.
        raise OperationalException(failed_training_message(dk.pair, self._training_error))
