"""ITBStrategy + ITBClassifier in ``freqtrade trade`` against the replay exchange, end to end.

A real FreqTrade bot (dry-run, one test live) runs ITBStrategy with the FreqAI model
ITBClassifier on real 2019 BTC hourly candles replayed by the fake Binance of
tests/support/replay_exchange.py, with the fake Telegram of tests/support/fake_telegram.py. The
ITB section is the sample's (``user_data/itb-sample-1h.json``) cut down for speed: ``lc`` and
``gb`` only, 30 training days, no retraining. The thresholds sit inside the range the trained
scores take in May 2019 (+0.01..+0.03 on the first day, then falling below zero), so that an
entry and an exit happen within the first replayed day.

Checked through the bot's own outputs: its log, its SQLite database, its REST API
(``/api/v1/pair_candles`` is the strategy's analysed dataframe), the exchange's request log and
the Telegram messages.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.freqtrade.itb_live_helpers import (
    BUY_THRESHOLD,
    PAIR,
    PROBABILITIES,
    SELL_THRESHOLD,
    START,
    candles,
    itb_options,
)
from tests.support.bot import ReplaySession, replay_session

pytestmark = pytest.mark.usefixtures("freqtrade_installed")

ITB_MESSAGE = re.compile(r"(?P<symbol>₿) (?P<price>[\d,.]+) Indicator: (?P<score>[+-]\d+\.\d\d)")


# ---------------------------------------------------------------------------- observations


def analysis_failure(session: ReplaySession) -> bool:
    """Fail at once, with the error, when the strategy could not analyse the candles."""
    log = session.bot.log_text()
    # The first prediction with a model (before it, FreqAI returns no predictions at all).
    trained = re.search(r"dropped \d+ of \d+ prediction data points", log)
    if trained is None:
        return False
    found = re.compile(r"Unexpected error .* calling .*analyze_ticker").search(log, trained.end())
    if found:
        details = log[found.start() : found.start() + 3000]
        raise AssertionError(f"the bot could not analyse BTC/USDT:\n{details}")
    return False


def newest_ms(session: ReplaySession) -> int:
    frame = candles(session, limit=3)
    return int(frame["__date_ts"].iloc[-1]) if not frame.empty else 0


def caught_up(session: ReplaySession) -> bool:
    return newest_ms(session) >= session.exchange.last_closed_candle_ms(PAIR)


def wait_candles(session: ReplaySession, count: int, timeout: float = 90) -> None:
    """Wait until the bot analysed ``count`` candles newer than its newest one now."""
    target = newest_ms(session) + count * 3_600_000
    session.bot.wait_for(lambda: newest_ms(session) >= target, timeout, what=f"{count} candles")


def db_time(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("UTC")


def signal_candle(moment: pd.Timestamp) -> pd.Timestamp:
    """Open time of the candle whose close triggered an action taken at ``moment``."""
    return moment.floor("1h") - pd.Timedelta(hours=1)


def itb_messages(session: ReplaySession) -> list[str]:
    assert session.telegram is not None
    return [text for text in session.telegram.texts() if ITB_MESSAGE.search(text)]


def score_config(session: ReplaySession) -> Any:
    from itb_ext.strategy.setup import ITBSetup

    cfg = ITBSetup.from_freqtrade_config(session.bot.build_config()).raw.score_notification_model
    assert cfg is not None
    return cfg


def predicted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the model predicted live (FreqAI leaves the history before its start untrusted)."""
    if "do_predict" not in frame:
        return frame.iloc[:0]
    trusted = frame.index[frame["do_predict"] == 1]
    return frame.loc[trusted.min() :] if len(trusted) else frame.iloc[:0]


# ---------------------------------------------------------------------------- the dry-run bot


