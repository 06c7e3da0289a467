"""Position sizing: how much of equity one trade stakes.

Every mode returns a fraction of equity; :func:`stake_fraction` applies the optional scalings and
the hard cap, :func:`stake_amount` turns it into money within the exchange's limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from itb_ext.config.risk import SignalStrengthConfig, SizingConfig


def volatility_fraction(risk_per_trade: float, stop_distance: float) -> float:
    """The fraction of equity whose loss at the stop is ``risk_per_trade`` of equity.

    :param risk_per_trade: equity fraction lost if the stop is hit, e.g. 0.01.
    :param stop_distance: stop distance as a fraction of the entry price, e.g. 0.05.
    :return: ``risk_per_trade / stop_distance`` (uncapped).
    """
    if stop_distance <= 0:
        raise ValueError(f"stop distance must be positive (got {stop_distance})")
    return risk_per_trade / stop_distance


def volatility_target_fraction(target: float, volatility: float | None) -> float | None:
    """The fraction of equity whose annualised volatility is ``target``.

    A position of fraction ``f`` in a pair of annualised volatility ``σ`` moves equity by
    ``f·σ`` a year, so ``f = target / σ``.

    :param target: wanted annualised volatility of the position, e.g. 0.15.
    :param volatility: the pair's realised annualised volatility.
    :return: ``target / volatility`` (uncapped), or None without a usable volatility (missing,
        NaN, zero or negative).
    """
    if volatility is None or not math.isfinite(volatility) or volatility <= 0:
        return None
    return target / volatility


def kelly_fraction(profits: Sequence[float], trades: int, fraction: float) -> float | None:
    """Fractional Kelly stake from the last ``trades`` closed trades' profit ratios.

    ``f = (b·p − q) / b × fraction`` with ``p`` the win rate, ``q = 1 − p`` and ``b`` the
    average win over the average loss. Without a loss ``b`` is unbounded and ``f = p × fraction``.

    :param profits: closed trades' profit ratios, oldest first.
    :param trades: how many of the newest trades are used.
    :param fraction: share of the full Kelly stake.
    :return: the stake fraction (may be negative: no edge), or None with fewer than ``trades``.
    """
    if len(profits) < trades:
        return None
    recent = list(profits)[-trades:]
    wins = [p for p in recent if p > 0]
    losses = [-p for p in recent if p <= 0]
    p = len(wins) / len(recent)
    if not wins:
        return -fraction
    if not losses or sum(losses) == 0:
        return p * fraction
    b = (sum(wins) / len(wins)) / (sum(losses) / len(losses))
    return (b * p - (1 - p)) / b * fraction


def signal_strength_multiplier(excess: float, cfg: SignalStrengthConfig) -> float:
    """Stake multiplier for a score ``excess`` beyond its entry threshold.

    Linear from ``cfg.floor`` at the threshold to 1 at ``cfg.full_at`` beyond it.

    :param excess: how far the score is past the threshold, in the trade's direction (>= 0).
    """
    share = min(max(excess, 0.0) / cfg.full_at, 1.0)
    return cfg.floor + (1.0 - cfg.floor) * share


def stake_fraction(
    cfg: SizingConfig,
    *,
    stop_distance: float | None = None,
    recent_profits: Sequence[float] = (),
    score_excess: float | None = None,
    regime_factor: float = 1.0,
    volatility: float | None = None,
) -> float:
    """The fraction of equity one new trade stakes, capped at ``cfg.max_fraction``.

    :param cfg: the sizing settings.
    :param stop_distance: the trade's stop distance (fraction of price); ``volatility`` mode
        without one falls back to ``min_fraction``.
    :param recent_profits: the strategy's closed trades' profit ratios, oldest first (``kelly``).
    :param score_excess: the score's distance beyond its threshold (signal-strength scaling).
    :param regime_factor: multiplier of the volatility regime (1 outside the high regime).
    :param volatility: the pair's realised annualised volatility (``volatility_target``; without
        one, e.g. too few candles yet, ``min_fraction``).
    """
    if cfg.mode == "fixed":
        base = cfg.fraction
    elif cfg.mode == "volatility":
        base = (
            volatility_fraction(cfg.risk_per_trade, stop_distance)
            if stop_distance is not None and stop_distance > 0
            else cfg.min_fraction
        )
    elif cfg.mode == "volatility_target":
        target = volatility_target_fraction(cfg.target_volatility, volatility)
        base = cfg.min_fraction if target is None else target
    else:
        kelly = kelly_fraction(recent_profits, cfg.kelly_trades, cfg.kelly_fraction)
        # Without an estimate, or with a non-positive one, keep trading at the minimum size:
        # stopping altogether would freeze the estimate on its last, worst, value.
        base = cfg.min_fraction if kelly is None else max(kelly, cfg.min_fraction)
    if cfg.signal_strength is not None and score_excess is not None:
        base *= signal_strength_multiplier(score_excess, cfg.signal_strength)
    return min(base * regime_factor, cfg.max_fraction)


def stake_amount(
    equity: float, fraction: float, min_stake: float | None, max_stake: float
) -> float:
    """Money staked for ``fraction`` of ``equity``, within the exchange's and wallet's limits.

    :param equity: the wallet's total value in the stake currency (free and in trades).
    :param fraction: from :func:`stake_fraction`.
    :param min_stake: the exchange's minimum stake, or None.
    :param max_stake: what the wallet can put in now.
    :return: the stake, or 0 (no trade) when the minimum stake is above the wanted one: rounding a
        stake up past its fraction would break the cap.
    """
    stake = min(equity * fraction, max_stake)
    if min_stake is not None and stake < min_stake:
        return 0.0
    return max(stake, 0.0)
