"""``itblib`` (legacy) feature generator: aggregations relative to a base window (spec b.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.config.features import ITBLIB_FUNCTIONS, ItblibConfig
from itb_ext.features.rolling import (
    FloatArray,
    column_values,
    percent_change,
    rolling_area,
    rolling_nanmean,
    rolling_nanstd,
    rolling_slope,
)
from itb_ext.pipeline.frames import require_columns

GENERATOR = "itblib"


def _relative(feature: FloatArray, base: FloatArray) -> FloatArray:
    """``100 * (A - B) / B`` in ITB's order of operations (B = 0 gives ``±inf``/NaN, as ITB)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(100.0 * (feature - base) / base, dtype=np.float64)


def _weighted_mean(values: FloatArray, weights: FloatArray, window: int) -> FloatArray:
    """``nanmean(values * weights) / nanmean(weights)`` over each window."""
    with np.errstate(invalid="ignore"):
        products = values * weights
    with np.errstate(divide="ignore", invalid="ignore"):
        return rolling_nanmean(products, window) / rolling_nanmean(weights, window)


def generate_itblib(df: pd.DataFrame, cfg: ItblibConfig) -> pd.DataFrame:
    """Compute the ``itblib`` features of one config entry (names without the caller's prefix).

    With ``use_differences`` the close, volume and trades columns become percent changes first
    (NaN in row 0). A zero previous value (zero volume) gives ``±inf``; as in ITB, whose pandas
    rolling windows turn ``±inf`` into NaN, it then counts as a missing value in every window
    (it does not make the following rows NaN). No interpolation: a NaN row makes its own and the
    next percent change NaN.

    :param df: candles (any index; rows are used by position).
    :param cfg: the validated entry.
    :return: the new columns in ITB's order (:meth:`ItblibConfig.output_columns`), float64.
    :raises DataError: naming every input column the requested functions need but ``df`` lacks
        (``trades`` only for ``trades_SMA``, ``tb_base_av`` only for ``tb_base_SMA``).
    """
    require_columns(df, cfg.input_columns(), GENERATOR)
    raw = {c: column_values(df, c, GENERATOR) for c in cfg.input_columns()}
    series = dict(raw)
    if cfg.use_differences:
        for c in ("close", "volume", "trades"):
            if c in series:
                series[c] = percent_change(series[c])

    base = cfg.base_window
    columns: dict[str, FloatArray] = {}

    def relative_family(stem: str, values: FloatArray, kind: str) -> None:
        aggregate = rolling_nanstd if kind == "std" else rolling_nanmean
        base_values = aggregate(values, base)
        for w in cfg.windows:
            columns[f"{stem}_{w}"] = _relative(aggregate(values, w), base_values)

    for function in cfg.selected_functions():
        stem = ITBLIB_FUNCTIONS[function][0]
        if function == "close_WMA":
            base_values = _weighted_mean(series["close"], series["volume"], base)
            for w in cfg.windows:
                wma = _weighted_mean(series["close"], series["volume"], w)
                columns[f"{stem}_{w}"] = _relative(wma, base_values)
        elif function == "close_STD":
            relative_family(stem, series["close"], "std")
        elif function == "volume_SMA":
            relative_family(stem, series["volume"], "mean")
        elif function == "span_SMA":
            relative_family(stem, raw["high"] - raw["low"], "mean")
        elif function == "trades_SMA":
            relative_family(stem, series["trades"], "mean")
        elif function == "tb_base_SMA":
            # spec b.3: taker-buy share of the (raw) volume
            with np.errstate(divide="ignore", invalid="ignore"):
                share = raw["tb_base_av"] / raw["volume"]
            relative_family(stem, share, "mean")
        elif function == "close_AREA":
            for w in cfg.windows:
                columns[f"{stem}_{w}"] = rolling_area(series["close"], w)
        else:  # close_SLOPE, volume_SLOPE
            source = series["close" if function == "close_SLOPE" else "volume"]
            for w in cfg.windows:
                # ITB fits a line through the finite points of the window (pandas has turned
                # ±inf into NaN); one point has no slope, so zero-volume runs give NaN, as ITB
                columns[f"{stem}_{w}"] = rolling_slope(source, w, few_points=np.nan)
    return pd.DataFrame(columns, index=df.index, dtype=np.float64)
