"""Assemble the walk-forward report's tables from stored predictions, candles and trades.

Every figure is out of sample: a window's rows were predicted by a model trained only on
candles before the window's start. Labels and forward returns read the future, but only to
grade predictions after the fact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from itb_ext.evaluation import metrics
from itb_ext.evaluation.edge import (
    EdgeContext,
    EdgeSettings,
    PairEdge,
    PairSignals,
    backtested_signals,
    edge_text,
    pair_edge,
)
from itb_ext.evaluation.importance import permutation_importance
from itb_ext.evaluation.stored import BacktestResult, StoredModel
from itb_ext.pipeline.naming import score_column
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.setup import ITBSetup

OVERALL = "all"
#: how a figure that cannot be computed is shown
NA = "n/a"
LEVEL_COLUMNS = ("buy_threshold", "sell_threshold")


@dataclass(frozen=True)
class PairData:
    """What the report reads for one pair.

    :param pair: e.g. ``BTC/USD``.
    :param candles: the pair's candles (``date``, OHLCV), covering the backtest and the label
        horizon after it.
    :param predictions: stored predictions with a ``window`` column (see
        :func:`itb_ext.evaluation.stored.read_window_predictions`).
    :param models: the stored model of each window (may be empty).
    """

    pair: str
    candles: pd.DataFrame
    predictions: pd.DataFrame
    models: Sequence[StoredModel] = ()


@dataclass(frozen=True)
class Report:
    """The report's tables.

    :param quality: per pair, window (``all`` = every window) and model: candles, positive
        rate, AUC, average precision, Brier score.
    :param reliability: per model, pooled over pairs and windows: the reliability curve.
    :param direction: per pair and window: AUC of ``trade_score`` against the sign of the
        next-H-candle return.
    :param importance: per pair, window and feature: AUC drop when the feature is shuffled.
    :param levels: per pair and candle: ``trade_score`` and the buy/sell levels in force.
    :param equity: strategy and buy-and-hold equity and drawdown (empty without a backtest).
    :param trading: trading metrics after fees of the strategy and of buy-and-hold.
    :param notes: what could not be computed, and why.
    :param horizon: candles of the directional test.
    :param fee: fee per side that buy-and-hold pays (None: no trading section).
    :param edges: per pair, the strategy beside the baselines and the luck tests (empty without
        a backtest or without :class:`~itb_ext.evaluation.edge.EdgeSettings`).
    :param edge_context: the period, costs and wallet of ``edges``.
    :param header: lines naming what the report covers (timerange, config, identifier).
    :param slippage: price moved against each of buy-and-hold's fills, as the backtest's fills.
    """

    quality: pd.DataFrame
    reliability: pd.DataFrame
    direction: pd.DataFrame
    importance: pd.DataFrame
    levels: pd.DataFrame
    equity: pd.DataFrame
    trading: pd.DataFrame
    horizon: int
    notes: list[str] = field(default_factory=list)
    fee: float | None = None
    edges: tuple[PairEdge, ...] = ()
    edge_context: EdgeContext | None = None
    header: tuple[str, ...] = ()
    slippage: float = 0.0


def _label_of(setup: ITBSetup) -> dict[str, str]:
    return {score_column(lb, a.name): lb for lb in setup.labels for a in setup.algorithms}


def graded_predictions(setup: ITBSetup, data: PairData) -> tuple[pd.DataFrame, dict[str, str]]:
    """Predictions joined with their labels and close prices, trusted rows only.

    :return: the joined rows and, per score column, the label it predicts.
    """
    candles = data.candles.assign(date=pd.to_datetime(data.candles["date"], utc=True))
    labels = setup.label_frame(candles).assign(date=candles["date"].to_numpy())
    joined = data.predictions.merge(labels, on="date", how="left", suffixes=("", "_label"))
    joined = joined.merge(candles[["date", "close"]], on="date", how="left")
    trusted = joined["do_predict"] == 1 if "do_predict" in joined else True
    return joined.loc[trusted].reset_index(drop=True), _label_of(setup)


def model_quality_rows(
    frame: pd.DataFrame, label_of: dict[str, str], pair: str, window: str
) -> list[dict[str, object]]:
    """AUC, average precision and Brier score of each score column on ``frame``'s rows."""
    rows: list[dict[str, object]] = []
    for column, label in label_of.items():
        known = frame[label].notna() & frame[column].notna()
        y = frame.loc[known, label].astype(bool).to_numpy()
        p = frame.loc[known, column].to_numpy(dtype="float64")
        rows.append(
            {
                "pair": pair,
                "window": window,
                "model": column,
                "candles": len(y),
                "positive_%": 100.0 * float(y.mean()) if len(y) else math.nan,
                "auc": metrics.roc_auc(y, p),
                "avg_precision": metrics.average_precision(y, p),
                "brier": metrics.brier_score(y, p),
            }
        )
    return rows


