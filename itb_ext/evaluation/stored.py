"""The one reader of what a FreqAI walk-forward backtest left on disk: predictions per window,
the model of each window, and FreqTrade's backtest result. No FreqTrade import: plain files."""

from __future__ import annotations

import json
import math
import pickle
import re
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.data.files import write_atomically
from itb_ext.errors import DataError
from itb_ext.evaluation.metrics import Trade

_PREDICTION_FILE = re.compile(r"cb_(?P<coin>[a-z0-9]+)_(?P<ts>\d+)_prediction\.feather$")


def pair_coin(pair: str) -> str:
    """FreqAI's file prefix of a pair (``BTC/USD`` -> ``btc``)."""
    return pair.split("/")[0].lower()


def backtest_windows(
    period: tuple[pd.Timestamp, pd.Timestamp], backtest_period_days: float
) -> list[pd.Timestamp]:
    """The starts of the windows FreqAI predicts in a backtest of ``period``: the period's start,
    then every ``backtest_period_days`` days while before its stop (as FreqAI splits the
    timerange; its stored predictions are named by these starts).

    :raises DataError: for a window length that is not positive.
    """
    if not backtest_period_days > 0:
        raise DataError(f"backtest_period_days must be > 0, got {backtest_period_days!r}")
    step = pd.Timedelta(days=backtest_period_days)
    starts = []
    start = period[0]
    while start < period[1]:
        starts.append(start)
        start += step
    return starts


def read_window_predictions(
    model_dir: Path, pair: str, windows: Collection[pd.Timestamp] | None = None
) -> pd.DataFrame:
    """FreqAI's stored walk-forward predictions of ``pair``, with the start of the window each
    row belongs to in a ``window`` column.

    A window's rows are predicted by the model trained on the period just before its start.

    :param model_dir: ``user_data/models/<identifier>``.
    :param windows: read only the windows starting at these times (those of one backtest, see
        :func:`backtest_windows`); another backtest with the same identifier may have left
        windows of its own beside them. None: every stored window.
    :raises DataError: when there are no stored predictions for the pair (in ``windows``).
    """
    folder = model_dir / "backtesting_predictions"
    wanted = None if windows is None else {pd.Timestamp(w).timestamp() for w in windows}
    parts = []
    for path in sorted(folder.glob(f"cb_{pair_coin(pair)}_*_prediction.feather")):
        found = _PREDICTION_FILE.search(path.name)
        if found is None or (wanted is not None and int(found["ts"]) not in wanted):
            continue
        frame = pd.read_feather(path)
        frame["window"] = pd.Timestamp(int(found["ts"]), unit="s", tz="UTC")
        parts.append(frame)
    if not parts:
        chosen = "" if windows is None else " in the backtest's windows"
        raise DataError(f"{folder}: no stored predictions for {pair}{chosen}")
    frame = pd.concat(parts, ignore_index=True)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    frame = frame.sort_values(["date", "window"]).drop_duplicates("date", keep="last")
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class StoredModel:
    """One window's trained models and FreqAI's feature transformation.

    :param window: start of the window the model predicts.
    :param features: FreqAI feature names (``%-...``) in the model's order.
    :param predict: raw ``%-`` features -> probability columns (FreqAI's scaling applied).
    :param folder: where FreqAI keeps the window's model.
    :param importance: permutation importance computed by an earlier report (None: compute).
    """

    window: pd.Timestamp
    features: list[str]
    predict: Callable[[pd.DataFrame], pd.DataFrame]
    folder: Path | None = None
    importance: pd.Series | None = None


