"""Entry rules: checks that may refuse a new trade, run in order before every entry.

A rule is a pure function of the risk section and an :class:`EntryContext`; it returns the
reason for refusing, or None. Rules are registered by name with :func:`entry_rule`, so the
strategy (``confirm_trade_entry``) and ``itb-ext simulate`` run the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itb_ext.config.risk import RiskConfig
from itb_ext.risk.limits import daily_loss_exceeded, utc_day_start


@dataclass(frozen=True)
class EntryContext:
    """What an entry rule may read.

    :param time: the entry time (timezone-aware).
    :param equity: the wallet's value now.
    :param profits_today: absolute profits of the trades closed since midnight UTC.
    :param candle: the newest closed candle with the strategy's columns (risk columns included).
    """

    time: datetime
    equity: float
    profits_today: tuple[float, ...] = ()
    candle: Mapping[str, Any] = field(default_factory=dict)


EntryRule = Callable[[RiskConfig, EntryContext], str | None]
_RULES: dict[str, EntryRule] = {}


def entry_rule(name: str) -> Callable[[EntryRule], EntryRule]:
    """Register ``function`` as the entry rule ``name`` (a name can be registered once)."""

    def register(function: EntryRule) -> EntryRule:
        if name in _RULES:
            raise ValueError(f"entry rule '{name}' is already registered")
        _RULES[name] = function
        return function

    return register


def entry_rules() -> Mapping[str, EntryRule]:
    """The registered entry rules, in the order they run."""
    return dict(_RULES)


def unregister_entry_rule(name: str) -> None:
    """Remove a registered rule (for tests and plug-ins that replace one)."""
    _RULES.pop(name, None)


def entry_refusal(cfg: RiskConfig, context: EntryContext) -> str | None:
    """The first registered rule's reason to refuse the entry, or None to allow it."""
    for rule in _RULES.values():
        reason = rule(cfg, context)
        if reason is not None:
            return reason
    return None


@entry_rule("daily_loss_limit")
def daily_loss_limit(cfg: RiskConfig, context: EntryContext) -> str | None:
    """Refuse entries for the rest of the UTC day once its closed trades lost the limit."""
    limit = cfg.protections.daily_loss_limit
    if limit is None or not daily_loss_exceeded(context.profits_today, context.equity, limit):
        return None
    day = utc_day_start(context.time).date()
    return f"daily loss limit ({limit:.1%} of equity) reached; no entries until {day} ends (UTC)"
