"""Figures of a backtest's trades that the risk layer is judged by."""

from __future__ import annotations

from collections.abc import Sequence

from itb_ext.evaluation.metrics import closed_trade_equity, max_drawdown


def closed_trade_drawdown(profits: Sequence[float], start: float) -> float:
    """Largest fall of the closed-trade equity from its running peak, as a fraction of the peak.

    :param profits: absolute profits of closed trades in closing order.
    :param start: equity before the first trade (counts as the first peak).
    """
    return max_drawdown(closed_trade_equity(profits, start))
