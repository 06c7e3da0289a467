"""Figures of a backtest's trades that the risk layer is judged by."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def closed_trade_drawdown(profits: Sequence[float], start: float) -> float:
    """Largest fall of the closed-trade equity from its running peak, as a fraction of the peak.

    :param profits: absolute profits of closed trades in closing order.
    :param start: equity before the first trade (counts as the first peak).
    """
    equity = start + np.cumsum(np.asarray(profits, dtype="float64"))
    curve = np.concatenate([[start], equity])
    peaks = np.maximum.accumulate(curve)
    return float(np.max((peaks - curve) / peaks))
