"""``highlow2`` labels: does the price move θ % in one direction before it moves against it?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from itb_ext.config.labels import Highlow2Config
from itb_ext.pipeline.frames import require_columns

#: Rows of future windows examined at once; bounds the temporary (rows x H) masks to ~1 MB each.
_CELLS_PER_CHUNK = 1 << 20


def barrier_levels(
    reference: np.ndarray, threshold: float, tolerance: float, function: str
) -> tuple[np.ndarray, np.ndarray]:
    """Target and adverse price levels of one threshold, with ITB's exact float expressions.

    :param reference: reference prices p (normally the close).
    :param threshold: θ in percent (sign ignored).
    :param tolerance: adverse move as a fraction of θ.
    :param function: ``high`` or ``low``.
    :return: ``(target, adverse)`` = ``p*(1+θ⁺/100)``, ``p*(1+α/100)`` with
        ``θ⁺ = ±|θ|`` and ``α = round(-θ⁺·tolerance, 6)``.
    """
    signed = abs(threshold) if function == "high" else -abs(threshold)
    adverse_pct = round(-signed * tolerance, 6)
    return reference * (1 + signed / 100.0), reference * (1 + adverse_pct / 100.0)


def _first_cross_labels(
    target_price: np.ndarray,
    adverse_price: np.ndarray,
    target_level: np.ndarray,
    adverse_level: np.ndarray,
    rising: bool,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Decide, for every row with a complete future window, which barrier is crossed first.

    :return: ``(value, known)`` boolean arrays of length ``len(target_level)``; rows without a
        complete window are ``known=False``.
    """
    n = len(target_level)
    value = np.zeros(n, dtype=bool)
    known = np.zeros(n, dtype=bool)
    rows = n - horizon
    if rows <= 0:
        return value, known
    # Row t of a view holds bars t+1 .. t+H.
    target_win = sliding_window_view(target_price[1:], horizon)
    adverse_win = sliding_window_view(adverse_price[1:], horizon)
    chunk = max(1, _CELLS_PER_CHUNK // horizon)
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        tgt = target_win[start:stop]
        adv = adverse_win[start:stop]
        tgt_level = target_level[start:stop, None]
        adv_level = adverse_level[start:stop, None]
        # Strict inequalities, as ITB; NaN never crosses.
        if rising:
            target_hit = tgt > tgt_level
            adverse_hit = adv < adv_level
        else:
            target_hit = tgt < tgt_level
            adverse_hit = adv > adv_level
        missing = np.isnan(tgt) | np.isnan(adv)
        # The first bar where something happens decides (a missing price makes it unknown).
        event = target_hit | adverse_hit | missing
        first = np.argmax(event, axis=1)
        took_place = np.take_along_axis(event, first[:, None], axis=1)[:, 0]
        target_first = np.take_along_axis(target_hit, first[:, None], axis=1)[:, 0]
        blind = np.take_along_axis(missing, first[:, None], axis=1)[:, 0]
        # Same-bar cross of both levels is positive; a target cross at a bar whose adverse
        # price is missing is positive too (the tie rule makes the adverse price irrelevant).
        value[start:stop] = took_place & target_first
        known[start:stop] = ~took_place | target_first | ~blind
    # A missing reference price gives no levels at all.
    known[~np.isfinite(target_level) | ~np.isfinite(adverse_level)] = False
    return value, known


def generate_highlow2(df: pd.DataFrame, cfg: Highlow2Config) -> pd.DataFrame:
    """Label row t True when, within the next H bars, the price first moves θ % in the wanted
    direction before (or in the same bar as) it moves ``tolerance·θ`` % against it.

    For ``function="high"`` with reference price ``p = reference[t]`` (normally the close):
    the target is ``up_price > p*(1+θ/100)``, the adverse event ``down_price <
    p*(1+α/100)`` with ``α = round(-θ·tolerance, 6)`` (ITB's exact expressions, so that prices
    exactly on a level give ITB's result). ``function="low"`` mirrors it (``down_price`` below
    ``p*(1-θ/100)`` before ``up_price`` above ``p*(1+round(θ·tolerance, 6)/100)``). Only bars
    ``t+1 .. t+H`` are examined, never bar t itself; both comparisons are strict.

    Value per row:

    * True: the target is crossed at some bar k, and no earlier bar crossed the adverse level
      or had a missing (NaN) up/down price. Crossing both in the same bar is True.
    * False: the adverse level is crossed strictly before the target (with no missing price
      up to that bar), or neither level is crossed within the H bars and no price is missing.
    * <NA> (unknown): the last H rows (their window leaves the data; ITB says False, defect
      j.3); a missing reference price (ITB says True, j.12); a missing up/down price at or
      before the deciding bar, unless the deciding bar crosses the target (ITB treats a missing
      first bar as "crossed immediately", j.12).

    So the label at t depends only on rows ``t .. t+H``.

    :param df: frame with the three price columns; any index (rows are used by position).
    :param cfg: the generator configuration.
    :return: one nullable ``boolean`` column per threshold, named ``cfg.names``.
    """
    require_columns(df, cfg.columns, "highlow2")
    reference_col, up_col, down_col = cfg.columns
    reference = df[reference_col].to_numpy(dtype="float64", na_value=np.nan)
    up = df[up_col].to_numpy(dtype="float64", na_value=np.nan)
    down = df[down_col].to_numpy(dtype="float64", na_value=np.nan)
    rising = cfg.function == "high"
    target_price, adverse_price = (up, down) if rising else (down, up)
    out: dict[str, pd.arrays.BooleanArray] = {}
    for name, threshold in zip(cfg.names, cfg.thresholds, strict=True):
        target_level, adverse_level = barrier_levels(
            reference, float(threshold), float(cfg.tolerance), cfg.function
        )
        value, known = _first_cross_labels(
            target_price, adverse_price, target_level, adverse_level, rising, cfg.horizon()
        )
        out[name] = pd.arrays.BooleanArray(value, ~known)
    return pd.DataFrame(out, index=df.index)