def _window_name(window: pd.Timestamp) -> str:
    return window.strftime("%Y-%m-%d")


def _trade_score(setup: ITBSetup, predictions: pd.DataFrame) -> pd.Series:
    scores = predictions.reindex(columns=setup.score_columns)
    return setup.trade_score(scores, setup.default_overrides())


def _levels(
    setup: ITBSetup, data: PairData, signals: PairSignals | None, overrides: SignalOverrides
) -> pd.DataFrame:
    preds = data.predictions
    if signals is None:
        score = _trade_score(setup, preds).to_numpy()
    else:  # the score the backtest traded on (the signal stage over the strategy's frame)
        backtested = pd.Series(signals.trade_score, index=signals.candles["date"])
        score = backtested.reindex(pd.DatetimeIndex(preds["date"])).to_numpy()
    out = pd.DataFrame(
        {
            "pair": data.pair,
            "date": preds["date"].to_numpy(),
            "window": preds["window"].to_numpy(),
            "trade_score": score,
        }
    )
    fixed = {"buy_threshold": overrides.buy_threshold, "sell_threshold": overrides.sell_threshold}
    for column in LEVEL_COLUMNS:
        out[column] = preds[column].to_numpy() if column in preds else fixed[column]
    return out


def _importance(setup: ITBSetup, data: PairData, label_of: dict[str, str]) -> pd.DataFrame:
    if not data.models:
        return pd.DataFrame(columns=["pair", "window", "feature", "auc_drop", "model_feature"])
    candles = data.candles.assign(date=pd.to_datetime(data.candles["date"], utc=True))
    # Features are causal: recomputing them on the full history gives the values the backtest
    # fed the model.
    features = setup.feature_frame(candles).set_index(candles["date"])
    labels = setup.label_frame(candles).set_index(candles["date"])
    rows = []
    for model in data.models:
        in_window = data.predictions["window"] == model.window
        if "do_predict" in data.predictions:
            in_window &= data.predictions["do_predict"] == 1
        dates = pd.DatetimeIndex(data.predictions.loc[in_window, "date"])
        if model.features and not set(model.features) <= set(features.columns):
            continue
        X = features.reindex(dates)[model.features]
        known = labels.reindex(dates)[list(setup.labels)].notna().all(axis=1).to_numpy()
        X = X.loc[known]
        y = {c: labels.reindex(X.index)[lb].astype(bool).to_numpy() for c, lb in label_of.items()}
        if len(X) < 10:
            continue
        if model.importance is not None:
            drops = model.importance
        else:
            drops = permutation_importance(model.predict, X, y, seed=setup.seed)
        for feature, drop in drops.items():
            rows.append(
                {
                    "pair": data.pair,
                    "window": _window_name(model.window),
                    "feature": str(feature).removeprefix("%-"),
                    "auc_drop": float(drop),
                    "model_feature": str(feature),
                }
            )
    return pd.DataFrame(rows, columns=["pair", "window", "feature", "auc_drop", "model_feature"])


