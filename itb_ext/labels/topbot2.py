"""``topbot2`` labels: rows on the plateau of a top (or bottom) that stands out by ``level``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from itb_ext.config.labels import Topbot2Config
from itb_ext.pipeline.frames import require_columns


class _RangeTable:
    """Sparse table of block maxima (or minima): ``levels[k][i]`` = extreme of ``x[i : i+2^k]``.

    Used to find, for every row at once, the nearest row in a direction whose value passes a
    per-row limit, in ``log2(n)`` vectorised steps (binary lifting).
    """

    def __init__(self, values: np.ndarray, use_max: bool) -> None:
        self.use_max = use_max
        self.n = len(values)
        combine = np.maximum if use_max else np.minimum
        self.levels = [values]
        size = 1
        while 2 * size <= self.n:
            prev = self.levels[-1]
            self.levels.append(combine(prev[:-size], prev[size:]))
            size *= 2

    def _passes(self, block: np.ndarray, limit: np.ndarray, stop_on_equal: bool) -> np.ndarray:
        # True where no value of the block stops the scan.
        if self.use_max:
            return block < limit if stop_on_equal else block <= limit
        return block > limit if stop_on_equal else block >= limit

    def next_stop(self, start: np.ndarray, limit: np.ndarray, stop_on_equal: bool) -> np.ndarray:
        """First row ``j >= start`` whose value is beyond ``limit`` (``n`` if none).

        Max table: beyond = ``> limit`` (``>=`` with ``stop_on_equal``); min table: ``< limit``
        (``<=``).
        """
        pos = start.copy()
        for k in range(len(self.levels) - 1, -1, -1):
            size = 1 << k
            table = self.levels[k]
            inside = pos + size <= self.n
            block = table[np.minimum(pos, len(table) - 1)]
            pos = np.where(inside & self._passes(block, limit, stop_on_equal), pos + size, pos)
        return pos

    def prev_stop(self, end: np.ndarray, limit: np.ndarray, stop_on_equal: bool) -> np.ndarray:
        """Last row ``j < end`` whose value is beyond ``limit`` (``-1`` if none)."""
        pos = end.copy()
        for k in range(len(self.levels) - 1, -1, -1):
            size = 1 << k
            table = self.levels[k]
            inside = pos - size >= 0
            block = table[np.maximum(pos - size, 0)]
            pos = np.where(inside & self._passes(block, limit, stop_on_equal), pos - size, pos)
        return pos - 1


def _extremum_plateaus(
    values: np.ndarray, level: float, tolerance_fracs: list[float]
) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Accepted tops of ``values`` and, per tolerance, their plateau boundaries.

    :param values: the price (negated for bottoms).
    :param level: L, fraction.
    :param tolerance_fracs: ``T = L·τ`` per output, fraction.
    :return: ``(tops, confirm, plateaus)``: positions of the tops, the position of the first
        row after each top that is ``level`` below it (the right confirming dip), and per
        tolerance ``(lt, rt)``: the nearest rows before/after each top that are more than the
        tolerance below it (``-1`` / ``n`` when there is none).
    """
    # NaN never stops a scan: it is neither a dip nor a higher value (as ITB's comparisons).
    as_high = np.where(np.isnan(values), -np.inf, values)
    as_low = np.where(np.isnan(values), np.inf, values)
    highs = _RangeTable(as_high, use_max=True)
    lows = _RangeTable(as_low, use_max=False)
    rows = np.flatnonzero(~np.isnan(values))
    peak = values[rows]
    dip_limit = peak - level * np.abs(peak)
    # The top must be strictly higher than everything back to its left dip and at least as
    # high as everything up to its right dip (the first of equal maxima wins, as ITB's idxmax).
    prev_higher = highs.prev_stop(rows, peak, stop_on_equal=True)
    left_dip = lows.prev_stop(rows, dip_limit, stop_on_equal=False)
    next_higher = highs.next_stop(rows + 1, peak, stop_on_equal=False)
    right_dip = lows.next_stop(rows + 1, dip_limit, stop_on_equal=False)
    accepted = (left_dip > prev_higher) & (right_dip < next_higher)
    tops = rows[accepted]
    peak = peak[accepted]
    plateaus = []
    for tolerance in tolerance_fracs:
        edge = peak - tolerance * np.abs(peak)
        before = lows.prev_stop(tops, edge, stop_on_equal=False)
        after = lows.next_stop(tops + 1, edge, stop_on_equal=False)
        plateaus.append((before, after))
    return tops, right_dip[accepted], plateaus


