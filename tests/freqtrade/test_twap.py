"""Sliced (TWAP) entries of ITBStrategy in a FreqTrade backtest and on the replay exchange.

ITBStrategy's stake and position-adjustment callbacks run under a scripted signal
(``ScriptedTwap``: no model; an entry at fixed candles, an exit 12 candles later), so that the
child orders can be checked against the candles they were placed on.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.freqtrade.conftest import CANDLES, latest_backtest, make_userdir, run_offline
from tests.freqtrade.conftest import write_config as write_backtest_config
from tests.support.bot import ROOT, replay_session, wait_until

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

ENTRIES = ("2019-05-02 10:00", "2019-05-08 10:00")
SCRIPTED = """
import pandas as pd
from pandas import DataFrame

from ITBStrategy import ITBStrategy

ENTRIES = {entries!r}


class ScriptedTwap(ITBStrategy):
    \"\"\"ITBStrategy's sizing callbacks on a scripted signal: fixed entries, exit 12 h later.\"\"\"

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        entries = [pd.Timestamp(e, tz="UTC") for e in ENTRIES]
        dataframe.loc[dataframe["date"].isin(entries), ["enter_long", "enter_tag"]] = (1, "x")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        exits = [pd.Timestamp(e, tz="UTC") + pd.Timedelta(hours=12) for e in ENTRIES]
        dataframe.loc[dataframe["date"].isin(exits), "exit_long"] = 1
        return dataframe
"""
TWAP = {"enabled": True, "above_stake": 100.0, "children": 3, "candles": 6}


def itb_section() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    raw["risk"] = {"enabled": False, "twap": TWAP, "kill_switch": {"enabled": False}}
    return raw


def weighted_price(orders: list[dict[str, Any]]) -> float:
    amount = sum(o["amount"] for o in orders)
    return sum(o["amount"] * o["safe_price"] for o in orders) / amount


def test_backtest_enters_a_large_stake_as_child_orders_on_their_candles(tmp_path: Path) -> None:
    userdir = make_userdir(tmp_path)
    (userdir / "strategies" / "ScriptedTwap.py").write_text(SCRIPTED.format(entries=ENTRIES))
    config = write_backtest_config(
        tmp_path,
        strategy="ScriptedTwap",
        freqai={"enabled": False},
        itb=itb_section(),
        exchange={"pair_whitelist": ["BTC/USD"]},
        max_open_trades=1,
        stake_amount=300,
        dry_run_wallet=1000,
    )
    run = run_offline(
        "backtesting", config, userdir, "--timerange", "20190501-20190515", "--export", "trades"
    )
    assert run.returncode == 0, run.output[-3000:]
    trades = latest_backtest(userdir / "backtest_results")["strategy"]["ScriptedTwap"]["trades"]
    candles = pd.read_feather(CANDLES / "BTC_USD-1h.feather").set_index("date")

    # Each signal candle's trade opens at the next candle's open.
    opened_at = [pd.Timestamp(t["open_date"]) for t in trades]
    assert opened_at == [pd.Timestamp(e, tz="UTC") + pd.Timedelta(hours=1) for e in ENTRIES]
    for trade in trades:
        entries = [o for o in trade["orders"] if o["ft_is_entry"]]
        opened = pd.Timestamp(trade["open_date"])
        # Three children of 100 USDT, on the entry candle and 2 and 4 candles later, each
        # filled at the open of its candle.
        placed = [pd.Timestamp(o["order_filled_timestamp"], unit="ms", tz="UTC") for o in entries]
        assert placed == [opened + pd.Timedelta(hours=h) for h in (0, 2, 4)], placed
        for order, moment in zip(entries, placed, strict=True):
            assert order["safe_price"] == pytest.approx(candles.loc[moment, "open"])
            assert order["amount"] * order["safe_price"] == pytest.approx(100.0, rel=1e-3)
        assert trade["stake_amount"] == pytest.approx(300.0, rel=1e-3)
        assert trade["open_rate"] == pytest.approx(weighted_price(entries), rel=1e-9)
        # The average differs from the first fill: the later children moved it.
        assert trade["open_rate"] != pytest.approx(entries[0]["safe_price"], rel=1e-6)
    print(
        "backtest TWAP: "
        + ", ".join(f"{len(t['orders']) - 1} children, avg {t['open_rate']:.2f}" for t in trades)
    )


LIVE_SCRIPTED = """
from pandas import DataFrame