@pytest.fixture(scope="module")
def itb_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplaySession]:
    """One dry-run ITB bot shared by the tests below, which run in order."""
    tmp = tmp_path_factory.mktemp("itb-live")
    started = time.monotonic()
    with replay_session(tmp, START, **itb_options(tmp)) as session:
        session.bot.wait_for_log(r"Done training BTC/USDT", 120)
        session.bot.wait_for(
            lambda: analysis_failure(session) or len(predicted(candles(session))) >= 1,
            90,
            what="a first live prediction",
        )
        print(f"ITB bot trained and predicting after {time.monotonic() - started:.1f}s")
        yield session


def test_itb_bot_trains_at_startup_and_predicts_every_new_candle(itb_bot: ReplaySession) -> None:
    session, bot, exchange = itb_bot, itb_bot.bot, itb_bot.exchange
    log = bot.log_text()
    # Training history comes from the exchange through FreqAI's downloader, then one training.
    assert re.search(r"Downloaded data for BTC/USDT, 1h, spot with length \d+", log)
    assert len(re.findall(r"Starting training BTC/USDT", log)) == 1
    training = re.search(r"Training on data from (\S+) to (\S+)", log)
    assert training is not None
    days = (pd.Timestamp(training[2]) - pd.Timestamp(training[1])).days
    assert 29 <= days <= 31
    oldest = min(
        int(r.params.get("startTime", 1 << 62)) for r in exchange.requests_to("/api/v3/klines")
    )
    assert oldest <= int((START - timedelta(days=30)).timestamp() * 1000)

    wait_candles(session, 5)
    analysis_failure(session)
    frame = predicted(candles(session))
    assert len(frame) >= 5
    # Every candle since the first live prediction was predicted and trusted.
    assert (frame["do_predict"] == 1).all(), frame["do_predict"].tolist()
    for column in PROBABILITIES:
        values = frame[column].astype(float)
        assert values.notna().all() and values.between(0, 1).all(), column
    assert frame["trade_score"].astype(float).notna().all()
    hours = frame.index.to_series().diff().dropna()
    assert (hours == pd.Timedelta(hours=1)).all()  # no candle skipped
    assert "Starting training BTC/USDT" not in bot.log_text()[len(log) :]  # no retraining
    print(f"predicted {len(frame)} new candles, scores {frame['trade_score'].round(3).tolist()}")


def test_pair_candles_has_the_plot_config_columns(itb_bot: ReplaySession) -> None:
    plot = itb_bot.bot.api("/api/v1/plot_config")
    named = {
        column
        for section in [plot.get("main_plot", {}), *plot.get("subplots", {}).values()]
        for column in section
    }
    combined = {"high_30", "low_30"}  # the scores the rule combines, one per label subplot
    expected = {"trade_score", "buy_threshold", "sell_threshold", "do_predict", *PROBABILITIES}
    expected |= combined
    assert named == expected
    frame = predicted(candles(itb_bot))
    assert expected <= set(frame.columns)
    assert (frame["buy_threshold"] == BUY_THRESHOLD).all()
    assert (frame["sell_threshold"] == SELL_THRESHOLD).all()
    for label in combined:  # smoothen of the sample: the mean of the label's algorithms
        algorithms = frame[[c for c in PROBABILITIES if c.startswith(f"{label}_")]]
        np.testing.assert_allclose(
            frame[label].astype(float), algorithms.astype(float).mean(axis=1), rtol=1e-9
        )


