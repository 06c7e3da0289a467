"""Execution cost: a fill price moved against the trade by a number of basis points."""

from __future__ import annotations

from typing import Literal

Side = Literal["buy", "sell"]


def slipped_price(
    price: float, side: Side, bps: float, low: float | None = None, high: float | None = None
) -> float:
    """``price`` moved ``bps`` basis points against the trader, kept within the candle.

    A buy pays more, a sell receives less; the result never leaves ``[low, high]`` (when given),
    since no fill happens outside the candle's range.
    """
    factor = bps / 10_000.0
    moved = price * (1 + factor) if side == "buy" else price * (1 - factor)
    if high is not None:
        moved = min(moved, high)
    if low is not None:
        moved = max(moved, low)
    return moved
