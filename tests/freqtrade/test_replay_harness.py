"""``freqtrade trade`` against the replay exchange and the fake Telegram, end to end.

Each test starts a real FreqTrade bot process (dry-run or live) with a throwaway SMA-cross
strategy on real 2019 BTC/ETH hourly candles replayed at 1200x (one candle every 3 real
seconds), and checks outcomes through the bot's SQLite database, its REST API, the exchange's
request log and balances, and the Telegram messages. See tests/support/ for the harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support.bot import ReplaySession, replay_session, wait_until, write_shim
from tests.support.fake_telegram import FakeTelegram
from tests.support.replay_exchange import (
    BITFINEX_CANDLES,
    HOUR_MS,
    ReplayExchange,
    SimClock,
)

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

FAST, SLOW = 3, 8
SMA_CROSS = f'''
from pandas import DataFrame
from freqtrade.strategy import IStrategy


class SmaCross(IStrategy):
    """Throwaway test strategy: long on SMA{FAST} crossing above SMA{SLOW}, out on the way down."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {{"0": 10.0}}
    stoploss = -0.5
    startup_candle_count = 20
    process_only_new_candles = True
    use_exit_signal = True

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["fast"] = dataframe["close"].rolling({FAST}).mean()
        dataframe["slow"] = dataframe["close"].rolling({SLOW}).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        above = dataframe["fast"] > dataframe["slow"]
        dataframe.loc[above & ~above.shift(1, fill_value=False), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        below = dataframe["fast"] < dataframe["slow"]
        dataframe.loc[below & ~below.shift(1, fill_value=False), "exit_long"] = 1
        return dataframe
'''
HOLD = '''
from pandas import DataFrame
from freqtrade.strategy import IStrategy


class Hold(IStrategy):
    """Never signals: trades only come from /forceenter and leave through /forceexit."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 10.0}
    stoploss = -0.9
    startup_candle_count = 5

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
'''

# 2019-05-01: SMA3/SMA8 crosses up on the 17:00 candles of BTC and ETH, down at 19:00 (ETH)
# and 20:00 (BTC): two round trips within six replayed hours.
START = datetime(2019, 5, 1, 15, 0, tzinfo=UTC)
FILES = {"BTC/USDT": "BTC_USD-1h.feather", "ETH/USDT": "ETH_USD-1h.feather"}


@pytest.fixture(scope="module")
def strategy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("strategies")
    (folder / "SmaCross.py").write_text(SMA_CROSS)
    (folder / "Hold.py").write_text(HOLD)
    return folder


@pytest.fixture(scope="module")
def crosses() -> dict[str, tuple[set[pd.Timestamp], set[pd.Timestamp]]]:
    """Per pair: open times of the candles where SMA3 crosses above / below SMA8."""
    result = {}
    for pair, name in FILES.items():
        close = pd.read_feather(BITFINEX_CANDLES / name).set_index("date")["close"]
        above = close.rolling(FAST).mean() > close.rolling(SLOW).mean()
        below = close.rolling(FAST).mean() < close.rolling(SLOW).mean()
        ups = set(above.index[above & ~above.shift(1, fill_value=False)])
        downs = set(below.index[below & ~below.shift(1, fill_value=False)])
        result[pair] = (ups, downs)
    return result


def db_time(text: str) -> pd.Timestamp:
    """A naive UTC timestamp of FreqTrade's database as an aware one."""
    return pd.Timestamp(text).tz_localize("UTC")


def signal_candle(moment: pd.Timestamp) -> pd.Timestamp:
    """Open time of the candle whose close triggered an action taken at ``moment``."""
    return moment.floor("1h") - pd.Timedelta(hours=1)


def path_prices(exchange: ReplayExchange, pair: str, moment: pd.Timestamp) -> list[float]:
    """The four prices of the replay path (open, extreme, extreme, close) in ``moment``'s hour."""
    series = exchange.candles[pair]
    index = series.index_at(int(moment.timestamp() * 1000))
    return [round(float(price), 2) for price in series.step_values[index]]


def newest_candle_ms(session: ReplaySession, pair: str) -> int | None:
    """Open time (ms) of the newest candle in the bot's analysed dataframe, via the REST API."""
    try:
        answer = session.bot.pair_candles(pair, limit=3)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not answer.get("data"):
        return None
    column = answer["columns"].index("__date_ts")
    return int(answer["data"][-1][column])


def caught_up(session: ReplaySession, pair: str) -> bool:
    """The bot has analysed the exchange's newest closed candle."""
    newest = newest_candle_ms(session, pair)
    return newest is not None and newest >= session.exchange.last_closed_candle_ms(pair)


def closed_trades(session: ReplaySession) -> list[dict[str, Any]]:
    return [t for t in session.bot.trades() if not t["is_open"]]


def open_orders(session: ReplaySession) -> list[dict[str, Any]]:
    """Orders the bot still considers open on the exchange."""
    return [o for o in session.bot.orders() if o["ft_is_open"]]


# ---------------------------------------------------------------------------- harness pieces


def test_sim_clock_runs_at_its_speed_and_stays_continuous(tmp_path: Path) -> None:
    clock = SimClock(tmp_path / "clock", start=START, speed=3600)
    time.sleep(0.2)
    elapsed = (clock.now() - START).total_seconds()
    assert 0.2 * 3600 <= elapsed < 5 * 3600  # at least 12 sim minutes for 0.2 real seconds
    clock.set_speed(0)
    frozen = clock.now()
    time.sleep(0.05)
    assert clock.now() == frozen
    clock.advance(90)
    assert clock.now() == frozen + timedelta(seconds=90)
    with pytest.raises(ValueError, match="back in time"):
        clock.advance(-1)
    clock.close()


CHILD_PROBE = """
import json, time, datetime
import pandas as pd
from telegram.ext import Application
sim_start = time.time()
real_start = time.monotonic()
time.sleep(120)  # sim seconds
print(json.dumps({
    "time": sim_start,
    "now": datetime.datetime.now(datetime.UTC).timestamp(),
    "pandas": pd.Timestamp.now(tz="UTC").timestamp(),
    "slept_sim": time.time() - sim_start,
    "slept_real": time.monotonic() - real_start,
    "telegram": Application.builder().token("1:T").build().bot.base_url,
}))
"""


def test_child_shim_puts_the_process_on_the_sim_clock_and_the_fake_telegram(
    tmp_path: Path,
) -> None:
    clock = SimClock(tmp_path / "clock", start=START, speed=600)
    with FakeTelegram() as telegram:
        shim = write_shim(tmp_path / "shim")
        env = {**os.environ, **clock.env(), **telegram.env(), "PYTHONPATH": str(shim.parent)}
        before = clock.now().timestamp()
        done = subprocess.run(
            [sys.executable, "-c", CHILD_PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        after = clock.now().timestamp()
    seen = json.loads(done.stdout)
    for key in ("time", "now", "pandas"):
        assert before <= seen[key] <= after, key  # 2019, not today
    assert seen["slept_sim"] >= 120
    assert seen["slept_real"] < 2  # 120 sim seconds at 600x is 0.2 real seconds
    assert seen["telegram"] == f"{telegram.url}/bot1:T"
    assert "replay shim" in done.stderr
    clock.close()


def test_replay_exchange_serves_binance_through_ccxt(tmp_path: Path) -> None:
    import ccxt

    candles = pd.read_feather(BITFINEX_CANDLES / FILES["BTC/USDT"]).set_index("date")
    hour = candles.loc[pd.Timestamp(START)]
    up = hour["close"] >= hour["open"]
    clock = SimClock(tmp_path / "clock", start=START + timedelta(minutes=10), speed=0)
    with ReplayExchange(clock, balances={"USDT": 1000}) as exchange:
        api = ccxt.binance(
            {
                **exchange.ccxt_config(timeout_ms=500),
                "apiKey": exchange.api_key,
                "secret": exchange.api_secret,
            }
        )
        markets = api.load_markets()
        assert set(markets) == {"BTC/USDT", "ETH/USDT"}
        assert markets["BTC/USDT"]["precision"]["amount"] == 0.00001
        assert markets["BTC/USDT"]["limits"]["cost"]["min"] == 5

        # Closed candles come straight from the file; the newest one is still forming.
        rows = api.fetch_ohlcv("BTC/USDT", "1h", limit=3)
        previous = candles.loc[pd.Timestamp(START) - pd.Timedelta(hours=1)]
        assert rows[-2][1:] == pytest.approx(
            list(previous[["open", "high", "low", "close", "volume"]])
        )
        assert rows[-1][0] == int(START.timestamp() * 1000)
        assert rows[-1][1:5] == [hour["open"]] * 4  # the path holds the open for 24 minutes
        four = api.fetch_ohlcv("BTC/USDT", "4h", limit=2)
        block = candles.loc[
            pd.Timestamp(START) - pd.Timedelta(hours=3) : pd.Timestamp(START)
            - pd.Timedelta(hours=1)
        ]
        assert four[-1][0] == int((START - timedelta(hours=3)).timestamp() * 1000)
        assert four[-1][2] == max(block["high"].max(), hour["open"])
        assert api.fetch_ticker("BTC/USDT")["last"] == hour["open"]

        # A market buy fills at the path price; the commission is taken in BTC.
        bought = api.create_order("BTC/USDT", "market", "buy", 0.01)
        assert (bought["status"], bought["average"]) == ("closed", hour["open"])
        assert bought["fee"] == {"currency": "BTC", "cost": pytest.approx(0.00001)}
        # A resting limit sell fills at its price once the path reaches the candle's high.
        sell = api.create_order("BTC/USDT", "limit", "sell", 0.009, hour["high"])
        assert sell["status"] == "open"
        assert api.fetch_balance()["BTC"]["used"] == pytest.approx(0.009)
        clock.advance(60 * (30 if up else 16))  # into the step of the high (from 15:10)
        filled = api.fetch_order(sell["id"], "BTC/USDT")
        assert (filled["status"], filled["average"]) == ("closed", hour["high"])
        cheap = api.create_order("BTC/USDT", "limit", "buy", 0.01, round(hour["low"] * 0.5, 2))
        assert [o["id"] for o in api.fetch_open_orders("BTC/USDT")] == [cheap["id"]]
        assert api.cancel_order(cheap["id"], "BTC/USDT")["status"] == "canceled"
        balance = api.fetch_balance()
        usdt = 1000 - 0.01 * hour["open"] + 0.009 * hour["high"] * 0.999
        assert balance["USDT"]["free"] == pytest.approx(usdt)
        assert balance["USDT"]["used"] == 0
        assert balance["BTC"]["free"] == pytest.approx(0.00099)
        assert [t["fee"]["currency"] for t in api.fetch_my_trades("BTC/USDT")] == ["BTC", "USDT"]

        # Faults, as ccxt (and so FreqTrade) sees them.
        exchange.fail_next(1, status=500, path="/api/v3/ticker")
        with pytest.raises(ccxt.ExchangeNotAvailable):
            api.fetch_ticker("BTC/USDT")
        exchange.fail_next(1, status=429, retry_after=2)
        with pytest.raises(ccxt.DDoSProtection):
            api.fetch_ticker("BTC/USDT")
        exchange.stall_next(1, seconds=1.0, path="/api/v3/depth")
        with pytest.raises(ccxt.RequestTimeout):
            api.fetch_order_book("BTC/USDT")
        assert exchange.faults_pending() == 0
        forged = ccxt.binance(
            {**exchange.ccxt_config(), "apiKey": exchange.api_key, "secret": "wrong"}
        )
        forged.set_markets(list(markets.values()))
        with pytest.raises(ccxt.AuthenticationError):
            forged.fetch_open_orders("BTC/USDT")
        start_ms = int(START.timestamp() * 1000)
        exchange.drop_candle("BTC/USDT", start_ms - HOUR_MS)
        opens = [row[0] for row in api.fetch_ohlcv("BTC/USDT", "1h", limit=3)]
        assert opens == [start_ms - 3 * HOUR_MS, start_ms - 2 * HOUR_MS, start_ms]
        exchange.delay_candle("BTC/USDT", start_ms, seconds=3600)
        assert api.fetch_ohlcv("BTC/USDT", "1h", limit=1)[0][0] == start_ms - 2 * HOUR_MS

        # The stalled request is logged once it is answered, after the client gave up.
        wait_until(lambda: len([r for r in exchange.requests if r.fault]) == 3, 5, what="log")
        statuses = {r.fault: r.status for r in exchange.requests if r.fault}
        assert statuses == {"status 500": 500, "status 429": 429, "stall 1.0s": 200}
        assert exchange.unhandled() == []
    clock.close()


# ---------------------------------------------------------------------------- bots


@pytest.fixture
def dry_run(tmp_path: Path, strategy_path: Path) -> Iterator[ReplaySession]:
    with replay_session(
        tmp_path, START, strategy="SmaCross", strategy_path=strategy_path
    ) as session:
        yield session


def test_dry_run_bot_trades_the_sma_crosses_of_the_replayed_candles(
    dry_run: ReplaySession, crosses: dict[str, tuple[set[pd.Timestamp], set[pd.Timestamp]]]
) -> None:
    session, bot, exchange = dry_run, dry_run.bot, dry_run.exchange
    started = time.monotonic()
    bot.wait_for(lambda: len(closed_trades(session)) >= 2, 90, what="two closed trades")
    elapsed = time.monotonic() - started

    trades = bot.trades()
    assert {t["pair"] for t in closed_trades(session)} == {"BTC/USDT", "ETH/USDT"}
    at_open = 0
    for trade in trades:
        ups, downs = crosses[trade["pair"]]
        opened = db_time(trade["open_date"])
        # Entered within the hour after the candle whose close showed the cross up.
        assert signal_candle(opened) in ups, (trade["pair"], opened)
        # Filled at a price of the replayed candle it entered in (the open, normally).
        assert trade["open_rate"] in path_prices(exchange, trade["pair"], opened)
        at_open += trade["open_rate"] == path_prices(exchange, trade["pair"], opened)[0]
        if not trade["is_open"]:
            closed = db_time(trade["close_date"])
            assert signal_candle(closed) in downs, (trade["pair"], closed)
            assert trade["close_rate"] in path_prices(exchange, trade["pair"], closed)
            assert trade["exit_reason"] == "exit_signal"
            expected = trade["amount"] * (trade["close_rate"] - trade["open_rate"])
            assert trade["close_profit_abs"] == pytest.approx(expected, abs=0.5)

    # The REST API shows the same trades and the bot's dataframe reaches the replay's present.
    api_open = {t["trade_id"] for t in bot.status()}
    assert api_open == {t["id"] for t in trades if t["is_open"]}
    assert {t["trade_id"] for t in bot.api("/api/v1/status", auth="jwt")} == api_open
    bot.wait_for(lambda: caught_up(session, "BTC/USDT"), 15, what="BTC dataframe up to date")
    # Dry-run: the exchange saw no private call and nothing it does not serve.
    assert exchange.requests_to("/api/v3/order") == []
    assert exchange.unhandled() == []
    replayed = session.sim_hours_since(START)
    print(
        f"dry run: {replayed:.1f} candles replayed, {len(trades)} trades "
        f"({at_open} entered at the candle open), {elapsed:.1f}s"
    )


def test_status_command_round_trip_through_fake_telegram(
    tmp_path: Path, strategy_path: Path
) -> None:
    with replay_session(tmp_path, START, strategy="Hold", strategy_path=strategy_path) as session:
        telegram, bot = session.telegram, session.bot
        assert telegram is not None
        telegram.wait_for_message(r"\*Status:\* `running`", 30)
        telegram.wait_until_polling(30)

        mark = len(telegram.messages)
        telegram.send_user_message("/status")
        assert telegram.wait_for_message("active trade", 30, start=mark).text == "no active trade"

        trade_id = bot.force_enter("BTC/USDT")["trade_id"]
        telegram.wait_for_message(rf"New Trade \(#{trade_id}\)", 30)
        mark = len(telegram.messages)
        telegram.send_user_message("/status")
        reply = telegram.wait_for_message(rf"Trade ID:\* `{trade_id}`", 30, start=mark)
        assert "BTC/USDT" in reply.text
        assert reply.chat_id == str(telegram.chat_id)

        # A message from another chat is ignored.
        mark = len(telegram.messages)
        telegram.send_user_message("/status", chat_id=999)
        bot.wait_for_log(r"Rejected unauthorized message from: 999", 30)
        assert telegram.texts(mark) == []
        assert {c.method for c in telegram.calls} >= {"getMe", "deleteWebhook", "getUpdates"}
        print(f"telegram: {len(telegram.messages)} messages, {len(telegram.calls)} API calls")


@pytest.fixture(scope="module")
def faulty(
    tmp_path_factory: pytest.TempPathFactory, strategy_path: Path
) -> Iterator[ReplaySession]:
    """One dry-run bot shared by the fault tests, which run in order and each wait for recovery."""
    with replay_session(
        tmp_path_factory.mktemp("faults"),
        START,
        strategy="SmaCross",
        strategy_path=strategy_path,
        telegram=False,
        ccxt_timeout_ms=1500,
    ) as session:
        session.bot.wait_for(lambda: caught_up(session, "BTC/USDT"), 30, what="first analysis")
        yield session


def recover(session: ReplaySession, what: str) -> float:
    """Wait until injected faults are consumed and the bot analysed the newest candle again.

    :return: recovery time in real seconds, from the last fault consumed.
    """
    bot, exchange = session.bot, session.exchange
    bot.wait_for(lambda: exchange.faults_pending() == 0, 30, what=f"{what}: faults consumed")
    consumed = time.monotonic()
    bot.wait_for(
        lambda: exchange.requests_to("/api/v3/klines")[-1].status == 200,
        30,
        what=f"{what}: a successful klines request",
    )
    pairs = ("BTC/USDT", "ETH/USDT")
    bot.wait_for(
        lambda: all(caught_up(session, pair) for pair in pairs), 45, what=f"{what}: caught up"
    )
    assert bot.running and bot.ping()
    return time.monotonic() - consumed


def test_bot_recovers_from_http_500_on_klines(faulty: ReplaySession) -> None:
    mark = len(faulty.bot.log_text())
    faulty.exchange.fail_next(2, status=500, path="/api/v3/klines")
    seconds = recover(faulty, "HTTP 500")
    faulty.bot.wait_for_log(r"_async_get_candle_history\(\) returned exception.*500", 5, after=mark)
    failed = [r for r in faulty.exchange.requests_to("/api/v3/klines") if r.status == 500]
    assert len(failed) == 2
    print(f"HTTP 500 x2: recovered in {seconds:.1f}s")


def test_bot_recovers_from_http_429_rate_limit(faulty: ReplaySession) -> None:
    mark = len(faulty.bot.log_text())
    faulty.exchange.fail_next(2, status=429, path="/api/v3/klines", retry_after=1)
    seconds = recover(faulty, "HTTP 429")
    faulty.bot.wait_for_log(r"DDosProtection|429", 5, after=mark)
    print(f"HTTP 429 x2: recovered in {seconds:.1f}s")


def test_bot_recovers_from_a_request_timeout(faulty: ReplaySession) -> None:
    mark = len(faulty.bot.log_text())
    faulty.exchange.stall_next(1, seconds=2.5, path="/api/v3/klines")  # ccxt timeout is 1.5s
    seconds = recover(faulty, "timeout")
    faulty.bot.wait_for_log(r"RequestTimeout|timed out", 5, after=mark)
    print(f"timeout: recovered in {seconds:.1f}s")


def test_bot_fills_a_missing_candle_and_goes_on(faulty: ReplaySession) -> None:
    exchange, bot = faulty.exchange, faulty.bot
    gap = exchange.next_candle_open_ms() + HOUR_MS
    exchange.drop_candle("BTC/USDT", gap)
    bot.wait_for(
        lambda: (newest_candle_ms(faulty, "BTC/USDT") or 0) >= gap + 2 * HOUR_MS,
        60,
        what="candles after the gap",
    )
    answer = bot.pair_candles("BTC/USDT", limit=10)
    columns = answer["columns"]
    rows = {row[columns.index("__date_ts")]: row for row in answer["data"]}
    filled, before = rows[gap], rows[gap - HOUR_MS]
    # FreqTrade fills the hole with a flat zero-volume candle at the previous close.
    assert filled[columns.index("volume")] == 0
    prev_close = before[columns.index("close")]
    for name in ("open", "high", "low", "close"):
        assert filled[columns.index(name)] == pytest.approx(prev_close)
    served = [
        r for r in exchange.requests_to("/api/v3/klines") if r.params.get("symbol") == "BTCUSDT"
    ]
    assert served and all(r.status == 200 for r in served[-3:])
    assert bot.running


def test_bot_waits_for_a_delayed_candle(faulty: ReplaySession) -> None:
    exchange, bot = faulty.exchange, faulty.bot
    late = exchange.next_candle_open_ms() + HOUR_MS
    mark = len(bot.log_text())
    exchange.delay_candle("BTC/USDT", late, seconds=1.5 * 3600)
    # While the candle is late the bot's newest BTC candle stays two hours behind and it warns.
    bot.wait_for_log(r"Outdated history for pair BTC/USDT", 60, after=mark)
    assert (newest_candle_ms(faulty, "BTC/USDT") or 0) < late
    bot.wait_for(
        lambda: (newest_candle_ms(faulty, "BTC/USDT") or 0) >= late, 30, what="the delayed candle"
    )
    started = time.monotonic()
    bot.wait_for(lambda: caught_up(faulty, "BTC/USDT"), 30, what="BTC caught up")
    print(f"delayed candle: caught up {time.monotonic() - started:.1f}s after it appeared")


def test_kill_9_and_restart_keeps_the_open_trade(tmp_path: Path, strategy_path: Path) -> None:
    with replay_session(
        tmp_path,
        START,
        strategy="Hold",
        strategy_path=strategy_path,
        mode="live",
        telegram=False,
    ) as session:
        bot, exchange = session.bot, session.exchange
        trade_id = bot.force_enter("BTC/USDT")["trade_id"]
        bot.wait_for(
            lambda: bot.orders() and not open_orders(session),
            30,
            what="the entry order filled",
        )
        before = bot.trades()
        buys = exchange.requests_to("/api/v3/order", "POST")
        assert len(buys) == 1

        bot.kill()
        assert not bot.running and bot.process is not None and bot.process.returncode == -9
        killed = time.monotonic()
        bot.start()
        bot.wait_ready(90)
        restart_seconds = time.monotonic() - killed
        bot.wait_for_log(r"Changing state.* to: RUNNING", 10)
        # Let the restarted bot run a few candles: nothing is re-entered or re-ordered.
        target = exchange.clock.now() + timedelta(hours=3)
        bot.wait_for(lambda: exchange.clock.now() >= target, 30, what="three more candles")

        after = bot.trades()
        assert [t["id"] for t in after] == [trade_id]
        assert after[0]["is_open"] == 1
        assert after[0]["amount"] == before[0]["amount"]
        assert after[0]["open_date"] == before[0]["open_date"]
        assert [t["trade_id"] for t in bot.status()] == [trade_id]
        assert len(exchange.requests_to("/api/v3/order", "POST")) == 1
        assert len(bot.orders()) == 1
        # The restored trade is still managed: it can be closed on the exchange. A market
        # order, so the check does not hang on whether a later candle crosses a limit price.
        bot.force_exit(trade_id, ordertype="market")
        bot.wait_for(lambda: not bot.trades()[0]["is_open"], 30, what="the exit filled")
        sells = [
            r for r in exchange.requests_to("/api/v3/order", "POST") if r.params["side"] == "SELL"
        ]
        assert len(sells) == 1
        print(f"kill -9: restart to ready in {restart_seconds:.1f}s")


def test_live_bot_places_and_fills_orders_through_the_order_endpoints(
    tmp_path: Path, strategy_path: Path
) -> None:
    fee = 0.001
    with replay_session(
        tmp_path,
        START,
        strategy="SmaCross",
        strategy_path=strategy_path,
        mode="live",
        telegram=False,
        balances={"USDT": 1000},
    ) as session:
        bot, exchange = session.bot, session.exchange
        bot.wait_for(lambda: len(closed_trades(session)) >= 2, 90, what="two closed trades")
        bot.wait_for(lambda: not open_orders(session), 30, what="no open orders")
        orders = [o for o in bot.orders() if o["status"] == "closed"]
        balances = exchange.balances()
        posted = exchange.requests_to("/api/v3/order", "POST")

    # Every order of the bot went through POST /api/v3/order, signed with the test key.
    assert len(posted) == len(bot.orders())
    assert all(r.status == 200 and "signature" in r.params for r in posted)
    exchange_orders = {str(o.order_id): o for o in exchange.orders()}
    for order in orders:
        placed = exchange_orders[order["order_id"]]
        assert placed.status == "FILLED"
        assert float(placed.quantity) == pytest.approx(order["filled"])
        assert float(placed.fills[0]["price"]) == pytest.approx(order["average"])

    # Balances follow the fills: buys pay quote and receive base less the commission.
    usdt, base = 1000.0, {"BTC": 0.0, "ETH": 0.0}
    for order in orders:
        coin = order["ft_pair"].split("/")[0]
        cost = order["filled"] * order["average"]
        if order["ft_order_side"] == "buy":
            usdt -= cost
            base[coin] += order["filled"] * (1 - fee)
        else:
            usdt += cost * (1 - fee)
            base[coin] -= order["filled"]
    assert balances["USDT"][0] == pytest.approx(usdt, abs=1e-6)
    for coin, amount in base.items():
        assert balances[coin][0] == pytest.approx(amount, abs=1e-8)
        assert balances[coin][1] == 0
    assert exchange.unhandled() == []
    print(f"live: {len(posted)} orders posted and filled, balances {balances}")
