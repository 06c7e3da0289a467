"""ITBClassifier's edges with FreqAI: its backtest windows, the task pool that trains them, and
its one private hook.

The task pool (:func:`pool_backtest`): before FreqAI's walk-forward loop runs a pair, every
window the loop would train gets its training rows built the way the loop builds them (FreqAI's
own data-kitchen calls, in the loop's order, on a kitchen of its own), and all of their models
are fitted at once on the ``itb.compute`` backend
(:func:`itb_ext.algorithms.pool.run_pool`). The loop then trains each window as always;
``ITBClassifier.fit`` finds the window's models fitted for exactly those rows.

FreqAI has no public hook for a backtest window whose training failed: it logs a warning and
calls ``IFreqaiModel._append_null_backtesting_predictions``, which appends (and stores, for
later runs to reuse) neutral predictions of no model at all. ITBClassifier overrides that
method to stop the backtest instead. The override was checked against FreqTrade
:data:`CHECKED_AGAINST`; ``tests/freqtrade/test_freqai_private_hook.py`` fails when FreqAI's
method or its call changes (:data:`NULL_PREDICTIONS_SHA256`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.freqai.freqai_interface import IFreqaiModel
from freqtrade.strategy import IStrategy

from itb_ext.adapters.freqai_charts import missing_chart_predictions
from itb_ext.algorithms.pool import (
    FittedModels,
    WindowRows,
    code_versions,
    run_pool,
    window_fits,
    window_record,
    write_manifest,
)
from itb_ext.errors import ITBError
from itb_ext.strategy.classifier import failure_text, labels_from_targets
from itb_ext.strategy.setup import ITBSetup

logger = logging.getLogger(__name__)

CHECKED_AGAINST = "2026.9"
"""The FreqTrade version whose FreqAI the private override was checked against."""

NULL_PREDICTIONS_HOOK = "_append_null_backtesting_predictions"
"""FreqAI's private method called for a backtest window without a model."""

NULL_PREDICTIONS_SHA256 = "2c4ec0811a13b8b99b93ddc5830f225df0d99e93e7b29796a8775cd070b86cd0"
"""SHA-256 of that method's source in :data:`CHECKED_AGAINST`."""

NULL_PREDICTIONS_CALL = "self._append_null_backtesting_predictions(dk, dataframe_backtest)"
"""How ``IFreqaiModel.start_backtesting`` calls it once training failed."""


def reach_last_candle(dk: FreqaiDataKitchen, timeframe: str) -> None:
    """Let the last backtest window reach one candle further, so that the candle at the end of
    ``--timerange`` (which the backtest holds) gets a prediction.

    FreqAI's backtest windows exclude their end: that candle got no prediction and a 0 fill, and
    cutting the timerange there, as ``lookahead-analysis`` does, changed its scores and
    ``do_predict``. The last window's model is unchanged.
    """
    if dk.backtesting_timeranges:
        last = dk.backtesting_timeranges[-1].copy()
        last.stopts += timeframe_to_seconds(timeframe)
        dk.backtesting_timeranges[-1] = last


def prepare_backtest(
    dk: FreqaiDataKitchen,
    candles: pd.DataFrame,
    pair: str,
    config: dict[str, Any],
    startup_candles: int,
) -> None:
    """Before FreqAI's walk-forward backtest of ``pair``: the last window reaches the timerange's
    last candle (:func:`reach_last_candle`); charts (FreqUI in webserver mode, plot-dataframe)
    load no training window, so they stop before training on the few candles they hold.

    :raises OperationalException: a chart without stored predictions (see
        :func:`~itb_ext.adapters.freqai_charts.missing_chart_predictions`).
    """
    reach_last_candle(dk, config["timeframe"])
    if config.get("runmode") in (RunMode.WEBSERVER, RunMode.PLOT):
        problem = missing_chart_predictions(dk, candles, pair, config, startup_candles)
        if problem:
            raise OperationalException(problem)


def failed_training_message(pair: str, error: BaseException | None) -> str:
    """The one line that stops a backtest whose window could not be trained."""
    return f"ITBClassifier: training for {pair} failed ({failure_text(error)})"


POOL_RUNMODES = (RunMode.BACKTEST, RunMode.HYPEROPT)
"""Run modes whose walk-forward windows are trained as one pool (live keeps FreqAI's schedule)."""

FITTED_MODELS_FOLDER = "itb_fitted_models"
"""Folder of the identifier's models folder where fitted models are kept by key."""

MANIFEST_PREFIX = "itb_pool_"
"""The pool's manifest of a pair: ``backtesting_predictions/itb_pool_<PAIR>.json``."""


def pool_applies(config: dict[str, Any], setup: ITBSetup) -> bool:
    """Whether this run trains its backtest windows as one pool (``itb.compute.pool``)."""
    return (
        setup.raw.compute.pool
        and config.get("runmode") in POOL_RUNMODES
        and not config.get("freqai_backtest_live_models", False)
    )


def manifest_path(dk: FreqaiDataKitchen, pair: str) -> Path:
    """Where the pool's manifest of ``pair`` lies: beside FreqAI's stored predictions."""
    name = MANIFEST_PREFIX + re.sub(r"[^A-Za-z0-9]+", "_", pair).strip("_") + ".json"
    return Path(dk.full_path) / dk.backtest_predictions_folder / name


@dataclass(frozen=True)
class BacktestWindow:
    """A window FreqAI's loop will train, with its training rows.

    :param model_id: FreqAI's model id (the end of the training range, in seconds).
    :param train: the training range; ``backtest`` the range it predicts.
    """

    model_id: int
    train: str
    backtest: str
    rows: WindowRows