from ITBStrategy import ITBStrategy


class ScriptedTwapLive(ITBStrategy):
    \"\"\"ITBStrategy's sizing callbacks; an entry signal on every candle.\"\"\"

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
"""


def test_live_bot_places_and_fills_the_child_orders_on_the_replay_exchange(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir()
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", folder)
    (folder / "ScriptedTwapLive.py").write_text(LIVE_SCRIPTED)
    with replay_session(
        tmp_path,
        datetime(2019, 5, 1, 15, tzinfo=UTC),
        strategy="ScriptedTwapLive",
        strategy_path=folder,
        mode="live",
        telegram=False,
        pairs=("BTC/USDT",),
        balances={"USDT": 1000},
        stake_amount=300,
        config_overrides={"itb": itb_section(), "max_open_trades": 1},
    ) as session:
        bot, exchange = session.bot, session.exchange
        bot.wait_for(
            lambda: len([o for o in bot.orders() if o["status"] == "closed"]) >= 3,
            120,
            what="three filled child orders",
        )
        # No fourth child comes: wait past the schedule's end.
        opened = pd.Timestamp(bot.trades()[0]["open_date"]).tz_localize("UTC")
        bot.wait_for(
            lambda: pd.Timestamp(session.clock.now()) > opened + pd.Timedelta(hours=8),
            60,
            what="the schedule's end",
        )
        trades, orders = bot.trades(), bot.orders()
        placed = {str(o.order_id): o for o in exchange.orders()}
        posted = exchange.requests_to("/api/v3/order", "POST")

    assert len(trades) == 1 and trades[0]["is_open"]
    trade = trades[0]
    assert len(orders) == len(posted) == 3
    assert {o["ft_order_side"] for o in orders} == {"buy"}
    candle_of = [
        (pd.Timestamp(o["order_date"]).tz_localize("UTC") - opened.floor("1h"))
        // pd.Timedelta(hours=1)
        for o in orders
    ]
    assert candle_of == [0, 2, 4], candle_of
    fills = []
    for order in orders:
        on_exchange = placed[order["order_id"]]
        assert on_exchange.status == "FILLED" and on_exchange.side == "BUY"
        price = float(on_exchange.fills[0]["price"])
        quantity = float(on_exchange.quantity)
        assert quantity == pytest.approx(order["filled"])
        assert price * quantity == pytest.approx(100.0, rel=0.01)  # one third of the stake
        fills.append((quantity, price))
    average = sum(q * p for q, p in fills) / sum(q for q, _ in fills)
    # FreqTrade keeps the average entry price to the market's tick (0.01).
    assert trade["open_rate"] == pytest.approx(average, abs=0.01)
    assert len({p for _, p in fills}) > 1  # the children filled at different prices
    assert trade["stake_amount"] == pytest.approx(300.0, rel=0.01)
    print(f"replay TWAP: {len(fills)} fills {fills}, average {average:.2f}")


RESTART_SCRIPTED = """
from pathlib import Path

from pandas import DataFrame

from ITBStrategy import ITBStrategy

FILL_NOW = Path({marker!r})


class ScriptedTwapRestart(ITBStrategy):
    \"\"\"ITBStrategy's sizing callbacks; an entry signal on every candle. The first child rests
    5 % below the market until the test allows it to fill (it is then re-placed at the
    market).\"\"\"

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side,
                           **kwargs):
        resting = trade is None and not FILL_NOW.exists()
        return proposed_rate * 0.95 if resting else proposed_rate

    def adjust_entry_price(self, trade, order, pair, current_time, proposed_rate,
                           current_order_rate, entry_tag, side, **kwargs):
        if FILL_NOW.exists() and trade.nr_of_successful_entries == 0:
            return proposed_rate
        return current_order_rate
