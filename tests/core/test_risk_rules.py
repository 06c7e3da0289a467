"""Entry rules: the daily loss limit, and adding a rule of one's own (a toy one here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.risk import ProtectionsConfig, RiskConfig
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.rules import (
    EntryContext,
    entry_refusal,
    entry_rule,
    entry_rules,
    unregister_entry_rule,
)
from itb_ext.simulate.risk import simulate_with_risk

MONDAY = datetime(2024, 1, 1, 15, tzinfo=UTC)


def test_daily_loss_limit_is_a_registered_rule() -> None:
    assert "daily_loss_limit" in entry_rules()
    cfg = RiskConfig(protections=ProtectionsConfig(daily_loss_limit=0.02))
    lost = EntryContext(time=MONDAY, equity=970.0, profits_today=(-30.0,))
    assert entry_refusal(cfg, lost) == (
        "daily loss limit (2.0% of equity) reached; no entries until 2024-01-01 ends (UTC)"
    )
    assert entry_refusal(cfg, EntryContext(time=MONDAY, equity=980.0, profits_today=(-20.0,)))
    assert (
        entry_refusal(cfg, EntryContext(time=MONDAY, equity=995.0, profits_today=(-5.0,))) is None
    )
    # switched off: the whole risk layer or the one limit
    assert RiskPolicy(RiskConfig(enabled=False)).entry_refusal(lost) is None
    off = RiskConfig(protections=ProtectionsConfig(daily_loss_limit=None))
    assert entry_refusal(off, lost) is None


@pytest.fixture
def no_entries_on_mondays() -> Iterator[str]:
    """A toy rule, registered as README's "Adding a risk rule" describes."""

    @entry_rule("no_mondays")
    def no_mondays(cfg: RiskConfig, context: EntryContext) -> str | None:
        return "no entries on Mondays" if context.time.weekday() == 0 else None

    yield "no_mondays"
    unregister_entry_rule("no_mondays")


def test_a_new_rule_refuses_entries_in_the_strategy_policy_and_the_simulation(
    no_entries_on_mondays: str,
) -> None:
    assert list(entry_rules())[-1] == no_entries_on_mondays
    policy = RiskPolicy(RiskConfig())
    assert policy.entry_refusal(EntryContext(time=MONDAY, equity=1000.0)) == "no entries on Mondays"
    tuesday = MONDAY.replace(day=2)
    assert policy.entry_refusal(EntryContext(time=tuesday, equity=1000.0)) is None
    with pytest.raises(ValueError, match="already registered"):
        entry_rule(no_entries_on_mondays)(lambda cfg, context: None)

    # 2024-01-01 is a Monday: a buy signal every candle enters only from Tuesday on
    n = 72
    candles = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": np.full(n, 100.0),
            "high": np.full(n, 101.0),
            "low": np.full(n, 99.0),
            "close": np.full(n, 100.0),
        }
    )
    buy = np.zeros(n, dtype=bool)
    buy[[5, 30]] = True
    sell = np.zeros(n, dtype=bool)
    sell[[10, 35]] = True
    result = simulate_with_risk(candles, buy, sell, RiskConfig(stop=None, regime=None), fee=0.0)
    assert [t.open_date.day for t in result.trades] == [2]


def test_unknown_rules_are_not_left_behind() -> None:
    assert "no_mondays" not in entry_rules()