def trading_tables(
    candles: Mapping[str, pd.DataFrame],
    backtest: BacktestResult,
    fee: float,
    slippage: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily equity and drawdown of the strategy and of buy-and-hold over the backtest's
    period, and the trading metrics of both after fees.

    :param candles: per pair, the candles (``date``, ``open``, ``close``).
    :param backtest: the backtest's trades (they carry their own fees).
    :param fee: fee per side that buy-and-hold pays.
    :param slippage: price moved against each of buy-and-hold's fills.
    :return: ``(equity, trading)``: ``date``, ``strategy``, ``buy_and_hold`` and their
        drawdowns; one row per curve (``strategy``, ``buy_and_hold``) of
        :func:`~itb_ext.evaluation.metrics.trading_metrics`.
    """
    period = backtest.period
    start = backtest.starting_balance
    strategy = metrics.account(backtest.closed_trades(), candles, period, start)
    hold = metrics.buy_and_hold(candles, period, start, fee, slippage)
    equity = pd.DataFrame(
        {
            "date": strategy.equity.index,
            "strategy": strategy.equity.to_numpy(),
            "buy_and_hold": hold.equity.to_numpy(),
            "strategy_drawdown": metrics.drawdown(strategy.equity),
            "buy_and_hold_drawdown": metrics.drawdown(hold.equity),
        }
    )
    trading = pd.DataFrame(
        [
            {"curve": "strategy", **strategy.metrics()},
            {"curve": "buy_and_hold", **hold.metrics()},
        ]
    )
    return equity, trading


def _direction_rows(
    data: PairData, pair_levels: pd.DataFrame, horizon: int
) -> list[dict[str, object]]:
    candles = data.candles.assign(date=pd.to_datetime(data.candles["date"], utc=True))
    up = metrics.forward_return_up(candles["close"].to_numpy(), horizon)
    future = pd.Series(up.to_numpy(), index=candles["date"])
    trusted = (data.predictions.get("do_predict", pd.Series(1)) == 1).to_numpy()
    graded = pair_levels.loc[trusted].assign(
        up=future.reindex(pair_levels.loc[trusted, "date"]).to_numpy()
    )
    graded = graded[graded["up"].notna()]
    rows: list[dict[str, object]] = []
    for window, part in [
        *((_window_name(w), p) for w, p in graded.groupby("window", sort=True)),
        (OVERALL, graded),
    ]:
        s = part["trade_score"].to_numpy(dtype="float64")
        ok = np.isfinite(s)
        rows.append(
            {
                "pair": data.pair,
                "window": window,
                "candles": int(ok.sum()),
                "up_%": 100.0 * float(part["up"][ok].astype(bool).mean()) if ok.any() else 0,
                "auc": metrics.roc_auc(part["up"][ok].astype(bool).to_numpy(), s[ok]),
            }
        )
    return rows


def _reliability(setup: ITBSetup, pooled: Sequence[pd.DataFrame]) -> pd.DataFrame:
    all_graded = pd.concat(pooled, ignore_index=True)
    curves = []
    for column, label in _label_of(setup).items():
        known = all_graded[label].notna() & all_graded[column].notna()
        curve = metrics.reliability_curve(
            all_graded.loc[known, label].astype(bool).to_numpy(),
            all_graded.loc[known, column].to_numpy(dtype="float64"),
        )
        curves.append(curve.assign(model=column))
    return pd.concat(curves, ignore_index=True)


def _pair_signals(
    setup: ITBSetup,
    pairs: Sequence[PairData],
    backtest: BacktestResult | None,
    settings: EdgeSettings | None,
) -> dict[str, PairSignals]:
    if backtest is None or settings is None:
        return {}
    return {
        d.pair: backtested_signals(
            setup, settings, d.candles, d.predictions, backtest.period, len(pairs)
        )
        for d in pairs
    }


def _edges(
    signals: Mapping[str, PairSignals], backtest: BacktestResult, settings: EdgeSettings
) -> tuple[PairEdge, ...]:
    trades = backtest.closed_trades()
    share = backtest.starting_balance / len(signals)
    return tuple(
        pair_edge(
            pair,
            pair_signals,
            [t for t in trades if t.pair == pair],
            backtest.period,
            share,
            settings,
        )
        for pair, pair_signals in signals.items()
    )


def build_report(
    setup: ITBSetup,
    pairs: Sequence[PairData],
    backtest: BacktestResult | None,
    fee: float,
    horizon: int | None = None,
    *,
    settings: EdgeSettings | None = None,
    header: Sequence[str] = (),
    currency: str = "",
) -> Report:
    """Every table of the walk-forward report.

    :param setup: the ``itb`` section the backtest ran with.
    :param pairs: per pair, candles, stored predictions and models.
    :param backtest: the backtest's trades (None: no trading section).
    :param fee: fee per side, for buy-and-hold (the backtest's own trades carry theirs).
    :param horizon: candles of the directional test (default: the labels' horizon, else 24).
    :param settings: the backtest's signal parameters, costs and luck-test settings: with a
        backtest, the per-pair edge (:mod:`itb_ext.evaluation.edge`) is computed, and
        ``trade_score`` is the score the backtest traded on. None: no edge section.
    :param header: lines naming what the report covers.
    :param currency: the stake currency, for the edge's wallet.
    """
    horizon = horizon or (settings.horizon if settings else None) or setup.label_horizon() or 24
    overrides = settings.overrides if settings else setup.default_overrides()
    signals = _pair_signals(setup, pairs, backtest, settings)
    notes: list[str] = []
    quality_rows: list[dict[str, object]] = []
    pooled: list[pd.DataFrame] = []
    direction_rows: list[dict[str, object]] = []
    importance = []
    levels = []
    for data in pairs:
        graded, label_of = graded_predictions(setup, data)
        pooled.append(graded)
        for window, part in graded.groupby("window", sort=True):
            quality_rows += model_quality_rows(part, label_of, data.pair, _window_name(window))
        quality_rows += model_quality_rows(graded, label_of, data.pair, OVERALL)
        pair_levels = _levels(setup, data, signals.get(data.pair), overrides)
        levels.append(pair_levels)
        direction_rows += _direction_rows(data, pair_levels, horizon)
        imp = _importance(setup, data, label_of)
        if imp.empty:
            notes.append(
                f"{data.pair}: no stored models per window, so no permutation importance "
                "(set freqai.save_backtest_models: true)"
            )
        importance.append(imp)
    slippage = settings.costs.slippage if settings else 0.0
    edges: tuple[PairEdge, ...] = ()
    context = None
    if backtest is not None:
        candles = {d.pair: d.candles for d in pairs}
        equity, trading = trading_tables(candles, backtest, fee, slippage)
        if settings is not None:
            edges = _edges(signals, backtest, settings)
            context = EdgeContext(backtest.period, settings, backtest.starting_balance, currency)
    else:
        equity, trading = pd.DataFrame(), pd.DataFrame()
        notes.append("no backtest result: no equity curve or trading metrics")
    return Report(
        quality=pd.DataFrame(quality_rows),
        reliability=_reliability(setup, pooled),
        direction=pd.DataFrame(direction_rows),
        importance=pd.concat(importance, ignore_index=True),
        levels=pd.concat(levels, ignore_index=True),
        equity=equity,
        trading=trading,
        horizon=horizon,
        notes=notes,
        fee=fee if backtest is not None else None,
        edges=edges,
        edge_context=context,
        header=tuple(header),
        slippage=slippage,
    )


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def trading_heading(fee: float | None, slippage: float = 0.0) -> str:
    """What the trading table holds, with the fee (and slippage) buy-and-hold paid."""
    paid = f"{fee:.2%} per side" if fee is not None else "the configured fee"
    if slippage:
        paid += f" and slippage {slippage:.2%} per fill"
    return (
        f"Trading, after fees (walk-forward backtest; buy_and_hold after fees of {paid}: "
        "bought at the first open, sold at the last close; equity marked daily at 00:00 UTC)"
    )


def edge_section(report: Report) -> str:
    """The per-pair edge as the demo prints it (empty without one)."""
    if not report.edges or report.edge_context is None:
        return ""
    return edge_text(report.edges, report.edge_context)


def summary_text(report: Report) -> str:
    """The report as plain text: what it covers, the edge per pair, the overall tables,
    per-window tables and notes."""
    q = report.quality
    overall = q[q["window"] == OVERALL].drop(columns="window")
    lines = [
        "Walk-forward report (every figure out of sample: each window predicted by a model "
        "trained only before it)",
        *report.header,
    ]
    if edge := edge_section(report):
        lines += ["", "== Edge per pair", edge.rstrip("\n")]
    lines += [
        "",
        "== Model quality, all windows",
        overall.to_string(index=False, float_format=_fmt, na_rep=NA),
        "",
        f"mean out-of-sample AUC over {len(overall)} models: {overall['auc'].mean():.3f}",
        "",
        f"== Direction: trade_score AUC against the sign of the {report.horizon}-candle return",
        report.direction.to_string(index=False, float_format=_fmt, na_rep=NA),
        "",
        "== Model quality per window",
        q[q["window"] != OVERALL].to_string(index=False, float_format=_fmt, na_rep=NA),
    ]
    if not report.trading.empty:
        lines += [
            "",
            f"== {trading_heading(report.fee, report.slippage)}",
            report.trading.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep=NA),
        ]
    if not report.importance.empty:
        top = (
            report.importance.groupby("feature")["auc_drop"]
            .mean()
            .sort_values(ascending=False)
            .head(10)
        )
        lines += [
            "",
            "== Permutation importance, mean AUC drop over windows (top 10)",
            top.to_string(float_format=_fmt),
        ]
    if report.notes:
        lines += ["", "== Notes", *report.notes]
    return "\n".join(lines) + "\n"
