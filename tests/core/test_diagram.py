"""ITB's daily score diagram: the bars, when it is due, the picture, the photo and the command."""

from __future__ import annotations

import json
import logging
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from itb_ext.adapters.telegram_photo import (
    TELEGRAM_URL_ENV,
    TelegramPhotoSender,
    multipart_body,
    telegram_api_url,
)
from itb_ext.cli import main
from itb_ext.config.base import validate
from itb_ext.config.diagram import DiagramConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation.diagram_command import pair_of_candle_file, stored_scores
from itb_ext.strategy.diagram import (
    PNG_SIGNATURE,
    diagram_due,
    diagram_figure,
    diagram_frame,
    diagram_title,
    maybe_send_diagram,
    render_diagram,
    score_axis_limit,
    transactions_from_trades,
)
from tests.support import fake_telegram
from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")


def hours(*offsets: float) -> list[pd.Timestamp]:
    return [T0 + pd.Timedelta(hours=h) for h in offsets]


def candles(n: int, start: pd.Timestamp = T0, freq: str = "1h") -> pd.DataFrame:
    """Candles whose prices encode their row: open 100+i, high 110+i, low 90-i, close 105+i."""
    i = np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=n, freq=freq),
            "open": 100 + i,
            "high": 110 + i,
            "low": 90 - i,
            "close": 105 + i,
            "volume": 1.0,
        }
    )


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (the first chunk, right after the signature)."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# --- config --------------------------------------------------------------------------------------


def test_config_defaults_are_itbs_1h_sample_and_off() -> None:
    cfg = DiagramConfig()
    assert cfg.enabled is False
    assert (cfg.notification_freq, cfg.resampling_freq, cfg.nrows) == ("1D", "1h", 168)
    assert cfg.score_column == "trade_score"
    assert cfg.score_thresholds == () and cfg.score_ma == () and cfg.description == ""


