"""Sliced entries (TWAP): a large stake entered as several child orders over several candles."""

from __future__ import annotations

from dataclasses import dataclass

from itb_ext.config.risk_controls import TwapConfig


@dataclass(frozen=True)
class ChildOrder:
    """One slice of a sliced entry.

    :param candle: candles after the entry candle at which it is placed (0 = the entry itself).
    :param stake: its stake in the stake currency.
    """

    candle: int
    stake: float


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


def next_child_stake(
    schedule: tuple[ChildOrder, ...], filled_children: int, candles_since_entry: int
) -> float | None:
    """Stake of the next child order if it is due, else None.

    :param filled_children: child orders already filled (the trade's successful entries).
    :param candles_since_entry: whole candles since the entry candle.
    """
    if filled_children >= len(schedule):
        return None
    child = schedule[filled_children]
    return child.stake if child.candle <= candles_since_entry else None
