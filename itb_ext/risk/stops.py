"""ATR stops: an initial stop a multiple of the ATR away, optionally trailing the best price.

A stop is a distance (fraction of a reference price). FreqTrade, and ``itb-ext simulate``, only
ever raise a long stop (lower a short one), so returning the distance from the newest price
gives a ratchet: the stop follows the best price and never loosens.
"""

from __future__ import annotations

import math

from itb_ext.config.risk import RegimeConfig, StopConfig


def regime_factors(high_vol: bool, regime: RegimeConfig | None) -> tuple[float, float]:
    """``(size factor, stop factor)`` of the volatility regime (1, 1 outside the high one)."""
    if regime is None or not high_vol:
        return 1.0, 1.0
    return regime.size_factor, regime.stop_factor


def stop_distance(atr: float, price: float, cfg: StopConfig, stop_factor: float = 1.0) -> float:
    """Stop distance as a fraction of ``price``: ``atr_multiple × ATR × stop_factor / price``,
    at most ``max_distance``; ``max_distance`` when the ATR is not known yet."""
    if not (math.isfinite(atr) and atr > 0 and price > 0):
        return cfg.max_distance
    return min(cfg.atr_multiple * atr * stop_factor / price, cfg.max_distance)


def stop_price(reference: float, distance: float, is_short: bool = False) -> float:
    """The stop price ``distance`` away from ``reference``, on the losing side of the trade."""
    return reference * (1 + distance) if is_short else reference * (1 - distance)


def ratchet(previous: float | None, candidate: float, is_short: bool = False) -> float:
    """The new stop: the candidate only where it is tighter than the previous stop."""
    if previous is None:
        return candidate
    return min(previous, candidate) if is_short else max(previous, candidate)
