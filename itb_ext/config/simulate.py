"""Configuration of ITB's ``simulate_model`` section: the threshold grid search and its simulation.

Grid values may be written in three ways:

* a JSON list of numbers (a single number is taken as a one-value list);
* a range object ``{"start": a, "stop": b, "step": s}`` with :func:`numpy.arange` semantics
  (``stop`` excluded), made robust to float error (see :func:`float_range`);
* one of ITB's strings ``"np.arange(a, b, s).tolist()"``, ``"np.linspace(a, b, n).tolist()"``
  (``numpy.`` and without ``.tolist()`` also accepted) or a list literal ``"[0.1, 0.2]"``. ITB runs
  these through ``eval``; here a strict regular expression accepts only number literals as
  arguments, anything else is a configuration error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from itb_ext.config.base import FrozenModel, one_of
from itb_ext.config.risk import RiskConfig
from itb_ext.config.signals import THRESHOLD_RULES

#: The threshold parameters of the threshold rules that a grid may vary, in ITB's grid order.
GRID_KEYS = tuple(sorted({k for rule in THRESHOLD_RULES.values() for k in rule.parameter_keys}))

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_RANGE_CALL = re.compile(
    rf"^\s*(?:np|numpy)\.(?P<func>arange|linspace)\(\s*(?P<args>{_NUMBER}(?:\s*,\s*{_NUMBER})*"
    r"(?:\s*,\s*endpoint\s*=\s*(?:True|False))?)\s*,?\s*\)(?:\.tolist\(\))?\s*$"
)
_LIST_LITERAL = re.compile(rf"^\s*\[\s*(?:{_NUMBER}(?:\s*,\s*{_NUMBER})*)?\s*,?\s*\]\s*$")

# Relative slack when counting range points: (stop - start) / step is 10.000000000000002 for
# arange(0.01, 0.11, 0.01); without slack an eleventh point 0.11 would appear.
_COUNT_SLACK = 1e-9
# Significant digits kept on each generated value (absolute precision relative to the range's
# magnitude), so that 0.01 + 2 * 0.01 becomes 0.03 and -0.3 + 3 * 0.1 becomes exactly 0.0.
_RANGE_DIGITS = 12
# A typo such as step 1e-9 must not allocate gigabytes.
_MAX_POINTS = 100_000


def _round_to_scale(values: np.ndarray, scale: float) -> np.ndarray:
    """Round ``values`` to ``_RANGE_DIGITS`` significant digits of ``scale``."""
    if scale <= 0:
        return values
    decimals = _RANGE_DIGITS - math.ceil(math.log10(scale))
    return np.round(values, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def float_range(start: float, stop: float, step: float) -> tuple[float, ...]:
    """``numpy.arange(start, stop, step)`` without float surprises.

    The number of points is ``ceil((stop - start) / step - 1e-9)`` (so a ``stop`` that is a whole
    number of steps away is excluded even when the division gives 10.000000000000002) and every
    point ``start + k * step`` is rounded to 12 significant digits of the range's magnitude
    (``max(|start|, |stop|, |step|)``), which removes the float error of the multiplication: the
    thresholds are the decimal numbers the user wrote, so exact ties in the scores compare as
    intended.

    :param start: first value.
    :param stop: excluded end.
    :param step: increment, negative for a falling range (``arange(0, -0.1, -0.01)``).
    :raises ValueError: ``step == 0``, non-finite bounds or an empty range (e.g. a positive step
        with ``stop <= start``).
    """
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ValueError("range bounds and step must be finite numbers")
    if step == 0:
        raise ValueError("range step must not be 0")
    count = math.ceil((stop - start) / step - _COUNT_SLACK)
    if count <= 0:
        raise ValueError(f"empty range: start {start}, stop {stop}, step {step}")
    if count > _MAX_POINTS:
        raise ValueError(f"range has {count} points, more than {_MAX_POINTS}")
    values = start + step * np.arange(count, dtype="float64")
    scale = max(abs(start), abs(stop), abs(step))
    return tuple(float(v) for v in _round_to_scale(values, scale))


def float_linspace(start: float, stop: float, num: int, endpoint: bool = True) -> tuple[float, ...]:
    """``numpy.linspace`` with the same rounding as :func:`float_range`.

    :raises ValueError: ``num < 1`` or non-finite bounds.
    """
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError("linspace bounds must be finite numbers")
    if not 1 <= num <= _MAX_POINTS:
        raise ValueError(f"linspace needs 1 to {_MAX_POINTS} points, got {num}")
    values = np.linspace(start, stop, num, endpoint=endpoint)
    scale = max(abs(start), abs(stop))
    return tuple(float(v) for v in _round_to_scale(values, scale))


def _parse_range_string(text: str) -> tuple[float, ...]:
    if _LIST_LITERAL.match(text):
        return _numbers([float(v) for v in re.findall(_NUMBER, text)])
    match = _RANGE_CALL.match(text)
    if match is None:
        raise ValueError(
            "unsupported range expression (expected 'np.arange(start, stop, step)', "
            "'np.linspace(start, stop, num)' or a list of numbers)"
        )
    parts = [p.strip() for p in match["args"].split(",")]
    endpoint = True
    if parts[-1].startswith("endpoint"):
        if match["func"] != "linspace":
            raise ValueError("endpoint= is only accepted by np.linspace")
        endpoint = parts.pop().split("=")[1].strip() == "True"
    args = [float(p) for p in parts]
    if match["func"] == "arange":
        if len(args) > 3:
            raise ValueError("np.arange takes at most 3 numbers")
        start, stop, step = (0.0, args[0], 1.0) if len(args) == 1 else (*args[:2], 1.0)
        if len(args) == 3:
            step = args[2]
        return float_range(start, stop, step)
    if len(args) not in (2, 3):
        raise ValueError("np.linspace takes 2 or 3 numbers")
    num = 50 if len(args) == 2 else args[2]
    if num != int(num):
        raise ValueError(f"np.linspace num must be an integer, got {num}")
    return float_linspace(args[0], args[1], int(num), endpoint)


def _numbers(values: Any) -> tuple[float, ...]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"grid values must be numbers, got {v!r}")
        if not math.isfinite(v):
            raise ValueError(f"grid values must be finite, got {v!r}")
        out.append(float(v))
    if not out:
        raise ValueError("a grid needs at least one value")
    return tuple(out)


def parse_grid_values(value: Any) -> tuple[float, ...]:
    """Normalise one grid entry (list, number, range object or range string) to a float tuple.

    :param value: the raw JSON value of one ``grid`` key.
    :return: the threshold values in the order given.
    :raises ValueError: for anything else (pydantic turns it into a ConfigError naming the key).
    """
    if isinstance(value, str):
        return _parse_range_string(value)
    if isinstance(value, Mapping):
        keys = set(value)
        if keys - {"start", "stop", "step"} or not {"start", "stop"} <= keys:
            raise ValueError("a range object needs the keys start, stop and optionally step")
        bounds = _numbers([value["start"], value["stop"], value.get("step", 1.0)])
        return float_range(*bounds)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _numbers([value])
    if isinstance(value, list | tuple):
        return _numbers(value)
    raise ValueError("expected a list of numbers, a {start, stop, step} object or a range string")


class GridConfig(FrozenModel):
    """The thresholds to search; keys not given keep the rule's own parameter.

    :param buy_signal_threshold: buy thresholds B (``score >= B``).
    :param buy_signal_threshold_2: second-score buy thresholds of ``threshold_rule2``.
    :param sell_signal_threshold: sell thresholds S (``score <= S``).
    :param sell_signal_threshold_2: second-score sell thresholds of ``threshold_rule2``.
    """

    buy_signal_threshold: tuple[float, ...] | None = None
    buy_signal_threshold_2: tuple[float, ...] | None = None
    sell_signal_threshold: tuple[float, ...] | None = None
    sell_signal_threshold_2: tuple[float, ...] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return None if value is None else parse_grid_values(value)

    def searched(self) -> dict[str, tuple[float, ...]]:
        """The keys that are given, with their values, in ITB's (alphabetical) key order."""
        return {k: v for k in GRID_KEYS if (v := getattr(self, k)) is not None}