def read_stored_models(model_dir: Path, pair: str, seed: int = 0) -> list[StoredModel]:
    """The models FreqAI kept per window (``save_backtest_models: true``), oldest first.

    Empty when the backtest did not keep its models.

    :param seed: seed of the permutation importance an earlier report may have kept.
    """
    models = []
    prefix = f"sub-train-{pair.split('/')[0].upper()}_"
    for folder in sorted(model_dir.glob(f"{prefix}*")):
        stem = f"cb_{pair_coin(pair)}_{folder.name[len(prefix) :]}"
        model_file = folder / f"{stem}_model.joblib"
        pipeline_file = folder / f"{stem}_feature_pipeline.pkl"
        if not (model_file.is_file() and pipeline_file.is_file()):
            continue
        # Written by FreqAI for this project's model class; loaded as the backtest loads it.
        with model_file.open("rb") as fp:
            model = pickle.load(fp)
        with pipeline_file.open("rb") as fp:
            pipeline = pickle.load(fp)
        window = pd.Timestamp(int(folder.name[len(prefix) :]), unit="s", tz="UTC")
        models.append(
            StoredModel(
                window,
                list(model.features),
                _predictor(model, pipeline),
                folder,
                _cached_importance(folder / IMPORTANCE_FILE, model_file, seed),
            )
        )
    return models


IMPORTANCE_FILE = "itb_importance.json"


def _cached_importance(path: Path, model_file: Path, seed: int) -> pd.Series | None:
    # Valid only for this very model and seed: a retrained window writes a newer model file.
    if not path.is_file() or path.stat().st_mtime < model_file.stat().st_mtime:
        return None
    try:
        record = json.loads(path.read_text())
    except ValueError:
        return None
    if record.get("seed") != seed:
        return None
    return pd.Series(record["auc_drop"], dtype="float64")


def write_importance_cache(folder: Path, importance: pd.Series, seed: int) -> None:
    """Keep a window's permutation importance beside its model for the next report."""
    record = {"seed": seed, "auc_drop": {str(k): float(v) for k, v in importance.items()}}
    write_atomically(folder / IMPORTANCE_FILE, json.dumps(record, indent=1))


