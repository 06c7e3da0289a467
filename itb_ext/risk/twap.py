"""Sliced entries (TWAP): a large stake entered as several child orders over several candles.

The plan (the whole stake and its children) is made when the trade is entered and kept with
the trade (its ``custom_data``), so that a restarted bot goes on with the same children. A child
keeps its distance to the previous one: a bot that was down does not place the children it
missed back to back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from itb_ext.config.risk_controls import TwapConfig


@dataclass(frozen=True)
class ChildOrder:
    """One slice of a sliced entry.

    :param candle: candles after the entry candle at which it is placed (0 = the entry itself).
    :param stake: its stake in the stake currency.
    """

    candle: int
    stake: float


@dataclass(frozen=True)
class TwapPlan:
    """The child orders of one trade's position.

    :param stake: the whole position's stake; :param children: its slices, the entry first.
    """

    stake: float
    children: tuple[ChildOrder, ...]

    def record(self) -> dict[str, Any]:
        """The plan as the trade keeps it (JSON: ``{"stake": 300.0, "children": [[0, 100.0],
        ...]}``)."""
        return {"stake": self.stake, "children": [[c.candle, c.stake] for c in self.children]}


def twap_schedule(total_stake: float, cfg: TwapConfig) -> tuple[ChildOrder, ...]:
    """The child orders that enter ``total_stake``.

    A stake at or below ``cfg.above_stake`` (or with slicing off) is one order. Otherwise
    ``cfg.children`` equal slices, child ``i`` at candle ``floor(i * candles / children)``
    when ``children <= candles``, else one per candle; the last slice takes the rounding rest.
    """
    if not cfg.enabled or total_stake <= cfg.above_stake:
        return (ChildOrder(0, total_stake),)
    n = cfg.children
    slice_stake = round(total_stake / n, 8)
    children = []
    for i in range(n):
        candle = (i * cfg.candles) // n if n <= cfg.candles else i
        stake = slice_stake if i < n - 1 else round(total_stake - slice_stake * (n - 1), 8)
        children.append(ChildOrder(candle, stake))
    return tuple(children)


def twap_plan(total_stake: float, cfg: TwapConfig) -> TwapPlan:
    """The plan of a position of ``total_stake`` (see :func:`twap_schedule`)."""
    return TwapPlan(float(total_stake), twap_schedule(total_stake, cfg))


def plan_from_record(value: object) -> TwapPlan | None:
    """The plan a trade keeps (see :meth:`TwapPlan.record`); None for anything else."""
    if not isinstance(value, dict):
        return None
    try:
        stake = float(value["stake"])
        children = tuple(ChildOrder(int(c), float(s)) for c, s in value["children"])
    except (KeyError, TypeError, ValueError):
        return None
    if not children or not math.isfinite(stake):
        return None
    return TwapPlan(stake, children)


def next_child_stake(
    schedule: tuple[ChildOrder, ...],
    filled_children: int,
    candles_since_entry: int,
    candles_since_last_fill: int | None = None,
) -> float | None:
    """Stake of the next child order if it is due, else None.

    A child is due on its candle, and no sooner than its distance in the schedule after the
    previous child's fill: a late child (a slow fill, a bot that was down) pushes the rest back
    instead of being followed at once by the next.

    :param filled_children: child orders already filled (the trade's successful entries); the
        first child is the trade's own entry, never placed here.
    :param candles_since_entry: whole candles since the entry candle.
    :param candles_since_last_fill: whole candles since the candle of the newest fill (None:
        not known, only the schedule counts).
    """
    if filled_children < 1 or filled_children >= len(schedule):
        return None
    child = schedule[filled_children]
    gap = child.candle - schedule[filled_children - 1].candle
    if child.candle > candles_since_entry:
        return None
    if candles_since_last_fill is not None and candles_since_last_fill < gap:
        return None
    return child.stake
