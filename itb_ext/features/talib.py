"""``talib`` feature generator: TA-Lib functions over interpolated input columns (spec b.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from itb_ext.config.features import TalibConfig
from itb_ext.errors import ConfigError
from itb_ext.features.relative import to_relative
from itb_ext.features.rolling import FloatArray, column_values, interpolate_gaps
from itb_ext.pipeline.frames import require_columns

GENERATOR = "talib"


#: Fixed-window functions computed here window by window instead of by TA-Lib.
WINDOW_STATISTICS = frozenset({"SMA", "STDDEV", "VAR", "LINEARREG_SLOPE"})
_ROWS_PER_BLOCK = 4096


def window_statistic(function: str, values: FloatArray, window: int) -> FloatArray:
    """``SMA``, ``STDDEV`` (population), ``VAR`` or ``LINEARREG_SLOPE`` from each window alone.

    TA-Lib computes these with running sums carried from the first row, so their last digits
    depend on where the series starts: a model trained on a frame that starts one candle later
    sees slightly different features (a tree model can then split differently, which FreqTrade's
    ``recursive-analysis`` reports). Here every value is a function of its own ``window`` values
    only: the same candle gets the same bits whatever history precedes it. Values agree with
    TA-Lib to rounding; the first ``window - 1`` rows and windows holding a NaN are NaN.

    :param function: one of :data:`WINDOW_STATISTICS`.
    :param values: the input series.
    :param window: rows per window (>= 1).
    """
    n = len(values)
    out = np.full(n, np.nan)
    if window > n:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(values, window)
    offsets = np.arange(window, dtype=np.float64) - (window - 1) / 2.0
    spread = float(offsets @ offsets)
    for start in range(0, len(windows), _ROWS_PER_BLOCK):
        block = windows[start : start + _ROWS_PER_BLOCK]
        mean = block.mean(axis=1)
        if function == "SMA":
            result = mean
        elif function == "LINEARREG_SLOPE":
            # element-wise products summed per row (not a BLAS product, whose kernels vary
            # with the number of rows)
            result = ((block - mean[:, None]) * offsets).sum(axis=1) / spread
        else:
            variance = ((block - mean[:, None]) ** 2).mean(axis=1)
            result = variance if function == "VAR" else np.sqrt(variance)
        out[window - 1 + start : window - 1 + start + len(block)] = result
    return out


def _call(
    cfg: TalibConfig, function: str, window: int | None, inputs: dict[str, FloatArray]
) -> list[FloatArray]:
    """One TA-Lib call; the outputs as a list (one element for single-output functions)."""
    if cfg.returns_input(function, window):
        # ITB's special case: window 1 on one input is the (interpolated) input itself
        return [next(iter(inputs.values())).copy()]
    args = [inputs[arg] for arg, _ in cfg.column_args(function)]
    params = cfg.call_parameters(window)
    if window and len(args) == 1 and function in WINDOW_STATISTICS:
        extra = {k: v for k, v in params.items() if k != "timeperiod"}
        if set(extra) <= {"nbdev"}:
            values = window_statistic(function, args[0], int(window))
            return [values * float(extra.get("nbdev", 1.0))]
    try:
        out = getattr(talib, function)(*args, **cfg.call_parameters(window))
    except Exception as exc:  # TA-Lib raises plain Exception on bad parameters
        raise ConfigError(
            f"{GENERATOR}: TA-Lib {function} (window {window}) failed: {exc}"
        ) from None
    outs = out if isinstance(out, tuple) else (out,)
    return [np.asarray(o, dtype=np.float64) for o in outs]


def generate_talib(df: pd.DataFrame, cfg: TalibConfig) -> pd.DataFrame:
    """Compute the ``talib`` features of one config entry.

    Every input column is linearly interpolated first, as ITB does (a NaN would otherwise turn
    every later TA-Lib value into NaN). This reads the next valid value inside gaps (look-ahead,
    spec j.4); it is kept for parity. TA-Lib then runs over the whole series: values of unstable
    functions (EMA, RSI, ATR ...) depend on where ``df`` starts.

    :param df: candles (any index; rows are used by position).
    :param cfg: the validated entry.
    :return: the new columns (named as :meth:`TalibConfig.output_columns`), float64, same index.
    :raises DataError: if an input column is missing or not numeric.
    :raises ConfigError: if TA-Lib rejects a call.
    """
    require_columns(df, cfg.input_columns(), GENERATOR)
    series = {c: interpolate_gaps(column_values(df, c, GENERATOR)) for c in cfg.input_columns()}
    columns: dict[str, FloatArray] = {}
    for function in cfg.functions:
        inputs = {arg: series[col] for arg, col in cfg.column_args(function)}
        names = cfg.function_output_columns(function)
        per_window = [_call(cfg, function, w, inputs) for w in cfg.windows]
        # relative post-processing pairs the same TA-Lib output across the windows
        for o in range(len(names[0])):
            converted = to_relative([outs[o] for outs in per_window], cfg.parameters)
            for j, values in enumerate(converted):
                columns[names[j][o]] = values
    ordered = {name: columns[name] for name in cfg.output_columns()}
    return pd.DataFrame(ordered, index=df.index, dtype=np.float64)