def test_score_messages_follow_the_band_of_each_candle(itb_bot: ReplaySession) -> None:
    from itb_ext.strategy.notifications import find_band, format_price, next_notification

    session = itb_bot
    cfg = score_config(session)
    bot = session.bot
    bot.wait_for(lambda: len(itb_messages(session)) >= 2, 60, what="two ITB score messages")
    frame = candles(session)
    messages = itb_messages(session)
    # Every message describes a candle of the dataframe and carries that candle's band.
    for text in messages:
        found = ITB_MESSAGE.search(text)
        assert found is not None
        rows = frame[
            (frame["close"].map(format_price) == found["price"])
            & (frame["trade_score"].map(lambda s: f"{s:+.2f}") == found["score"])
        ]
        assert len(rows) >= 1, text
        hit = find_band(float(rows["trade_score"].iloc[-1]), cfg)
        if hit.band is None:
            assert text.startswith("₿"), text
        else:
            assert text.startswith(("*" if hit.band.bold else "") + hit.band.sign), text
            assert text.rstrip("*").endswith(f"{hit.band.text} 1h"), text

    # The messages are exactly those ITB's rule gives for the candles analysed since the start.
    first = ITB_MESSAGE.search(messages[0])
    assert first is not None
    start = frame.index[frame["close"].map(format_price) == first["price"]][0]
    expected: list[str] = []
    band: int | None = None
    for date, row in frame.loc[start:].iterrows():
        close_minutes = int((pd.Timestamp(date) + pd.Timedelta(hours=1)).timestamp() // 60)
        band, due = next_notification(
            band,
            pair=PAIR,
            price=float(row["close"]),
            score=float(row["trade_score"]),
            secondary=None,
            close_minutes=close_minutes,
            timeframe="1h",
            cfg=cfg,
        )
        if due is not None:
            expected.append(due)
    # The newest candle's message may still be on its way.
    assert messages == expected[: len(messages)] and len(messages) >= len(expected) - 1
    bands = [find_band(float(s), cfg).number for s in frame.loc[start:, "trade_score"]]
    print(f"{len(messages)} ITB messages for {len(bands)} candles, bands {bands}")


def trades_match_signals(session: ReplaySession) -> tuple[int, int]:
    """Check every trade against the strategy's entry/exit columns; return (entries, exits)."""
    frame = candles(session)
    trades = session.bot.trades()
    entries = exits = 0
    for trade in trades:
        opened = db_time(trade["open_date"])
        signal = frame.loc[signal_candle(opened)]
        assert signal["enter_long"] == 1, (trade["id"], opened)
        assert signal["do_predict"] == 1 and signal["trade_score"] >= signal["buy_threshold"]
        assert trade["enter_tag"] == "itb_buy"
        entries += 1
        if not trade["is_open"]:
            closed = db_time(trade["close_date"])
            signal = frame.loc[signal_candle(closed)]
            assert trade["exit_reason"] == "itb_sell", trade["exit_reason"]  # the exit tag
            assert signal["exit_long"] == 1, (trade["id"], closed)
            assert signal["trade_score"] <= signal["sell_threshold"]
            exits += 1
    # And every entry signal met while flat became a trade on the next candle.
    open_spans = [
        (db_time(t["open_date"]), db_time(t["close_date"]) if t["close_date"] else None)
        for t in trades
    ]
    last_analysed = frame.index[-1]
    for date in frame.index[(frame["enter_long"] == 1).to_numpy()]:
        entered_at = date + pd.Timedelta(hours=1)
        holding = any(o < entered_at and (c is None or c > entered_at) for o, c in open_spans)
        if holding or date >= last_analysed:
            continue  # already in a trade, or the entry is being placed now
        assert any(o.floor("1h") == entered_at for o, _ in open_spans), date
    return entries, exits


def test_dry_run_trades_open_and_close_on_the_strategys_signals(itb_bot: ReplaySession) -> None:
    session, bot = itb_bot, itb_bot.bot
    bot.wait_for(
        lambda: any(not t["is_open"] for t in bot.trades()), 150, what="a closed ITB trade"
    )
    bot.wait_for(lambda: caught_up(session), 30, what="dataframe up to date")
    entries, exits = trades_match_signals(session)
    assert entries >= 1 and exits >= 1
    assert session.exchange.requests_to("/api/v3/order") == []  # dry-run: simulated orders
    print(f"dry-run: {entries} entries, {exits} exits, {session.sim_hours_since(START):.0f} h")


def recover(session: ReplaySession, what: str) -> float:
    """Wait for the injected faults to be consumed and the bot to analyse a new candle."""
    bot, exchange = session.bot, session.exchange
    bot.wait_for(lambda: exchange.faults_pending() == 0, 60, what=f"{what}: faults consumed")
    consumed = time.monotonic()
    wait_candles(session, 1, timeout=60)
    bot.wait_for(lambda: caught_up(session), 60, what=f"{what}: caught up")
    frame = candles(session, limit=3)
    assert frame["do_predict"].iloc[-1] == 1  # the new candle was predicted
    assert not math.isnan(float(frame["trade_score"].iloc[-1]))
    assert bot.running and bot.ping()
    return time.monotonic() - consumed


def test_itb_bot_survives_exchange_faults_and_analyses_again(itb_bot: ReplaySession) -> None:
    session, bot, exchange = itb_bot, itb_bot.bot, itb_bot.exchange
    timings = {}
    mark = len(bot.log_text())
    exchange.fail_next(2, status=500, path="/api/v3/klines")
    timings["500x2"] = recover(session, "HTTP 500")
    bot.wait_for_log(r"_async_get_candle_history\(\) returned exception.*500", 5, after=mark)

    mark = len(bot.log_text())
    exchange.fail_next(2, status=429, path="/api/v3/klines", retry_after=1)
    timings["429x2"] = recover(session, "HTTP 429")
    bot.wait_for_log(r"DDosProtection|429", 5, after=mark)

    mark = len(bot.log_text())
    exchange.stall_next(1, seconds=4.5, path="/api/v3/klines")  # ccxt timeout is 3 s
    timings["timeout"] = recover(session, "timeout")
    bot.wait_for_log(r"RequestTimeout|timed out", 5, after=mark)

    # A late candle: while it is missing the data is stale and no trade may open on it.
    mark = len(bot.log_text())
    trades_before = len(bot.trades())
    late = exchange.next_candle_open_ms() + 3_600_000
    exchange.delay_candle(PAIR, late, seconds=1.5 * 3600)
    bot.wait_for_log(r"Outdated history for pair BTC/USDT", 60, after=mark)
    stale_from = exchange.clock.now()
    bot.wait_for(lambda: newest_ms(session) >= late, 60, what="the delayed candle")
    stale_to = exchange.clock.now()
    opened_while_stale = [
        t
        for t in bot.trades()[trades_before:]
        if stale_from <= db_time(t["open_date"]).to_pydatetime() <= stale_to
    ]
    assert opened_while_stale == []
    started = time.monotonic()
    bot.wait_for(lambda: caught_up(session), 60, what="caught up after the late candle")
    timings["late candle"] = time.monotonic() - started

    # A missing candle: FreqTrade fills it flat; the candles after it are predicted again.
    gap = exchange.next_candle_open_ms() + 3_600_000
    exchange.drop_candle(PAIR, gap)
    bot.wait_for(lambda: newest_ms(session) >= gap + 2 * 3_600_000, 60, what="after the gap")
    frame = candles(session, limit=10)
    filled = frame.loc[pd.Timestamp(gap, unit="ms", tz="UTC")]
    assert filled["volume"] == 0
    after = frame[frame["__date_ts"] > gap]
    assert (after["do_predict"] == 1).all()
    trades_match_signals(session)
    assert bot.running
    print("fault recovery (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


def test_kill_9_restart_keeps_trades_and_reuses_the_model(itb_bot: ReplaySession) -> None:
    session, bot, exchange = itb_bot, itb_bot.bot, itb_bot.exchange
    bot.wait_for(lambda: bot.trades(), 150, what="a trade to carry over the restart")
    before = bot.trades()
    orders_before = bot.orders()
    newest_before = newest_ms(session)
    bot.kill()
    killed = time.monotonic()
    bot.start()
    bot.wait_ready(120)
    ready = time.monotonic() - killed
    # FreqAI reloads its pair dictionary and the saved model instead of training again.
    bot.wait_for_log(r"Set existing queue from trained timestamps", 60)
    first = bot.wait_for(
        lambda: newest_ms(session) if newest_ms(session) > newest_before else 0,
        90,
        what="a first candle analysed after the restart",
    )
    target = first + 2 * 3_600_000
    bot.wait_for(lambda: newest_ms(session) >= target, 90, what="2 more candles")
    restart_log = bot.log_text()
    assert "Starting training BTC/USDT" not in restart_log
    assert "No model ready for BTC/USDT" not in restart_log
    assert "Could not find existing datadrawer" not in restart_log

    after = bot.trades()
    assert [t["id"] for t in after[: len(before)]] == [t["id"] for t in before]
    for old, new in zip(before, after, strict=False):
        assert new["open_date"] == old["open_date"] and new["amount"] == old["amount"]
        if not old["is_open"]:
            assert new["close_date"] == old["close_date"]
    orders = bot.orders()
    ids = [o["order_id"] for o in orders]
    assert len(ids) == len(set(ids))  # no order placed twice
    assert [o["order_id"] for o in orders[: len(orders_before)]] == [
        o["order_id"] for o in orders_before
    ]
    # At most one entry order per trade and one exit order per closed trade.
    for trade in after:
        sides = [o["ft_order_side"] for o in orders if o["ft_trade_id"] == trade["id"]]
        assert sides.count("buy") == 1 and sides.count("sell") <= 1, (trade["id"], sides)
    # Predicting again with the loaded model. FreqAI leaves the candle analysed first after a
    # start without a stored prediction (do_predict 0: entries pause for that one candle).
    frame = candles(session, limit=10)
    assert (frame.loc[frame["__date_ts"] > first, "do_predict"] == 1).all()
    assert len(frame[frame["__date_ts"] > first]) >= 2
    assert exchange.unhandled() == []
    print(f"kill -9: ready again in {ready:.1f}s, {len(after)} trades, {len(orders)} orders")


# ---------------------------------------------------------------------------- live


def test_live_itb_bot_places_each_order_once_across_a_kill_9(tmp_path: Path) -> None:
    with replay_session(
        tmp_path, START, mode="live", balances={"USDT": 1000}, **itb_options(tmp_path)
    ) as session:
        bot, exchange = session.bot, session.exchange
        bot.wait_for_log(r"Done training BTC/USDT", 120)
        bot.wait_for(
            lambda: any(o["status"] == "closed" for o in bot.orders()), 150, what="a filled entry"
        )
        posted_before = len(exchange.requests_to("/api/v3/order", "POST"))
        bot.kill()
        bot.start()
        bot.wait_ready(120)
        bot.wait_for_log(r"Set existing queue from trained timestamps", 60)
        bot.wait_for(
            lambda: any(not t["is_open"] for t in bot.trades()), 150, what="a closed live trade"
        )
        bot.wait_for(
            lambda: not [o for o in bot.orders() if o["ft_is_open"]], 30, what="no open orders"
        )
        assert "Starting training BTC/USDT" not in bot.log_text()
        orders = bot.orders()
        posted = exchange.requests_to("/api/v3/order", "POST")
        placed = {str(o.order_id): o for o in exchange.orders()}

    # One signed POST per order of the bot, none repeated by the restart; all filled.
    assert len(posted) == len(orders) >= 2 and posted_before >= 1
    assert all(r.status == 200 and "signature" in r.params for r in posted)
    assert len({o["order_id"] for o in orders}) == len(orders)
    for order in orders:
        assert placed[order["order_id"]].status == "FILLED"
        assert float(placed[order["order_id"]].quantity) == pytest.approx(order["filled"])
    trades = [t for t in bot.trades() if not t["is_open"]]
    assert all(t["exit_reason"] == "itb_sell" for t in trades)
    assert exchange.unhandled() == []
    print(f"live: {len(posted)} orders ({posted_before} before the kill), {len(trades)} closed")
