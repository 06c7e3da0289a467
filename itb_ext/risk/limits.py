"""Entry halts: FreqTrade protections built from ``itb.risk`` and the daily loss limit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from itb_ext.config.risk import ProtectionsConfig


def protection_list(cfg: ProtectionsConfig) -> list[dict[str, Any]]:
    """FreqTrade protection entries (the strategy's ``protections``) for ``cfg``.

    The drawdown halt measures equity (``calculation_mode: equity``), not the sum of trade
    ratios, so it halts at the configured share of the wallet.
    """
    out: list[dict[str, Any]] = []
    if cfg.max_drawdown is not None:
        out.append(
            {
                "method": "MaxDrawdown",
                "calculation_mode": "equity",
                "lookback_period_candles": cfg.max_drawdown.lookback_candles,
                "trade_limit": cfg.max_drawdown.trade_limit,
                "stop_duration_candles": cfg.max_drawdown.stop_candles,
                "max_allowed_drawdown": cfg.max_drawdown.limit,
            }
        )
    if cfg.stoploss_guard is not None:
        out.append(
            {
                "method": "StoplossGuard",
                "lookback_period_candles": cfg.stoploss_guard.lookback_candles,
                "trade_limit": cfg.stoploss_guard.trade_limit,
                "stop_duration_candles": cfg.stoploss_guard.stop_candles,
                "only_per_pair": False,
            }
        )
    if cfg.cooldown_candles > 0:
        out.append({"method": "CooldownPeriod", "stop_duration_candles": cfg.cooldown_candles})
    return out


def utc_day_start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s UTC day (``now`` must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def daily_loss_exceeded(profits_today: Sequence[float], equity: float, limit: float | None) -> bool:
    """Whether the closed trades of the UTC day lost at least ``limit`` of the day's start equity.

    :param profits_today: absolute profits of trades closed since midnight UTC.
    :param equity: the wallet's value now; the day started at ``equity − sum(profits_today)``.
    :param limit: the loss fraction that stops entries, or None (never).
    """
    if limit is None or not profits_today:
        return False
    result = float(sum(profits_today))
    start = equity - result
    if start <= 0:
        return True
    return -result / start >= limit