def test_config_reads_json_lists_and_single_values() -> None:
    cfg = validate(
        DiagramConfig,
        {"score_thresholds": [-0.08, 0.08], "score_ma": 12, "nrows": 288, "enabled": True},
        "itb.diagram",
    )
    assert cfg.score_thresholds == (-0.08, 0.08)
    assert cfg.score_ma == (12,)
    assert cfg.nrows == 288 and cfg.enabled


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"notification_freq": "1W"}, "itb.diagram: notification_freq: must be a fixed length"),
        ({"notification_freq": "0h"}, "notification_freq: must be a positive length"),
        ({"resampling_freq": "5m"}, "resampling_freq: not a pandas frequency"),
        ({"nrows": 0}, "nrows: Input should be greater than or equal to 1"),
        ({"score_ma": [0]}, "score_ma: moving-average windows must be at least 1 bar"),
        ({"nrow": 10}, "unknown key 'nrow' (did you mean 'nrows'?)"),
    ],
)
def test_config_refuses_bad_values_in_one_line(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate(DiagramConfig, section, "itb.diagram")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


# --- bars ----------------------------------------------------------------------------------------


def test_bars_aggregate_prices_first_max_min_last() -> None:
    cfg = DiagramConfig(resampling_freq="2h")
    frame = diagram_frame(candles(6), pd.Series(np.zeros(6)), None, cfg)
    assert list(frame["date"]) == hours(0, 2, 4)
    # bar k holds rows 2k and 2k+1; highs rise and lows fall, so both extremes are the second's
    assert frame["open"].tolist() == [100, 102, 104]
    assert frame["high"].tolist() == [111, 113, 115]
    assert frame["low"].tolist() == [89, 87, 85]
    assert frame["close"].tolist() == [106, 108, 110]
    assert frame.columns.tolist() == [
        "date",
        "open",
        "high",
        "low",
        "close",
        "score",
        "buy",
        "sell",
    ]


def test_bar_score_is_max_if_all_positive_min_if_all_negative_else_mean() -> None:
    score = pd.Series([0.1, 0.3, -0.1, -0.4, 0.2, -0.1, 0.0, 0.2])
    frame = diagram_frame(candles(8), score, None, DiagramConfig(resampling_freq="2h"))
    # [0.1, 0.3] -> max; [-0.1, -0.4] -> min; [0.2, -0.1] -> mean; [0, 0.2]: 0 is not > 0 -> mean
    assert frame["score"].tolist() == pytest.approx([0.3, -0.4, 0.05, 0.1])


def test_a_missing_score_makes_its_bar_the_mean_of_the_known_values() -> None:
    # ITB: NaN > 0 is False, so the bar is neither all positive nor all negative, and np.mean of
    # a Series skips the NaN
    score = pd.Series([0.2, 0.4, np.nan, -0.2, -0.6, -0.1, np.nan, np.nan, np.nan])
    frame = diagram_frame(candles(9), score, None, DiagramConfig(resampling_freq="3h"))
    assert frame["score"].iloc[0] == pytest.approx(0.3)  # not the max 0.4
    assert frame["score"].iloc[1] == pytest.approx(-0.6)  # all negative: the min
    assert np.isnan(frame["score"].iloc[2])


def test_bars_start_at_midnight_of_the_first_candle_and_gaps_keep_their_row() -> None:
    data = candles(5, start=T0 + pd.Timedelta(hours=1)).drop(index=[2, 3])  # 01, 02, 05 left
    frame = diagram_frame(
        data.reset_index(drop=True),
        pd.Series([1.0, 2.0, 3.0]),
        None,
        DiagramConfig(resampling_freq="2h"),
    )
    assert list(frame["date"]) == hours(0, 2, 4)
    assert frame["open"].iloc[0] == 100 and frame["close"].iloc[0] == 105  # the 01:00 candle
    assert frame["open"].iloc[1] == 101 and frame["close"].iloc[1] == 106  # 02:00 only
    assert frame["open"].iloc[2] == 104 and frame["score"].iloc[2] == 3.0  # 05:00 only
    assert frame["score"].tolist()[:2] == [1.0, 2.0]


def test_bars_with_no_candle_stay_as_empty_rows() -> None:
    data = candles(6).drop(index=[2, 3]).reset_index(drop=True)
    frame = diagram_frame(data, pd.Series([0.1] * 4), None, DiagramConfig(resampling_freq="2h"))
    assert list(frame["date"]) == hours(0, 2, 4)
    assert frame.iloc[1][["open", "high", "low", "close", "score"]].isna().all()


def test_newest_nrows_are_kept_and_averages_use_the_bars_before_them() -> None:
    score = pd.Series([0.1, 0.3, 0.2, 0.4, 0.6, 0.2, 0.5, 0.1])
    cfg = DiagramConfig(resampling_freq="2h", nrows=2, score_ma=(2, 3))
    frame = diagram_frame(candles(8), score, None, cfg)
    # bar scores (all positive: the max of each pair): 0.3, 0.4, 0.6, 0.5
    assert list(frame["date"]) == hours(4, 6)
    assert frame["score"].tolist() == pytest.approx([0.6, 0.5])
    assert frame["score_ma_2"].tolist() == pytest.approx([(0.4 + 0.6) / 2, (0.6 + 0.5) / 2])
    assert frame["score_ma_3"].tolist() == pytest.approx([(0.3 + 0.4 + 0.6) / 3, 0.5])


def test_transactions_mark_the_bar_they_fall_in() -> None:
    transactions = pd.DataFrame(
        {
            "date": hours(-3, 2.5, 3.2, 3.9, 4.0, 9),
            "side": ["BUY", "BUY", "buy", "SELL", "SELL", "SELL"],
        }
    )
    cfg = DiagramConfig(resampling_freq="2h")
    frame = diagram_frame(candles(6), pd.Series(np.zeros(6)), transactions, cfg)
    # before the first bar and after the last one: dropped; two buys in one bar: one marker
    assert frame["buy"].tolist() == [False, True, False]
    assert frame["sell"].tolist() == [False, True, True]


def test_transactions_before_the_shown_bars_are_dropped() -> None:
    transactions = pd.DataFrame({"date": hours(0.5, 5), "side": ["BUY", "SELL"]})
    cfg = DiagramConfig(resampling_freq="2h", nrows=2)
    frame = diagram_frame(candles(6), pd.Series(np.zeros(6)), transactions, cfg)
    assert frame["buy"].tolist() == [False, False]
    assert frame["sell"].tolist() == [False, True]


def test_resampling_matches_itbs_aggregation_on_real_candles(candles_dir: Path) -> None:
    data = pd.read_feather(candles_dir / "BTC_USD-1h.feather").tail(24 * 20).reset_index(drop=True)
    rng = np.random.default_rng(3)
    score = pd.Series(rng.normal(0, 0.1, len(data)))
    score[rng.random(len(data)) < 0.05] = np.nan
    score[100:110] = np.abs(score[100:110])  # a whole positive 4h bar, to exercise max too
    cfg = DiagramConfig(resampling_freq="4h", nrows=10_000)
    frame = diagram_frame(data, score, None, cfg)

    # ITB's own formulation, applied bar by bar
    def itb_score(x: pd.Series) -> float:
        if all(x > 0.0):
            return float(max(x))
        if all(x < 0.0):
            return float(min(x))
        return float(np.mean(x))

    table = data.assign(score=score).set_index("date")
    expected = table.resample("4h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "score": itb_score}
    )
    assert (frame["score"] > 0).sum() >= 2 and (frame["score"] < 0).sum() >= 2
    np.testing.assert_allclose(frame["score"], expected["score"], equal_nan=True)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(frame[column], expected[column])


def test_trades_become_buys_and_sells_by_direction() -> None:
    trades = pd.DataFrame(
        {
            "open_date": hours(1, 2, 6),
            "close_date": [T0 + pd.Timedelta(hours=4), T0 + pd.Timedelta(hours=3), pd.NaT],
            "is_short": [False, True, False],
        }
    )
    out = transactions_from_trades(trades)
    assert list(out["date"]) == hours(1, 2, 3, 4, 6)
    # long: buy then sell; short: sell then buy back; an open trade: its entry only
    assert out["side"].tolist() == ["BUY", "SELL", "BUY", "SELL", "BUY"]


def test_no_trades_give_no_transactions() -> None:
    assert len(transactions_from_trades(pd.DataFrame())) == 0


@pytest.mark.parametrize(
    ("score", "transactions", "message"),
    [
        (pd.Series([0.1] * 3), None, "diagram: 3 score values for 4 candles"),
        (pd.Series([0.1] * 4), pd.DataFrame({"date": hours(1)}), "missing input column 'side'"),
        (
            pd.Series([0.1] * 4),
            pd.DataFrame({"date": hours(1), "side": ["HOLD"]}),
            "unknown side 'HOLD'",
        ),
    ],
)
def test_bad_bars_input_is_one_line(
    score: pd.Series, transactions: pd.DataFrame | None, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        diagram_frame(candles(4), score, transactions, DiagramConfig())


def test_candles_without_prices_are_refused() -> None:
    with pytest.raises(DataError, match="missing input column 'close'"):
        diagram_frame(candles(2).drop(columns="close"), pd.Series([0, 0]), None, DiagramConfig())


# --- when ----------------------------------------------------------------------------------------


def test_due_on_the_first_run_and_again_on_the_first_run_of_each_day() -> None:
    cfg = DiagramConfig()
    assert diagram_due(None, T0 + pd.Timedelta(hours=15), cfg)
    sent = T0 + pd.Timedelta(minutes=5)
    assert not diagram_due(sent, T0 + pd.Timedelta(hours=23, minutes=59), cfg)
    assert diagram_due(sent, T0 + pd.Timedelta(days=1), cfg)


def test_hourly_runs_send_once_a_day_at_the_days_first_candle() -> None:
    cfg = DiagramConfig()
    last: pd.Timestamp | None = None
    sends = []
    for now in pd.date_range(T0 + pd.Timedelta(hours=5), periods=24 * 3, freq="1h"):
        if diagram_due(last, now, cfg):
            sends.append(now)
            last = now
    # from 05:00 on day one to 04:00 on day four
    assert sends == [T0 + pd.Timedelta(hours=5), *(T0 + pd.Timedelta(days=d) for d in (1, 2, 3))]


def test_due_follows_the_notification_interval_in_utc() -> None:
    cfg = DiagramConfig(notification_freq="12h")
    assert diagram_due(T0 + pd.Timedelta(hours=11), T0 + pd.Timedelta(hours=12), cfg)
    assert not diagram_due(T0 + pd.Timedelta(hours=12), T0 + pd.Timedelta(hours=23), cfg)
    daily = DiagramConfig()
    # 00:30 in UTC+1 is 23:30 UTC of the previous day; a naive time is UTC
    last = pd.Timestamp("2024-01-01 23:00")
    assert not diagram_due(last, pd.Timestamp("2024-01-02 00:30", tz="Etc/GMT-1"), daily)
    assert diagram_due(last, pd.Timestamp("2024-01-02 01:30", tz="Etc/GMT-1"), daily)


# --- picture -------------------------------------------------------------------------------------


def test_score_axis_is_symmetric_at_1_2_times_the_largest_score_or_threshold() -> None:
    assert score_axis_limit(pd.Series([0.05, -0.1]), (-0.08, 0.08)) == pytest.approx(0.12)
    assert score_axis_limit(pd.Series([0.05, np.nan]), (0.2,)) == pytest.approx(0.24)
    assert score_axis_limit(pd.Series([np.nan]), ()) == 1.0


def test_the_figure_draws_band_close_score_thresholds_and_markers() -> None:
    score = pd.Series([0.02, 0.05, -0.03, -0.1, 0.01, 0.04])
    transactions = pd.DataFrame({"date": hours(0.5, 3.5), "side": ["BUY", "SELL"]})
    cfg = DiagramConfig(resampling_freq="2h", score_thresholds=(-0.08, 0.08), score_ma=(2,))
    frame = diagram_frame(candles(6), score, transactions, cfg)
    fig = diagram_figure(frame, cfg, diagram_title("BTC/USD", "trade score"))
    prices, scores = fig.axes
    assert fig.get_suptitle() == "BTC/USD: trade score"
    lines = {line.get_label(): line for line in [*prices.lines, *scores.lines]}
    assert list(lines["close"].get_ydata()) == [106, 108, 110]
    assert lines["buy"].get_marker() == "^" and len(lines["buy"].get_xdata()) == 1
    assert lines["sell"].get_marker() == "v" and len(lines["sell"].get_xdata()) == 1
    # the buy sits below its bar's low (89), the sell above its bar's high (113)
    assert lines["buy"].get_ydata()[0] < 89 and lines["sell"].get_ydata()[0] > 113
    assert list(lines["score"].get_ydata()) == pytest.approx([0.05, -0.1, 0.04])
    assert "score MA 2" in lines
    assert lines["threshold +0.08"].get_ydata()[0] == pytest.approx(0.08)
    assert lines["threshold -0.08"].get_ydata()[0] == pytest.approx(-0.08)
    assert scores.get_ylim() == pytest.approx((-0.12, 0.12))
    assert len(prices.collections) == 1  # the high-low band
    assert prices.get_ylim()[0] < 85 and prices.get_ylim()[1] > 115


def test_render_gives_a_1200_by_600_png() -> None:
    frame = diagram_frame(candles(30), pd.Series(np.linspace(-0.2, 0.2, 30)), None, DiagramConfig())
    png = render_diagram(frame, DiagramConfig(), "BTC/USD")
    assert png_size(png) == (1200, 600)


def test_render_copes_with_a_missing_score_and_a_flat_market() -> None:
    data = candles(4).assign(open=50.0, high=50.0, low=50.0, close=50.0)
    frame = diagram_frame(data, pd.Series([np.nan] * 4), None, DiagramConfig())
    assert png_size(render_diagram(frame, DiagramConfig(), "X/Y")) == (1200, 600)


def test_rendering_leaves_pyplot_alone() -> None:
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from itb_ext.config.diagram import DiagramConfig\n"
        "from itb_ext.strategy.diagram import diagram_frame, render_diagram\n"
        "c = pd.DataFrame({'date': pd.date_range('2024', periods=5, freq='1h', tz='UTC'),"
        " 'open': 1.0, 'high': 2.0, 'low': 0.5, 'close': 1.5})\n"
        "render_diagram(diagram_frame(c, pd.Series(np.zeros(5)), None, DiagramConfig()),"
        " DiagramConfig(), 't')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


# --- photo ---------------------------------------------------------------------------------------


@pytest.fixture
def telegram() -> Any:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="module")
def png() -> bytes:
    frame = diagram_frame(
        candles(48), pd.Series(np.sin(np.arange(48) / 5) / 10), None, DiagramConfig()
    )
    return render_diagram(frame, DiagramConfig(score_thresholds=(-0.08, 0.08)), "BTC/USD")


def sender_for(telegram: FakeTelegram) -> TelegramPhotoSender:
    return TelegramPhotoSender(telegram.token, str(telegram.chat_id), api_url=telegram.url)


def test_a_diagram_reaches_telegram_as_a_photo(telegram: FakeTelegram, png: bytes) -> None:
    sender = sender_for(telegram)
    sender.submit(png, caption="daily")
    assert sender.wait_idle(10)
    photo = telegram.wait_for_photo(timeout=5)
    assert photo.photo == png
    assert png_size(photo.photo) == (1200, 600)
    assert photo.chat_id == str(telegram.chat_id) and photo.caption == "daily"
    assert [(c.method, c.status) for c in telegram.calls] == [("sendPhoto", 200)]
    assert (sender.sent, sender.failed) == (1, 0)
    sender.close()


def test_the_sender_follows_freqtrades_telegram_section_and_the_harness_url(
    telegram: FakeTelegram, png: bytes
) -> None:
    # the same variable points FreqTrade's own Telegram client at the fake
    assert TELEGRAM_URL_ENV == fake_telegram.TELEGRAM_URL_ENV
    config = {"telegram": telegram.config()}
    sender = TelegramPhotoSender.from_freqtrade_config(config, telegram.env())
    assert sender is not None
    sender.submit(lambda: png)
    assert telegram.wait_for_photo(timeout=10).photo == png
    sender.close()
    assert telegram_api_url({}) == "https://api.telegram.org"
    off = {"telegram": {**telegram.config(), "enabled": False}}
    assert TelegramPhotoSender.from_freqtrade_config(off, {}) is None
    assert TelegramPhotoSender.from_freqtrade_config({}, {}) is None


def test_a_forum_topic_is_sent_as_message_thread_id(telegram: FakeTelegram, png: bytes) -> None:
    sender = TelegramPhotoSender(
        telegram.token, str(telegram.chat_id), api_url=telegram.url, topic_id="7"
    )
    sender.submit(png)
    assert sender.wait_idle(10)
    (call,) = telegram.calls
    assert call.params["message_thread_id"] == 7 and call.params["photo"] == png
    sender.close()


def test_the_multipart_body_holds_each_field_and_the_photo_once() -> None:
    body, content_type = multipart_body({"chat_id": "42", "caption": "a b"}, PNG_SIGNATURE)
    boundary = content_type.removeprefix("multipart/form-data; boundary=")
    assert body.count(boundary.encode()) == 4  # three parts and the closing line
    assert body.endswith(f"--{boundary}--\r\n".encode())
    assert b'name="photo"; filename="diagram.png"\r\nContent-Type: image/png' in body
    assert fake_telegram._multipart(body, content_type) == {
        "chat_id": 42,
        "caption": "a b",
        "photo": PNG_SIGNATURE,
    }


def test_a_failed_photo_is_logged_once_and_the_next_one_goes_through(
    telegram: FakeTelegram, png: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail_next(1, status=502, method="sendPhoto")
    sender = sender_for(telegram)
    with caplog.at_level(logging.WARNING, logger="itb_ext.adapters.telegram_photo"):
        sender.submit(png)
        assert sender.wait_idle(10)
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["Telegram photo not sent: HTTP 502 injected fault"]
    assert telegram.token not in warnings[0]
    assert (sender.sent, sender.failed) == (0, 1)
    sender.submit(png)
    assert sender.wait_idle(10)
    assert (sender.sent, sender.failed) == (1, 1)
    assert len(telegram.photos) == 1
    sender.close()


def test_a_wrong_token_or_a_failing_drawing_is_logged_not_raised(
    telegram: FakeTelegram, png: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = TelegramPhotoSender("1:WRONG", str(telegram.chat_id), api_url=telegram.url)

    def broken() -> bytes:
        raise ValueError("no bars")

    with caplog.at_level(logging.WARNING, logger="itb_ext.adapters.telegram_photo"):
        wrong.submit(png)
        assert wrong.wait_idle(10)
        wrong.submit(broken)
        assert wrong.wait_idle(10)
    assert [r.getMessage() for r in caplog.records] == [
        "Telegram photo not sent: HTTP 401 Unauthorized",
        "Telegram photo not sent: ValueError: no bars",
    ]
    assert wrong.failed == 2 and telegram.photos == []
    wrong.close()


def test_an_unreachable_server_is_logged(caplog: pytest.LogCaptureFixture, png: bytes) -> None:
    with FakeTelegram() as gone:
        url = gone.url
    sender = TelegramPhotoSender("1:T", "2", api_url=url, timeout=5)
    with caplog.at_level(logging.WARNING, logger="itb_ext.adapters.telegram_photo"):
        sender.submit(png)
        assert sender.wait_idle(10)
    assert sender.failed == 1
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("Telegram photo not sent: ")


def test_submitting_never_waits_and_a_newer_photo_replaces_a_waiting_one(
    telegram: FakeTelegram, png: bytes
) -> None:
    sender = sender_for(telegram)
    release = threading.Event()
    drawing = threading.Event()

    def slow_first() -> bytes:
        drawing.set()
        release.wait(10)
        return png

    started = time.monotonic()
    sender.submit(slow_first)
    assert drawing.wait(5)  # the worker is busy with the first photo
    sender.submit(b"\x89PNG second, replaced before it is sent")
    sender.submit(png + b"")  # the newest waiting photo
    elapsed = time.monotonic() - started
    release.set()
    assert sender.wait_idle(10)
    assert elapsed < 1.0
    assert sender.replaced == 1
    assert [p.photo for p in telegram.photos] == [png, png]
    sender.close()


def test_a_closed_sender_sends_what_waits_then_refuses(telegram: FakeTelegram, png: bytes) -> None:
    sender = sender_for(telegram)
    sender.submit(png)
    sender.close(timeout=10)
    assert len(telegram.photos) == 1
    sender.submit(png)
    assert sender.wait_idle(1)
    assert len(telegram.photos) == 1 and sender.sent == 1


# --- the bot's call ------------------------------------------------------------------------------


def analysed(n: int = 48) -> pd.DataFrame:
    return candles(n).assign(trade_score=np.sin(np.arange(n) / 4) / 10)


def test_maybe_send_diagram_sends_once_per_day_when_enabled() -> None:
    queued: list[Any] = []
    cfg = DiagramConfig(enabled=True, score_thresholds=(0.08,))
    now = T0 + pd.Timedelta(hours=47)
    kwargs: dict[str, Any] = {"pair": "BTC/USD", "candles": analysed(), "cfg": cfg}
    trades = pd.DataFrame({"open_date": hours(30), "close_date": hours(40), "is_short": False})
    last = maybe_send_diagram(**kwargs, trades=trades, now=now, last_sent=None, send=queued.append)
    assert last == now and len(queued) == 1
    assert png_size(queued[0]()) == (1200, 600)
    later = now + pd.Timedelta(minutes=30)
    again = maybe_send_diagram(**kwargs, trades=None, now=later, last_sent=last, send=queued.append)
    assert again == last and len(queued) == 1
    nextday = now + pd.Timedelta(hours=1)
    assert (
        maybe_send_diagram(**kwargs, trades=None, now=nextday, last_sent=last, send=queued.append)
        == nextday
    )
    assert len(queued) == 2


def test_maybe_send_diagram_is_off_by_default() -> None:
    queued: list[Any] = []
    last = maybe_send_diagram(
        pair="BTC/USD",
        candles=analysed(),
        trades=None,
        cfg=DiagramConfig(),
        now=T0,
        last_sent=None,
        send=queued.append,
    )
    assert last is None and queued == []


def test_maybe_send_diagram_skips_the_day_on_bad_data(caplog: pytest.LogCaptureFixture) -> None:
    queued: list[Any] = []
    cfg = DiagramConfig(enabled=True, score_column="missing_score")
    with caplog.at_level(logging.WARNING, logger="itb_ext.strategy.diagram"):
        last = maybe_send_diagram(
            pair="BTC/USD",
            candles=analysed(),
            trades=None,
            cfg=cfg,
            now=T0,
            last_sent=None,
            send=queued.append,
        )
    assert last == T0 and queued == []
    assert [r.getMessage() for r in caplog.records] == [
        "diagram of BTC/USD not sent: itb.diagram.score_column: missing input column "
        "'missing_score'"
    ]


def test_the_bots_diagram_reaches_the_fake_telegram(telegram: FakeTelegram) -> None:
    sender = sender_for(telegram)
    maybe_send_diagram(
        pair="BTC/USD",
        candles=analysed(),
        trades=None,
        cfg=DiagramConfig(enabled=True),
        now=T0,
        last_sent=None,
        send=sender.submit,
    )
    photo = telegram.wait_for_photo(timeout=20)
    assert png_size(photo.photo) == (1200, 600)
    assert photo.chat_id == str(telegram.chat_id)
    sender.close()


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def scored_file(tmp_path: Path) -> Path:
    path = tmp_path / "BTC_USD-1h.feather"
    analysed(72).to_feather(path)
    return path


def test_command_writes_the_png(scored_file: Path, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "diagram.png"
    code = main(
        ["diagram", "--data", str(scored_file), "--scores", str(scored_file), "--out", str(out)]
    )
    assert code == 0
    assert png_size(out.read_bytes()) == (1200, 600)
    assert "72 bars of 1h" in capsys.readouterr().err


def test_command_follows_the_config_diagram_section(
    scored_file: Path, tmp_path: Path, capsys: Any
) -> None:
    config = tmp_path / "itb.json"
    section = {"resampling_freq": "4h", "nrows": 5, "score_thresholds": [-0.08, 0.08]}
    config.write_text(json.dumps({"signal_sets": [], "diagram": section}))
    out = tmp_path / "diagram.png"
    args = ["diagram", "--data", str(scored_file), "--scores", str(scored_file), "--out", str(out)]
    assert main([*args, "--config", str(config)]) == 0
    assert "5 bars of 4h, 2024-01-03 04:00:00+00:00 to 2024-01-03 20:00:00+00:00" in (
        capsys.readouterr().err
    )


def test_command_joins_a_separate_scores_table_by_time(tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "BTC_USD-1h.feather"
    candles(30).to_feather(data)
    scores = tmp_path / "signals.csv"
    pd.DataFrame(
        {"timestamp": pd.date_range(T0, periods=20, freq="1h").astype(str), "trade_score": 0.1}
    ).to_csv(scores, index=False)
    out = tmp_path / "d.png"
    assert main(["diagram", "--data", str(data), "--scores", str(scores), "--out", str(out)]) == 0
    # the candles after the last score are left out
    assert "20 bars of 1h" in capsys.readouterr().err


def write_backtest(folder: Path, trades: list[dict[str, Any]]) -> Path:
    archive = folder / "backtest-result-2024-01-05_00-00-00.zip"
    stats = {
        "strategy": {
            "ITBStrategy": {
                "trades": trades,
                "starting_balance": 1000,
                "backtest_start": "2024-01-01 00:00:00",
                "backtest_end": "2024-01-04 00:00:00",
            }
        }
    }
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"{archive.stem}.json", json.dumps(stats))
    return archive


def test_command_reads_stored_predictions_and_a_backtests_trades(tmp_path: Path) -> None:
    from itb_ext.strategy.setup import ITBSetup

    section = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"itb": section}))
    setup = ITBSetup.from_freqtrade_config({"itb": section})
    data = tmp_path / "BTC_USD-1h.feather"
    candles(60).to_feather(data)
    model_dir = tmp_path / "models" / "itb"
    (model_dir / "backtesting_predictions").mkdir(parents=True)
    rng = np.random.default_rng(1)
    preds = pd.DataFrame(
        {"date": pd.date_range(T0 + pd.Timedelta(hours=10), periods=40, freq="1h")}
    )
    for column in setup.score_columns:
        preds[column] = rng.random(len(preds))
    preds.to_feather(model_dir / "backtesting_predictions" / "cb_btc_1704070800_prediction.feather")

    scores = stored_scores(model_dir, config, "BTC/USD", "trade_score")
    # trade_score = mean of the three high_30 models - mean of the three low_30 models
    high = preds[["high_30_svc", "high_30_lc", "high_30_gb"]].mean(axis=1)
    low = preds[["low_30_svc", "low_30_lc", "low_30_gb"]].mean(axis=1)
    np.testing.assert_allclose(scores["trade_score"], high - low)

    trades = [
        {
            "pair": "BTC/USD",
            "open_date": "2024-01-01 20:00:00+00:00",
            "close_date": "2024-01-02 02:00:00+00:00",
            "is_short": False,
        },
        {
            "pair": "ETH/USD",
            "open_date": "2024-01-01 21:00:00+00:00",
            "close_date": "2024-01-01 23:00:00+00:00",
            "is_short": False,
        },
    ]
    backtest = write_backtest(tmp_path, trades)
    out = tmp_path / "d.png"
    args = ["diagram", "--data", str(data), "--scores", str(model_dir), "--config", str(config)]
    assert main([*args, "--trades", str(backtest), "--out", str(out)]) == 0
    assert png_size(out.read_bytes()) == (1200, 600)


def test_pair_from_freqtrade_file_names() -> None:
    assert pair_of_candle_file(Path("BTC_USD-1h.feather")) == "BTC/USD"
    assert pair_of_candle_file(Path("BTC_USDT_USDT-1h-futures.feather")) == "BTC/USDT:USDT"
    assert pair_of_candle_file(Path("candles.feather")) is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--score-column", "nope"], "missing input column 'nope'"),
        (["--out-suffix", ".jpg"], "unsupported output type '.jpg' (use .png)"),
        (["--config-section", '{"nrows": 0}'], "itb.diagram: nrows: Input should be greater"),
        (["--scores-file", "other.csv"], "no 'trade_score' value at any time of the candles"),
        (["--model-dir", ""], "cannot tell the pair from the file name; give --pair"),
    ],
)
def test_bad_command_input_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: Any, extra: list[str], message: str
) -> None:
    data = tmp_path / "candles.feather"
    analysed(10).to_feather(data)
    out = tmp_path / "d.png"
    args = ["diagram", "--data", str(data), "--scores", str(data)]
    if extra[0] == "--out-suffix":
        out = tmp_path / "d.jpg"
    elif extra[0] == "--config-section":
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"itb": {"signal_sets": [], "diagram": json.loads(extra[1])}}))
        args += ["--config", str(config)]
    elif extra[0] == "--scores-file":
        other = tmp_path / extra[1]
        pd.DataFrame({"date": ["2023-01-01 00:00"], "trade_score": [0.1]}).to_csv(other)
        args[args.index("--scores") + 1] = str(other)
    elif extra[0] == "--model-dir":
        (tmp_path / "models").mkdir()
        args[args.index("--scores") + 1] = str(tmp_path / "models")
    else:
        args += extra
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("itb-ext: error: ") and err.count("\n") == 1
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".png", ".jpg", ".tmp")) == []