def _predictor(model: Any, pipeline: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def predict(features: pd.DataFrame) -> pd.DataFrame:
        transformed, _, _ = pipeline.transform(features[model.features], outlier_check=False)
        out: pd.DataFrame = model.predict(transformed.reset_index(drop=True))
        out.index = features.index
        return out

    return predict


def timeframe_length(timeframe: str) -> pd.Timedelta:
    """The length of one candle of a FreqTrade timeframe (``5m``, ``1h``, ``4h``, ``1d``)."""
    try:
        return pd.Timedelta(timeframe.replace("m", "min") if timeframe.endswith("m") else timeframe)
    except ValueError:
        raise DataError(f"unknown timeframe '{timeframe}'") from None


@dataclass(frozen=True)
class BacktestResult:
    """The trades of one strategy in a FreqTrade backtest result.

    :param trades: one row per trade as FreqTrade exports it (``pair``, ``open_date``,
        ``close_date``, ``amount``, ``open_rate``, ``close_rate``, ``stake_amount``,
        ``fee_open``, ``profit_ratio``, ``profit_abs``, ...), profits after fees.
    :param starting_balance: the wallet at the start.
    :param fee: the entry fee of the first trade (the config's fee when there are none).
    :param start: first backtested candle.
    :param end: last backtested candle (its open time).
    :param pairs: the pairs the backtest traded.
    :param timeframe: the candles' timeframe (``1h``); None when the result does not say.
    """

    trades: pd.DataFrame
    starting_balance: float
    fee: float | None
    start: pd.Timestamp
    end: pd.Timestamp
    pairs: tuple[str, ...] = ()
    timeframe: str | None = None

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``[start, stop)`` of the backtested candles: the last candle is included (as
        FreqTrade includes it), so the stop is one candle after :attr:`end`."""
        step = timeframe_length(self.timeframe) if self.timeframe else pd.Timedelta(0)
        return self.start, self.end + step

    def closed_trades(self) -> list[Trade]:
        """The trades as :class:`~itb_ext.evaluation.metrics.Trade`, in closing order (a short
        has a negative amount)."""
        if self.trades.empty:
            return []
        trades = []
        for t in self.trades.sort_values("close_date", kind="stable").to_dict("records"):
            flag = t.get("is_short", False)
            short = bool(flag) if pd.notna(flag) else False
            trades.append(
                Trade(
                    pair=str(t["pair"]),
                    open_date=pd.Timestamp(t["open_date"]),
                    close_date=pd.Timestamp(t["close_date"]),
                    amount=float(t["amount"]) * (-1.0 if short else 1.0),
                    open_rate=float(t["open_rate"]),
                    profit_abs=float(t["profit_abs"]),
                    profit_ratio=float(t["profit_ratio"]),
                    entry_fee=float(t["stake_amount"]) * float(t["fee_open"]),
                    close_rate=float(t.get("close_rate", math.nan)),
                    exit_reason=str(t.get("exit_reason", "")),
                )
            )
        return trades


def read_backtest_stats(path: Path) -> dict[str, Any]:
    """The whole statistics file of a FreqTrade backtest result: a ``.zip`` file, or a folder
    whose ``.last_result.json`` names the newest one.

    :raises DataError: when there is no result.
    """
    archive = path
    if path.is_dir():
        last = path / ".last_result.json"
        if not last.is_file():
            raise DataError(f"{path}: no backtest result in this folder (no .last_result.json)")
        archive = path / json.loads(last.read_text())["latest_backtest"]
    if not archive.is_file():
        raise DataError(f"{archive}: backtest result not found")
    try:
        with zipfile.ZipFile(archive) as bundle:
            stats: dict[str, Any] = json.loads(bundle.read(f"{archive.stem}.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DataError(f"{archive}: not a FreqTrade backtest result ({exc})") from None
    return stats


def read_backtest_result(path: Path, strategy: str | None = "ITBStrategy") -> BacktestResult:
    """Trades of ``strategy`` from a backtest result (see :func:`read_backtest_stats`).

    :param strategy: the strategy's name; None: the only strategy of the result.
    :raises DataError: when the result, or the strategy in it, is missing.
    """
    results: dict[str, Any] = read_backtest_stats(path).get("strategy", {})
    if strategy is None:
        if len(results) != 1:
            raise DataError(f"{path}: {len(results)} strategies in the result, name one")
        strategy = next(iter(results))
    if strategy not in results:
        raise DataError(f"{path}: no result of strategy {strategy}")
    result = results[strategy]
    trades = pd.DataFrame(result["trades"])
    for column in ("open_date", "close_date"):
        if column in trades:
            trades[column] = pd.to_datetime(trades[column], utc=True)
    fee = float(trades["fee_open"].iloc[0]) if len(trades) and "fee_open" in trades else None
    return BacktestResult(
        trades=trades,
        starting_balance=float(result["starting_balance"]),
        fee=fee,
        start=pd.Timestamp(result["backtest_start"], tz="UTC"),
        end=pd.Timestamp(result["backtest_end"], tz="UTC"),
        pairs=tuple(result.get("pairlist", ())),
        timeframe=result.get("timeframe"),
    )


def fill_missing_candles(candles: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """The candles as FreqTrade hands them to the strategy: a missing candle becomes a flat one
    at the previous close with zero volume, so recomputed features match the backtest's.

    :param timeframe: e.g. ``1h``, ``30m``, ``4h``, ``1d``.
    """
    step = timeframe_length(timeframe)
    frame = candles.assign(date=pd.to_datetime(candles["date"], utc=True)).set_index("date")
    grid = pd.date_range(frame.index.min(), frame.index.max(), freq=step)
    full = frame.reindex(grid)
    missing = full["close"].isna()
    full["close"] = full["close"].ffill()
    for column in ("open", "high", "low"):
        full[column] = full[column].fillna(full["close"])
    full.loc[missing, "volume"] = 0.0
    return full.rename_axis("date").reset_index()