"""
#: Four children of 100 USDT at candles 0, 1, 3 and 4 (gaps 1, 2, 1).
RESTART_TWAP = {"enabled": True, "above_stake": 100.0, "children": 4, "candles": 6}


def plan_in_database(bot: Any) -> Any:
    rows = bot.query("SELECT cd_value FROM trade_custom_data WHERE cd_key = 'twap_plan'")
    return json.loads(rows[0]["cd_value"]) if rows else None


def filled_entries(bot: Any) -> list[dict[str, Any]]:
    orders = [o for o in bot.orders() if o["ft_order_side"] == "buy" and o["status"] == "closed"]
    return sorted(orders, key=lambda o: o["order_filled_date"])


def test_a_restart_keeps_the_plan_and_the_spacing_of_the_children(tmp_path: Path) -> None:
    folder, marker = tmp_path / "strategies", tmp_path / "fill-now"
    folder.mkdir()
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", folder)
    source = RESTART_SCRIPTED.format(marker=str(marker))
    (folder / "ScriptedTwapRestart.py").write_text(source)
    risk = {"enabled": False, "twap": RESTART_TWAP, "kill_switch": {"enabled": False}}
    raw = {**itb_section(), "risk": risk}
    with replay_session(
        tmp_path,
        datetime(2019, 5, 1, 15, tzinfo=UTC),
        strategy="ScriptedTwapRestart",
        strategy_path=folder,
        mode="live",
        telegram=False,
        speed=600,  # a candle every 6 real seconds; a restart lasts a few candles
        pairs=("BTC/USDT",),
        balances={"USDT": 1000},
        stake_amount=400,
        config_overrides={
            "itb": raw,
            "max_open_trades": 1,
            "unfilledtimeout": {"entry": 6000, "exit": 10, "unit": "minutes"},
        },
    ) as session:
        bot, exchange = session.bot, session.exchange
        # 1. The first child rests unfilled; the plan is already with the trade. Crash.
        bot.wait_for(lambda: plan_in_database(bot), 60, what="the plan in the trade's custom_data")
        assert [o.status for o in exchange.orders()] == ["NEW"]
        bot.kill()
        assert plan_in_database(bot) == {
            "stake": 400.0,
            "children": [[0, 100.0], [1, 100.0], [3, 100.0], [4, 100.0]],
        }
        assert filled_entries(bot) == []

        # 2. Restarted, the first child fills; the second follows from the kept plan. Crash
        # again once it filled, and stay down for a few candles.
        marker.touch()
        bot.start()
        bot.wait_ready(90)
        bot.wait_for(lambda: len(filled_entries(bot)) >= 2, 120, what="two filled children")
        bot.kill()
        down_from = session.clock.now()
        wait_until(
            lambda: session.clock.now() >= down_from + timedelta(hours=3), 60, what="3 candles"
        )

        # 3. Restarted late: the third child goes at once, the fourth keeps its one candle.
        bot.start()
        bot.wait_ready(90)
        bot.wait_for(lambda: len(filled_entries(bot)) >= 4, 120, what="four filled children")
        trades = bot.trades()
        entries = filled_entries(bot)
        bot.wait_for(
            lambda: (
                session.clock.now()
                >= pd.Timestamp(entries[-1]["order_filled_date"]).tz_localize("UTC")
                + pd.Timedelta(hours=3)
            ),
            60,
            what="past the schedule's end",
        )
        assert len(filled_entries(bot)) == 4  # no fifth child

    assert len(trades) == 1
    opened = pd.Timestamp(trades[0]["open_date"]).tz_localize("UTC")

    def candle_of(moment: str) -> int:
        return int((pd.Timestamp(moment).tz_localize("UTC") - opened) // pd.Timedelta(hours=1))

    placed = [candle_of(o["order_date"]) for o in entries]
    filled = [candle_of(o["order_filled_date"]) for o in entries]
    assert placed[1] >= max(1, filled[0] + 1), (placed, filled)  # its candle, after the fill
    assert placed[2] >= max(3, filled[1] + 2), (placed, filled)
    # the third child was late (the bot was down); the fourth still waits its one candle
    assert placed[2] >= filled[1] + 3, (placed, filled)
    assert placed[3] - filled[2] >= 1, (placed, filled)
    assert trades[0]["stake_amount"] == pytest.approx(400.0, rel=0.01)
    canceled = [o for o in exchange.orders() if o.status == "CANCELED"]
    assert len(canceled) == 1  # the resting first child, re-placed at the market
    print(f"TWAP across restarts: placed at candles {placed}, filled at {filled}")