def generate_topbot2(df: pd.DataFrame, cfg: Topbot2Config) -> pd.DataFrame:
    """Label the rows around tops (``function="top"``) or bottoms (``"bot"``) of a price.

    Definition for tops (bottoms are the same on the negated price), with ``L = |level|``,
    ``T = L·τ`` for each tolerance τ and ``x`` the price:

    * Row e with value ``E`` is a **top** if, going left from e, a value ``< E - L·|E|`` (a
      dip) comes before any value ``>= E``, and going right, a dip comes before any value
      ``> E``. The first such dip to the right, ``r(e)``, confirms the top. This is exactly
      the set of extrema ITB's recursive interval search (spec c.3) accepts: the top is at
      least L above the nearest deeper dips on both sides, however far away they are.
    * Its **plateau** is the maximal run of consecutive rows around e whose values are
      ``>= E - T·|E|``. Without ``horizon`` a row is True when it lies on the plateau of some
      top (ITB's labels).
    * Missing prices (NaN) are never dips nor higher values and lie on a plateau if the run
      passes through them, as in ITB.
    * ITB crashes (j.10) when a tolerance is above 1 and no row on one side is more than T
      below the top; here the plateau then simply extends to the end of the data on that side.

    **Look-ahead warning:** without ``horizon`` the label of row t may depend on prices
    arbitrarily far in the future (the confirming dip can be any distance away, and the
    plateau can be long). A walk-forward split cannot purge that; set ``horizon``.

    With ``horizon`` H (extension, not in ITB): row t is True when it lies on the plateau of a
    top e whose confirming dip satisfies ``r(e) <= t + H``, i.e. "the price is within T of a
    top and, by bar t+H, has fallen L below that top". Everything this reads lies at or before
    ``t + H`` (the run between t and e, the dips, and the past of e), so the label at t depends
    only on rows ``<= t + H``; rows of a long plateau more than H bars before the confirmation
    are False. The last H rows are <NA> (unknown). Large H gives ITB's labels back.

    :param df: frame with the price column; any index (rows are used by position).
    :param cfg: the generator configuration.
    :return: one nullable ``boolean`` column per tolerance, named ``cfg.names``.
    """
    require_columns(df, cfg.input_columns(), "topbot2")
    price = df[cfg.columns].to_numpy(dtype="float64", na_value=np.nan)
    # Bottoms of x are the tops of -x; negation is exact, so the levels equal ITB's.
    values = price if cfg.function == "top" else -price
    n = len(values)
    level = abs(float(cfg.level))
    tolerances = [level * float(t) for t in cfg.tolerances]
    horizon = cfg.horizon()
    unknown = np.zeros(n, dtype=bool)
    if horizon is not None:
        unknown[max(0, n - horizon) :] = True
    out: dict[str, pd.arrays.BooleanArray] = {}
    if n == 0:
        tops = confirm = np.zeros(0, dtype=np.intp)
        plateaus = [(tops, tops) for _ in tolerances]
    else:
        tops, confirm, plateaus = _extremum_plateaus(values, level, tolerances)
    for name, (before, after) in zip(cfg.names, plateaus, strict=True):
        first = before + 1
        if horizon is not None:
            first = np.maximum(first, confirm - horizon)
        last = after - 1
        keep = first <= last
        # Mark the union of the row ranges [first, last] with a difference array.
        marks = np.zeros(n + 1, dtype=np.int64)
        np.add.at(marks, first[keep], 1)
        np.add.at(marks, last[keep] + 1, -1)
        label = np.cumsum(marks[:-1]) > 0
        out[name] = pd.arrays.BooleanArray(label & ~unknown, unknown.copy())
    return pd.DataFrame(out, index=df.index)
