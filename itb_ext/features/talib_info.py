"""What each TA-Lib function reads, accepts and returns, and whether its values depend on where
the series starts. Learned from TA-Lib itself (signatures, abstract API, a synthetic series).

This module imports nothing of this package, so configs may validate against it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import talib
from talib.abstract import Function as TalibAbstractFunction  # type: ignore[attr-defined]

Number = int | float

# Extra history, in multiples of TA-Lib's own lookback, for functions whose value depends on where
# the series starts (EMA, RSI, ATR, ADX ...): after 30 lookbacks the weight left on the seed is
# below (1 - 1/w)^(30 w) ~ e^-30 ~ 1e-13, i.e. the value no longer depends on the start.
UNSTABLE_MARGIN_LOOKBACKS = 30


@dataclass(frozen=True)
class TalibFunctionInfo:
    """What a TA-Lib function reads, accepts and returns.

    :param name: the TA-Lib name (``SMA``).
    :param inputs: argument names of the input series in call order (``real``; ``high, low,
        close``; ``real0, real1`` ...).
    :param parameters: names of the numeric parameters (``timeperiod``, ``nbdevup`` ...).
    :param outputs: names of the output series (``real``; ``upperband, middleband, lowerband``).
    :param unstable: TA-Lib flags the function as having an unstable period (its values depend on
        where the series starts).
    """

    name: str
    inputs: tuple[str, ...]
    parameters: tuple[str, ...]
    outputs: tuple[str, ...]
    unstable: bool

    def lookback(self, params: dict[str, Number]) -> int:
        """Rows TA-Lib leaves NaN at the start for these parameters (its ``lookback``; -1 when
        TA-Lib rejects the parameters)."""
        fn = TalibAbstractFunction(self.name)
        if params:
            fn.set_parameters(**params)
        return int(fn.lookback)

    def depends_on_start(self, params: dict[str, Number]) -> bool:
        """Whether values depend on rows before TA-Lib's lookback (where the series starts).

        True for the functions TA-Lib flags as unstable (EMA, RSI, ATR, ADX ...) and for those it
        does not flag but which are recursive or cumulative (MACD, DEMA, TEMA, TRIX, SAR, OBV,
        AD ...): detected by dropping the first rows of a fixed synthetic series.
        """
        return self.unstable or _changes_when_start_moves(self.name, tuple(sorted(params.items())))


@cache
def talib_function_info(name: str) -> TalibFunctionInfo:
    """Metadata of one TA-Lib function (cached: it never changes within a process).

    :param name: a name from ``talib.get_functions()``.
    :raises ValueError: if TA-Lib has no such function.
    """
    if name not in talib.get_functions():
        hint = f" (did you mean '{name.upper()}'?)" if name.upper() in talib.get_functions() else ""
        raise ValueError(f"unknown TA-Lib function '{name}'{hint}")
    sig = inspect.signature(getattr(talib, name))
    empty = inspect.Parameter.empty
    inputs = tuple(p.name for p in sig.parameters.values() if p.default is empty)
    params = tuple(p.name for p in sig.parameters.values() if p.default is not empty)
    abstract = TalibAbstractFunction(name)
    flags = abstract.function_flags or []
    return TalibFunctionInfo(
        name=name,
        inputs=inputs,
        parameters=params,
        outputs=tuple(abstract.output_names),
        unstable="Function has an unstable period" in flags,
    )


@cache
def _changes_when_start_moves(name: str, params: tuple[tuple[str, Number], ...]) -> bool:
    """Does the last value change when the series starts just ``lookback + 8`` rows earlier?"""
    info = talib_function_info(name)
    kwargs = dict(params)
    look = info.lookback(kwargs)
    if look < 0:
        return False
    n = 2 * (look + 1) + 64
    rng = np.random.default_rng(20240601)  # local, seeded: same answer on every call
    close = 100 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 0.003, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 0.003, n)))
    series: dict[str, npt.NDArray[np.float64]] = {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": rng.lognormal(5.0, 0.5, n),
        "periods": np.full(n, float(kwargs.get("minperiod", 2))),
    }
    series["real"] = series["real0"] = close
    series["real1"] = open_
    args = [series[arg] for arg in info.inputs]
    fn = getattr(talib, name)
    start = n - (look + 1) - 8
    full = fn(*args, **kwargs)
    tail = fn(*[a[start:] for a in args], **kwargs)
    full_outs = full if isinstance(full, tuple) else (full,)
    tail_outs = tail if isinstance(tail, tuple) else (tail,)
    for f, t in zip(full_outs, tail_outs, strict=True):
        a, b = float(f[-1]), float(t[-1])
        if np.isnan(a) != np.isnan(b) or abs(a - b) > 1e-9 * max(abs(a), 1.0):
            return True
    return False
