"""Metrics of simulated trades, with ITB's names and ITB's rounding.

Metrics per direction (``long``, ``short``, ``total`` = both in time order), with ITB's names
and unrounded (:func:`round_like_itb` applies ITB's rounding):


* ``#transactions``, ``profit`` (sum), ``%profit`` (sum of trade percentages), ``#profitable``
  (net profit > 0), ``%profitable``, ``profit/T``, ``%profit/T`` (0.0 without trades);
* ``#transactions/M``, ``profit/M``, ``%profit/M``: divided by the months covered,
  ``(last timestamp − first timestamp) / (365/12 days)`` (NaN if unknown or zero);
* ``compound_return_%`` = ``100·(Π(1 + %profit_i/100) − 1)`` over the trades in time order;
* ``max_drawdown_%``: the equity after each closed trade is ``e_k = Π_{i≤k}(1 + %profit_i/100)``
  starting from ``e_0 = 1``; the drawdown is ``1 − e_k / max_{j≤k} e_j`` (peak includes ``e_0``)
  and the metric is its maximum in percent (0 = never below a previous peak; only closed trades
  count, price moves inside a trade do not);
* ``#bars_in_market``: sum over the counted trades of ``exit_row − entry_row``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from itb_ext.evaluation.metrics import max_drawdown

#: ITB's month: a twelfth of a 365-day year.
AVERAGE_MONTH = pd.Timedelta(days=365 / 12)
#: ITB's per-direction metrics, in ITB's order.
ITB_METRICS = (
    "#transactions",
    "profit",
    "%profit",
    "#profitable",
    "%profitable",
    "profit/T",
    "%profit/T",
)
#: Every per-direction metric of this module, in output order.
METRICS = (
    *ITB_METRICS,
    "#transactions/M",
    "profit/M",
    "%profit/M",
    "compound_return_%",
    "max_drawdown_%",
    "#bars_in_market",
)
#: Decimals ITB rounds each metric to (``scripts/simulate.py`` and ``common/backtesting.py``).
ITB_ROUNDING = {
    "profit": 2,
    "%profit": 1,
    "%profitable": 1,
    "profit/T": 2,
    "%profit/T": 1,
    "#transactions/M": 2,
    "profit/M": 2,
    "%profit/M": 2,
}
_COUNTS = frozenset({"#transactions", "#profitable", "#bars_in_market"})


def derive_metrics(
    count: np.ndarray,
    profit: np.ndarray,
    percent: np.ndarray,
    profitable: np.ndarray,
    equity: np.ndarray,
    drawdown: np.ndarray,
    bars: np.ndarray,
    months: float,
) -> dict[str, np.ndarray]:
    """The metrics of :data:`METRICS` from the accumulated sums (arrays over grid points)."""
    has = count > 0
    safe = np.where(has, count, 1.0)
    per_month = months if months > 0 else math.nan
    return {
        "#transactions": count.astype("int64"),
        "profit": profit,
        "%profit": percent,
        "#profitable": profitable.astype("int64"),
        "%profitable": np.where(has, 100.0 * profitable / safe, 0.0),
        "profit/T": np.where(has, profit / safe, 0.0),
        "%profit/T": np.where(has, percent / safe, 0.0),
        "#transactions/M": count / per_month,
        "profit/M": profit / per_month,
        "%profit/M": percent / per_month,
        "compound_return_%": 100.0 * (equity - 1.0),
        "max_drawdown_%": 100.0 * drawdown,
        "#bars_in_market": bars.astype("int64"),
    }


def months_covered(times: pd.Series | pd.DatetimeIndex | None) -> float:
    """ITB's months between the first and last timestamp (NaN with fewer than two)."""
    if times is None or len(times) < 2:
        return math.nan
    values = pd.DatetimeIndex(times)
    return float((values[-1] - values[0]) / AVERAGE_MONTH)


def round_like_itb(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """ITB's rounding of its metrics (2 decimals for money, 1 for percentages, 2 for per-month).

    :param metrics: a metrics mapping; only ITB's own metric names are kept.
    :return: the rounded ITB metrics, counts as ints.
    """
    names = (*ITB_METRICS, "#transactions/M", "profit/M", "%profit/M")
    out: dict[str, Any] = {}
    for name in names:
        if name not in metrics:
            continue
        value = metrics[name]
        out[name] = int(value) if name in _COUNTS else round(float(value), ITB_ROUNDING[name])
    return out


def direction_metrics(
    profit: np.ndarray, percent: np.ndarray, bars: np.ndarray, months: float
) -> dict[str, float | int]:
    """Metrics of one direction's closed trades in time order (sequential sums, as the grid kernel).

    :param profit: net profit of each trade.
    :param percent: net percent profit of each trade.
    :param bars: bars each trade was held.
    :param months: months covered by the data (NaN when unknown).
    """
    if profit.size:
        # cumsum/cumprod add in time order, exactly like the grid kernel's running sums.
        equity = np.cumprod(1.0 + percent / 100.0)
        sums = [np.cumsum(profit)[-1], np.cumsum(percent)[-1], equity[-1]]
        # e_0 = 1 is the first peak
        drawdown = max_drawdown(np.concatenate([[1.0], equity]))
        total_bars = float(np.cumsum(bars)[-1])
    else:
        sums, drawdown, total_bars = [0.0, 0.0, 1.0], 0.0, 0.0
    derived = derive_metrics(
        np.array([float(profit.size)]),
        np.array([sums[0]]),
        np.array([sums[1]]),
        np.array([float(np.count_nonzero(profit > 0))]),
        np.array([sums[2]]),
        np.array([drawdown]),
        np.array([total_bars]),
        months,
    )
    return {k: v[0].item() for k, v in derived.items()}
