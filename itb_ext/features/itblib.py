"""``itblib`` (legacy) feature generator: aggregations relative to a base window (spec b.3)."""

from __future__ import annotations

from collections.abc import Callable

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
#: The inputs ``use_differences`` turns into percent changes.
DIFFERENCED = ("close", "volume", "trades")


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
    series = _differenced(raw) if cfg.use_differences else raw
    columns: dict[str, FloatArray] = {}
    for function in cfg.selected_functions():
        stem = ITBLIB_FUNCTIONS[function][0]
        values = _function_values(function, series, raw, cfg)
        for window, column in zip(cfg.windows, values, strict=True):
            columns[f"{stem}_{window}"] = column
    return pd.DataFrame(columns, index=df.index, dtype=np.float64)


def _differenced(raw: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """The inputs with close, volume and trades as percent changes; the others as they are."""
    return {c: percent_change(v) if c in DIFFERENCED else v for c, v in raw.items()}


def _relative_to_base(
    values: FloatArray, aggregate: Callable[[FloatArray, int], FloatArray], cfg: ItblibConfig
) -> list[FloatArray]:
    """``aggregate`` over each window relative to the same aggregate over the base window."""
    base = aggregate(values, cfg.base_window)
    return [_relative(aggregate(values, w), base) for w in cfg.windows]


def _taker_buy_share(raw: dict[str, FloatArray]) -> FloatArray:
    """spec b.3: the taker-buy share of the (raw, never differenced) volume."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return raw["tb_base_av"] / raw["volume"]


def _function_values(
    function: str, series: dict[str, FloatArray], raw: dict[str, FloatArray], cfg: ItblibConfig
) -> list[FloatArray]:
    """One ``itblib`` function's values, one array per window of ``cfg.windows``.

    :param series: the inputs after ``use_differences``; :param raw: the inputs as given.
    """
    if function == "close_WMA":
        close, volume = series["close"], series["volume"]
        base = _weighted_mean(close, volume, cfg.base_window)
        return [_relative(_weighted_mean(close, volume, w), base) for w in cfg.windows]
    if function == "close_STD":
        return _relative_to_base(series["close"], rolling_nanstd, cfg)
    if function == "volume_SMA":
        return _relative_to_base(series["volume"], rolling_nanmean, cfg)
    if function == "span_SMA":
        return _relative_to_base(raw["high"] - raw["low"], rolling_nanmean, cfg)
    if function == "trades_SMA":
        return _relative_to_base(series["trades"], rolling_nanmean, cfg)
    if function == "tb_base_SMA":
        return _relative_to_base(_taker_buy_share(raw), rolling_nanmean, cfg)
    if function == "close_AREA":
        return [rolling_area(series["close"], w) for w in cfg.windows]
    # close_SLOPE, volume_SLOPE: ITB fits a line through the finite points of the window (pandas
    # has turned ±inf into NaN); one point has no slope, so zero-volume runs give NaN, as ITB
    source = series["close" if function == "close_SLOPE" else "volume"]
    return [rolling_slope(source, w, few_points=np.nan) for w in cfg.windows]