class _Recorder:
    """Stands in for the photo sender: keeps what the bot hands it."""

    def __init__(self) -> None:
        self.photos: list[bytes] = []

    def submit(self, photo: Any, caption: str = "") -> None:
        self.photos.append(photo() if callable(photo) else photo)


def test_the_bot_sends_each_pairs_diagram_once_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    from freqtrade.persistence import Trade

    from itb_ext.adapters.telegram_photo import DailyDiagrams

    monkeypatch.setattr(Trade, "get_trades_proxy", staticmethod(lambda **_: []))
    cfg = DiagramConfig(enabled=True, resampling_freq="1h", nrows=24)
    recorder = _Recorder()
    diagrams = DailyDiagrams(cfg, recorder)  # type: ignore[arg-type]
    frame = candles(48).assign(trade_score=np.linspace(-0.1, 0.1, 48))
    day = pd.Timestamp("2024-01-02 00:05", tz="UTC")
    for minutes in (0, 60, 600):  # three runs on the same day: one photo
        diagrams.tick("BTC/USD", frame, day + pd.Timedelta(minutes=minutes))
    diagrams.tick("ETH/USD", frame, day)
    diagrams.tick("BTC/USD", frame, day + pd.Timedelta(days=1))
    assert len(recorder.photos) == 3
    assert all(png_size(photo) == (1200, 600) for photo in recorder.photos)


def test_the_bot_sends_nothing_when_the_diagram_is_off() -> None:
    from itb_ext.adapters.telegram_photo import DailyDiagrams

    diagrams = DailyDiagrams.for_bot(DiagramConfig(), {"telegram": {"enabled": True}})
    assert diagrams.sender is None
    diagrams.tick("BTC/USD", candles(4), pd.Timestamp("2024-01-02", tz="UTC"))
