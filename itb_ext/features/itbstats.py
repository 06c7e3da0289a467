"""``itbstats`` feature generator: window statistics of one interpolated column (spec b.2)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from itb_ext.config.features import ItbstatsConfig
from itb_ext.features import rolling
from itb_ext.features.relative import to_relative
from itb_ext.features.rolling import FloatArray, column_values, interpolate_gaps

GENERATOR = "itbstats"

Kernel = Callable[[FloatArray, int, bool], FloatArray]

# ITB function name (lower case) -> kernel(values, window, bias). All use ITB's partial windows
# with min_periods = max(1, w // 2); see itb_ext.features.rolling for the NaN rules of each.
KERNELS: dict[str, Kernel] = {
    "scipy_skew": lambda x, w, bias: rolling.rolling_scipy_skew(x, w, bias=bias),
    # ITB passes its `bias` into scipy's `fisher` slot (see rolling_scipy_kurtosis)
    "scipy_kurtosis": lambda x, w, bias: rolling.rolling_scipy_kurtosis(x, w, fisher=bias),
    "pandas_skew": lambda x, w, _bias: rolling.rolling_pandas_skew(x, w),
    "pandas_kurtosis": lambda x, w, _bias: rolling.rolling_pandas_kurtosis(x, w),
    "lsbm": lambda x, w, _bias: rolling.rolling_lsbm(x, w),
    "fmax": lambda x, w, _bias: rolling.rolling_fmax(x, w),
    "mean": lambda x, w, _bias: rolling.rolling_nanmean(x, w),
    "std": lambda x, w, _bias: rolling.rolling_nanstd(x, w),
    "area": lambda x, w, _bias: rolling.rolling_area(x, w),
    # ITB's slope_fn returns 0.0 when fewer than 2 points remain
    "slope": lambda x, w, _bias: rolling.rolling_slope(x, w, few_points=0.0),
}


def generate_itbstats(df: pd.DataFrame, cfg: ItbstatsConfig) -> pd.DataFrame:
    """Compute the ``itbstats`` features of one config entry.

    For every function and window ``w`` the statistic of the last ``w`` values, with ITB's partial
    windows at the start (values from row ``max(1, w//2) - 1`` on). The column is linearly
    interpolated first, as ITB (look-ahead inside gaps, spec j.4, kept for parity).

    :param df: candles (any index; rows are used by position).
    :param cfg: the validated entry.
    :return: ``<column>_<function>_<w>`` columns, float64, same index.
    :raises DataError: if the input column is missing or not numeric.
    """
    values = interpolate_gaps(column_values(df, cfg.column, GENERATOR))
    bias = cfg.parameters.bias
    columns: dict[str, FloatArray] = {}
    for function in cfg.functions:
        kernel = KERNELS[function.lower()]
        outputs = [kernel(values, w, bias) for w in cfg.windows]
        for w, out in zip(cfg.windows, to_relative(outputs, cfg.parameters), strict=True):
            columns[f"{cfg.column}_{function}_{w}"] = out
    return pd.DataFrame(columns, index=df.index, dtype=np.float64)
