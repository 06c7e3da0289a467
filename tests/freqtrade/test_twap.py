"""Sliced (TWAP) entries of ITBStrategy in a FreqTrade backtest and on the replay exchange.

ITBStrategy's stake and position-adjustment callbacks run under a scripted signal
(``ScriptedTwap``: no model; an entry at fixed candles, an exit 12 candles later), so that the
child orders can be checked against the candles they were placed on.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.freqtrade.conftest import CANDLES, latest_backtest, make_userdir, run_offline
from tests.freqtrade.conftest import write_config as write_backtest_config
from tests.support.bot import ROOT, replay_session

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
