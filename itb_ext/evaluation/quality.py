"""Out-of-sample evaluation of walk-forward predictions: model quality and buy-and-hold."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from itb_ext.errors import DataError


def read_backtest_predictions(model_dir: Path, pairs: Sequence[str]) -> dict[str, pd.DataFrame]:
    """FreqAI's stored walk-forward predictions, one frame per pair, ordered by date.

    Each file holds the predictions for one backtest window, made by the model trained on the
    window before it, so every row is out of sample.

    :param model_dir: ``user_data/models/<identifier>``.
    :param pairs: the pairs to read.
    """
    folder = model_dir / "backtesting_predictions"
    out = {}
    for pair in pairs:
        base = pair.split("/")[0].lower()
        files = sorted(folder.glob(f"cb_{base}_*_prediction.feather"))
        if not files:
            raise DataError(f"{folder}: no stored predictions for {pair}")
        frame = pd.concat([pd.read_feather(f) for f in files], ignore_index=True)
        out[pair] = frame.sort_values("date").drop_duplicates("date", keep="last")
    return out


def model_quality(
    predictions: pd.DataFrame, labels: pd.DataFrame, score_columns: Sequence[str], pair: str
) -> pd.DataFrame:
    """AUC and average precision of every score column against its label.

    Only candles with a known label and a trusted prediction (``do_predict == 1``) count.

    :param predictions: stored predictions with ``date``, ``do_predict`` and the score columns.
    :param labels: boolean labels with a ``date`` column (NA where unknown).
    :param score_columns: ``<label>_<algorithm>`` columns to evaluate.
    :param pair: shown in the table.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    joined = predictions.merge(labels, on="date", how="inner")
    rows = []
    for column in score_columns:
        label = next(lb for lb in labels.columns if lb != "date" and column.startswith(f"{lb}_"))
        ok = joined[label].notna() & (joined["do_predict"] == 1) & joined[column].notna()
        y = joined.loc[ok, label].astype(bool).to_numpy()
        p = joined.loc[ok, column].to_numpy(dtype="float64")
        both = 0 < y.sum() < len(y)
        rows.append(
            {
                "pair": pair,
                "model": column,
                "candles": int(ok.sum()),
                "positive_%": 100.0 * float(y.mean()) if len(y) else np.nan,
                "auc": roc_auc_score(y, p) if both else np.nan,
                "avg_precision": average_precision_score(y, p) if both else np.nan,
            }
        )
    return pd.DataFrame(rows)


def buy_and_hold(
    candles: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp], pair: str
) -> dict[str, object]:
    """Return of holding the pair from the first to the last close of ``period``."""
    dates = pd.to_datetime(candles["date"], utc=True)
    inside = candles[(dates >= period[0]) & (dates < period[1])]
    if inside.empty:
        raise DataError(f"{pair}: no candles between {period[0]} and {period[1]}")
    first, last = float(inside["close"].iloc[0]), float(inside["close"].iloc[-1])
    return {
        "pair": pair,
        "first_close": first,
        "last_close": last,
        "buy_and_hold_%": 100.0 * (last / first - 1.0),
    }