@contextmanager
def _quiet_freqai() -> Iterator[None]:
    # the pool repeats FreqAI's own calls; their info lines belong to the loop's log
    freqai = logging.getLogger("freqtrade.freqai")
    level = freqai.level
    freqai.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        freqai.setLevel(level)


def windows_to_train(
    model: IFreqaiModel,
    candles: pd.DataFrame,
    metadata: dict,
    dk: FreqaiDataKitchen,
    strategy: IStrategy,
) -> list[BacktestWindow]:
    """The windows of ``dk`` that ``IFreqaiModel.start_backtesting`` will train, each with its
    training rows as ``BaseClassifierModel.train`` hands them to ``fit``.

    Windows with a stored prediction or a stored model are left out (the loop trains neither),
    and so is a window whose rows cannot be built (the loop meets and reports the problem).
    Nothing of ``dk`` changes: the calls run on a kitchen of their own, on copies of its ranges.

    :param candles: the candles the strategy hands FreqAI.
    """
    pair = metadata["pair"]
    plan = FreqaiDataKitchen(model.config, False, pair)
    populated: pd.DataFrame | None = None
    windows = []
    with _quiet_freqai():
        for tr_train, tr_backtest in zip(
            dk.training_timeranges, dk.backtesting_timeranges, strict=False
        ):
            in_backtest = (candles["date"] >= tr_backtest.startdt) & (
                candles["date"] < tr_backtest.stopdt
            )
            model_id = int(tr_train.stopts)
            plan.set_paths(pair, model_id)
            plan.set_new_model_names(pair, model_id)
            if plan.check_if_backtest_prediction_is_valid(int(in_backtest.sum())):
                continue
            if model.model_exists(plan):
                continue
            try:
                if populated is None:
                    populated = plan.use_strategy_to_populate_indicators(
                        strategy, prediction_dataframe=candles, pair=pair
                    )
                rows = _training_rows(model, plan, populated, tr_train.copy(), strategy, metadata)
            except Exception as exc:
                logger.warning(
                    f"ITB {pair}: the task pool leaves window {tr_train.timerange_str} to "
                    f"FreqAI's loop ({failure_text(exc)})"
                )
                continue
            windows.append(
                BacktestWindow(model_id, tr_train.timerange_str, tr_backtest.timerange_str, rows)
            )
    return windows


def _training_rows(
    model: IFreqaiModel,
    plan: FreqaiDataKitchen,
    populated: pd.DataFrame,
    tr_train: Any,
    strategy: IStrategy,
    metadata: dict,
) -> WindowRows:
    # IFreqaiModel.start_backtesting's steps of a window, then BaseClassifierModel.train's
    base = populated.loc[populated["date"] < tr_train.stopdt, :]
    base = strategy.set_freqai_targets(base, metadata=metadata)
    frame = plan.slice_dataframe(plan.buffer_timerange(tr_train), base)
    frame = plan.remove_special_chars_from_feature_names(frame)
    plan.find_features(frame)
    plan.find_labels(frame)
    features, labels = plan.filter_features(
        frame, plan.training_features_list, plan.label_list, training_filter=True
    )
    data = plan.make_train_test_datasets(features, labels)
    pipeline = model.define_data_pipeline(threads=plan.thread_count)
    train_features, train_labels, _ = pipeline.fit_transform(
        data["train_features"], data["train_labels"], data["train_weights"]
    )
    return WindowRows(plan.model_filename, train_features, labels_from_targets(train_labels))


def pool_backtest(
    model: IFreqaiModel,
    candles: pd.DataFrame,
    metadata: dict,
    dk: FreqaiDataKitchen,
    strategy: IStrategy,
    setup: ITBSetup,
) -> FittedModels:
    """Fit every model of every window of the pair's backtest as one pool of tasks.

    Models fitted before (same rows, settings, seed and code versions) are read from the
    identifier's :data:`FITTED_MODELS_FOLDER`; the others are fitted at once on
    ``itb.compute`` and kept there. Writes the pair's manifest (:func:`manifest_path`).

    :return: the fitted models, for ``ITBClassifier.fit`` to take each window's from.
    """
    pair = metadata["pair"]
    store = FittedModels(Path(dk.full_path) / FITTED_MODELS_FOLDER)
    windows = windows_to_train(model, candles, metadata, dk, strategy)
    if not windows:
        return store
    versions = code_versions()
    compute = setup.raw.compute
    fits = {}
    for window in windows:
        try:
            fits[window.model_id] = window_fits(
                window.rows,
                setup.algorithms,
                setup.seed,
                versions=versions,
                centred=setup.raw.centred_scores,
            )
        except ITBError:  # no row to train on: the loop meets and reports it
            continue
    every_fit = [fit for window_tasks in fits.values() for fit in window_tasks]
    try:
        done = {result.key: result for result in run_pool(every_fit, store, compute)}
    except Exception as exc:  # a model that cannot train stops the backtest in one line
        raise OperationalException(failed_training_message(pair, exc)) from None
    logger.info(
        f"ITB {pair}: task pool trained {len(fits)} windows, {len(done)} models fitted, "
        f"{len(every_fit) - len(done)} found fitted ({compute.backend}, n_jobs {compute.n_jobs})"
    )
    records = [
        window_record(
            fits[w.model_id],
            done,
            versions,
            model_id=w.model_id,
            train_timerange=w.train,
            backtest_timerange=w.backtest,
        )
        for w in windows
        if w.model_id in fits
    ]
    write_manifest(manifest_path(dk, pair), pair, setup.seed, compute, records)
    return store
