"""Kill-switch decisions, the halt and its clearing, TWAP schedules and their config, on tiny
exact inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from itb_ext.config.base import validate
from itb_ext.config.risk_controls import KillSwitchConfig, ModelHealthConfig, TwapConfig
from itb_ext.errors import ConfigError
from itb_ext.risk.kill_switch import (
    COUNTING_FROM_KEY,
    RECORDED,
    Equity,
    Halt,
    StartUp,
    clear_halt,
    counting_from,
    equity_figures,
    halt_file,
    halt_reason,
    read_halt,
    record_halt,
    start_up,
    write_halt,
)
from itb_ext.risk.state import MemoryStore
from itb_ext.risk.twap import ChildOrder, next_child_stake, twap_schedule
from itb_ext.strategy.setup import ITBSetup
from tests.core.test_risk_config import with_risk

NOW = datetime(2019, 5, 2, 15, tzinfo=UTC)


def test_equity_figures_replay_the_closed_trades_in_time_order() -> None:
    closed = [
        (datetime(2019, 5, 2, 3, tzinfo=UTC), -30.0),  # today
        (datetime(2019, 5, 1, 10, tzinfo=UTC), 50.0),  # yesterday: the peak 1050
        (datetime(2019, 5, 1, 20, tzinfo=UTC), -20.0),  # yesterday: the day starts at 1030
    ]
    expected = Equity(now=995.0, peak=1050.0, day_start=1030.0)
    assert equity_figures(1000.0, closed, -5.0, NOW) == expected
    # Open profit above the realised peak is the peak.
    expected = Equity(now=1012.0, peak=1012.0, day_start=1000.0)
    assert equity_figures(1000.0, [], 12.0, NOW) == expected


def test_equity_after_a_clearing_counts_from_the_clearing() -> None:
    closed = [
        (datetime(2019, 5, 2, 1, tzinfo=UTC), 40.0),
        (datetime(2019, 5, 2, 3, tzinfo=UTC), -80.0),  # caused the halt
        (datetime(2019, 5, 2, 9, tzinfo=UTC), -5.0),  # after the clearing at 08:00
    ]
    since = datetime(2019, 5, 2, 8, tzinfo=UTC)
    expected = Equity(now=952.0, peak=960.0, day_start=960.0)
    assert equity_figures(1000.0, closed, -3.0, NOW, since=since) == expected
    # A clearing before today's start leaves the day's start at midnight.
    earlier = datetime(2019, 5, 1, 8, tzinfo=UTC)
    assert equity_figures(1000.0, closed, 0.0, NOW, since=earlier) == Equity(
        now=955.0, peak=1040.0, day_start=1000.0
    )


def test_halt_reason_names_the_limit_crossed() -> None:
    cfg = KillSwitchConfig(max_daily_loss=0.05, max_drawdown=0.2)
    assert halt_reason(Equity(now=960.0, peak=1000.0, day_start=1000.0), cfg) is None
    assert halt_reason(Equity(now=950.0, peak=1000.0, day_start=1000.0), cfg) == (
        "daily loss 5.0 % beyond the limit of 5.0 %"
    )
    assert halt_reason(Equity(now=790.0, peak=1000.0, day_start=800.0), cfg) == (
        "drawdown 21.0 % from the equity peak beyond the limit of 20.0 %"
    )
    off = KillSwitchConfig(enabled=False)
    assert halt_reason(Equity(now=1.0, peak=1000.0, day_start=1000.0), off) is None


def test_halt_file_sits_beside_the_database_and_survives_a_round_trip(tmp_path: Path) -> None:
    path = halt_file(f"sqlite:///{tmp_path}/tradesv3.sqlite", tmp_path / "ud")
    assert path == tmp_path / "tradesv3.sqlite.halt.json"
    elsewhere = halt_file("postgresql://x/y", tmp_path / "ud")
    assert elsewhere == tmp_path / "ud" / "kill_switch.halt.json"
    assert read_halt(path) is None
    write_halt(path, Halt(since="2019-05-02 15:00", reason="daily loss 6.0 %"))
    assert read_halt(path) == Halt(since="2019-05-02 15:00", reason="daily loss 6.0 %")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing half-written left
    path.write_text("{garbage")
    assert read_halt(path) == Halt(since="unknown", reason=f"unreadable halt file {path.name}")


def test_twap_schedule_slices_only_stakes_above_the_size() -> None:
    cfg = TwapConfig(enabled=True, above_stake=100.0, children=4, candles=6)
    assert twap_schedule(100.0, cfg) == (ChildOrder(0, 100.0),)
    assert twap_schedule(300.0, cfg) == (
        ChildOrder(0, 75.0),
        ChildOrder(1, 75.0),
        ChildOrder(3, 75.0),
        ChildOrder(4, 75.0),
    )
    thirds = twap_schedule(100.01, TwapConfig(enabled=True, above_stake=1.0, children=3, candles=2))
    assert [c.candle for c in thirds] == [0, 1, 2]
    assert [c.stake for c in thirds] == [33.33666667, 33.33666667, 33.33666666]
    assert twap_schedule(300.0, TwapConfig(enabled=False, above_stake=1.0)) == (
        ChildOrder(0, 300.0),
    )


def test_next_child_is_due_on_its_candle_only() -> None:
    schedule = (ChildOrder(0, 75.0), ChildOrder(1, 75.0), ChildOrder(3, 75.0))
    assert next_child_stake(schedule, 1, 0) is None
    assert next_child_stake(schedule, 1, 1) == 75.0
    assert next_child_stake(schedule, 2, 2) is None
    assert next_child_stake(schedule, 2, 5) == 75.0  # late: placed at once
    assert next_child_stake(schedule, 3, 9) is None  # all filled
    assert next_child_stake(schedule, 0, 9) is None  # the first child is the trade's own entry


def test_a_late_child_keeps_its_distance_to_the_previous_fill() -> None:
    # children at candles 0, 1, 3, 4: gaps 1, 2, 1
    schedule = (ChildOrder(0, 1.0), ChildOrder(1, 2.0), ChildOrder(3, 3.0), ChildOrder(4, 4.0))
    # on time: child 2 at candle 3, two candles after child 1 filled at candle 1
    assert next_child_stake(schedule, 2, 3, candles_since_last_fill=2) == 3.0
    # the bot was down from candle 1 to 7: child 2 goes at once, child 3 one candle later
    assert next_child_stake(schedule, 2, 7, candles_since_last_fill=6) == 3.0
    assert next_child_stake(schedule, 3, 7, candles_since_last_fill=0) is None
    assert next_child_stake(schedule, 3, 8, candles_since_last_fill=1) == 4.0
    # a slow fill of child 1 (candle 2) pushes child 2 to candle 4
    assert next_child_stake(schedule, 2, 3, candles_since_last_fill=1) is None
    assert next_child_stake(schedule, 2, 4, candles_since_last_fill=2) == 3.0


def test_a_halt_survives_a_restart_until_a_person_clears_it(tmp_path: Path) -> None:
    store, path = MemoryStore(), tmp_path / "tradesv3.sqlite.halt.json"
    assert start_up(store, path, NOW) == StartUp(None, None, False)
    record = Halt(since="2019-05-02 15:00 UTC", reason="daily loss 6.0 %")
    assert record_halt(store, record, path) == RECORDED
    assert store.values == {
        "itb_halt_reason": "daily loss 6.0 %",
        "itb_halt_since": "2019-05-02 15:00 UTC",
    }
    assert start_up(store, path, NOW) == StartUp(record, RECORDED, False)
    assert start_up(store, path, NOW) == StartUp(record, RECORDED, False)  # every restart
    assert counting_from(store) is None
    later = datetime(2019, 5, 3, 9, tzinfo=UTC)
    assert clear_halt(store, path, later) == record  # a person clears it
    assert store.values == {COUNTING_FROM_KEY: later, "itb_kill_switch_cleared": 1}
    assert start_up(store, path, later) == StartUp(None, None, True)
    assert start_up(store, path, NOW) == StartUp(None, None, False)  # told once
    assert counting_from(store) == later
    assert clear_halt(store, path, NOW) is None  # nothing to clear: nothing changes
    assert store.values == {COUNTING_FROM_KEY: later}
    assert list(tmp_path.iterdir()) == []  # nothing beside the database


@pytest.mark.parametrize(
    ("model", "raw", "message"),
    [
        (
            KillSwitchConfig,
            {"max_daily_loss": -0.1},
            "max_daily_loss: Input should be greater than 0",
        ),
        (
            KillSwitchConfig,
            {"max_drawdown": 1.5},
            "max_drawdown: Input should be less than or equal to 1",
        ),
        (TwapConfig, {"children": 5, "candles": 2}, "candles must be at least children - 1"),
        (TwapConfig, {"slices": 2}, "risk.kill_switch: unknown key 'slices'"),
        (ModelHealthConfig, {"window": 10, "min_samples": 20}, "min_samples must not exceed"),
    ],
)
def test_bad_settings_name_the_key(model: type, raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate(model, raw, "risk.kill_switch")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("risk", "start"),
    [
        ({"kill_switch": {"max_daily_loss": 0}}, "itb: risk.kill_switch.max_daily_loss: "),
        ({"twap": {"children": 1}}, "itb: risk.twap.children: "),
        ({"twap": {"children": 4, "candles": 2}}, "itb: risk.twap: candles must be at least"),
        ({"model_health": {"min_auc": 1.5}}, "itb: risk.model_health.min_auc: "),
        ({"model_health": {"floor": 0.5}}, "itb: unknown key 'risk.model_health.floor'"),
    ],
)
def test_bad_settings_in_the_itb_section_name_the_key(risk: dict, start: str) -> None:
    with pytest.raises(ConfigError) as error:
        ITBSetup.from_freqtrade_config(with_risk(risk))
    assert str(error.value).startswith(start), str(error.value)
    assert "\n" not in str(error.value)