def _check_position(value: Any) -> Any:
    if isinstance(value, str):
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
    return value


class SimulateModelConfig(FrozenModel):
    """ITB's ``simulate_model`` section plus the simulation options of this port.

    :param data_start: first row used: an int ``n`` skips the first n rows, a string keeps rows
        with ``timestamp >= value``; ``None``/``0`` keeps everything.
    :param data_end: an int ``n`` drops the last n rows, a string keeps rows with
        ``timestamp < value``; ``None``/``0`` keeps everything (ITB's ``iloc[:-0]`` would be empty).
    :param direction: which trades are scored: ``long`` (BUY -> SELL), ``short`` (SELL -> BUY) or
        ``both`` (extension). ITB requires the key; here it defaults to ``long``.
    :param topn_to_store: how many best grid points are returned.
    :param signal_generator: the rule whose thresholds are searched (a name of
        :data:`~itb_ext.config.signals.THRESHOLD_RULES`); the caller takes the score columns from
        the first ``signal_sets`` entry with this generator, as ITB does.
    :param buy_sell_equal: sell thresholds are not searched but set to ``-buy`` (``_2`` likewise).
    :param grid: the threshold values per parameter.
    :param fee: extension: fee per side as a fraction of the traded value (0.001 = 0.1 %).
    :param fill: extension: ``close`` fills at the signal bar's close (ITB), ``next_open`` at the
        next bar's open (FreqTrade).
    :param price_column: extension: the price column used with ``fill="close"``.
    :param risk: extension: an ``itb.risk`` section; each ranked row's long trades are then also
        simulated in money with its sizing, ATR stop, slippage and daily loss limit (filled at
        the next open, as FreqTrade), adding ``risk_trades``, ``risk_return_%`` and
        ``risk_max_drawdown_%``.
    """

    data_start: int | str | None = None
    data_end: int | str | None = None
    direction: Literal["long", "short", "both"] = "long"
    topn_to_store: int = Field(default=10, ge=1)
    signal_generator: str = "threshold_rule"
    buy_sell_equal: bool = False
    grid: GridConfig
    fee: float = Field(default=0.001, ge=0.0, lt=1.0)
    fill: Literal["close", "next_open"] = "close"
    price_column: str = "close"
    risk: RiskConfig | None = None

    @field_validator("signal_generator")
    @classmethod
    def _a_threshold_rule(cls, value: str) -> str:
        return one_of(value, tuple(THRESHOLD_RULES))

    @field_validator("data_start", "data_end", mode="after")
    @classmethod
    def _positions(cls, value: Any) -> Any:
        if isinstance(value, int) and value < 0:
            raise ValueError("a row count must be >= 0")
        return _check_position(value)
