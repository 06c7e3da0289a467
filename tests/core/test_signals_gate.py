"""The trend gate: exact values on tiny frames, causality, timeframe errors, use in a rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.config.base import validate
from itb_ext.config.signals import TrendGateConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.pipeline.steps import ITBPipeline, run_steps
from itb_ext.signals.gates import gate_plot, generate_trend_gate
from itb_ext.strategy.charts import DARK_BACKGROUND, LIGHT_BACKGROUND, MIN_CONTRAST, contrast_ratio


def gate(df: pd.DataFrame, **raw: Any) -> list[int]:
    out = generate_trend_gate(df, validate(TrendGateConfig, raw, "t"))
    assert out["trend_gate"].dtype == bool
    return out["trend_gate"].astype(int).tolist()


def hourly_days(day_closes: dict[str, float], start: str) -> pd.DataFrame:
    """1h candles from ``start`` to the end of the last day; every close is 1.0 except the
    23:00 candle of each listed day, which carries that day's close."""
    last = max(day_closes)
    dates = pd.date_range(start, f"{last} 23:00", freq="1h", tz="UTC")
    close = np.ones(len(dates))
    for day, value in day_closes.items():
        close[dates == pd.Timestamp(f"{day} 23:00", tz="UTC")] = value
    return pd.DataFrame({"date": dates, "close": close})


DAYS = {"2024-03-01": 100.0, "2024-03-02": 110.0, "2024-03-03": 105.0, "2024-03-04": 120.0}


def test_daily_gate_on_hourly_candles_uses_only_completed_days() -> None:
    # The first day starts at 05:00: its close is still the 23:00 close. With N = 2 the gate is
    # open when the last completed daily close beats the one before it. The 23:00 candle closes
    # at 00:00, so it already sees its own day; the candles before it see only earlier days
    # (their intraday closes of 1.0 would close the gate if a forming day were read).
    df = hourly_days(DAYS, "2024-03-01 05:00")
    expected = (
        [0] * 19  # day 1: no completed day before 00:00 on the 2nd, one at the 23:00 candle
        + [0] * 23  # day 2 until 22:00: only day 1 is complete
        + [1]  # day 2, 23:00: 110 > (110 + 100) / 2
        + [1] * 23  # day 3 until 22:00: still 110 > 100
        + [0]  # day 3, 23:00: 105 < (105 + 110) / 2
        + [0] * 23
        + [1]  # day 4, 23:00: 120 > (120 + 105) / 2
    )
    assert gate(df, timeframe="1d", window=2) == expected


def test_missing_candles_a_day_closes_at_its_last_candle() -> None:
    df = hourly_days(DAYS, "2024-03-01 05:00")
    # day 2 lacks its 23:00 candle: its close is the 22:00 one
    at_2300 = df["date"] == pd.Timestamp("2024-03-02 23:00", tz="UTC")
    df.loc[df["date"] == pd.Timestamp("2024-03-02 22:00", tz="UTC"), "close"] = 110.0
    gappy = df[~at_2300.to_numpy()].reset_index(drop=True)
    # the 22:00 candle closes at 23:00, before the day ends: day 2 completes only at 00:00
    expected = [0] * 19 + [0] * 23 + [1] * 23 + [0] + [0] * 23 + [1]
    assert gate(gappy, timeframe="1d", window=2) == expected


def test_a_day_without_candles_is_skipped() -> None:
    df = hourly_days(DAYS, "2024-03-01 05:00")
    no_day_3 = df[df["date"].dt.day != 3].reset_index(drop=True)
    # on day 4 the completed days are 1 and 2 (110 > 100), then 4 and 2 (120 > 110)
    expected = [0] * 19 + [0] * 23 + [1] + [1] * 23 + [1]
    assert gate(no_day_3, timeframe="1d", window=2) == expected


def test_weekly_bars_end_on_sunday_utc() -> None:
    # daily candles from Wednesday 2024-01-03; weeks run Monday..Sunday
    dates = pd.date_range("2024-01-03", "2024-01-21", freq="1D", tz="UTC")
    close = np.ones(len(dates))
    for day, value in {"2024-01-07": 100.0, "2024-01-14": 110.0, "2024-01-21": 105.0}.items():
        close[dates == pd.Timestamp(day, tz="UTC")] = value
    df = pd.DataFrame({"date": dates, "close": close})
    # Wed..Sun (5), Mon..Sat (6), Sun 14th closes week 2: 110 > 105; Mon..Sat (6) open;
    # Sun 21st: 105 < 107.5
    expected = [0] * 5 + [0] * 6 + [1] + [1] * 6 + [0]
    assert gate(df, timeframe="1w", window=2) == expected


def daily(close: list[float]) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=len(close), freq="1D", tz="UTC")
    return pd.DataFrame({"date": dates, "close": close})


def test_above_ema_weighs_the_last_4n_completed_closes() -> None:
    close = [10.0] * 6 + [100.0, 10.0, 11.0, 12.0, 13.0, 14.0]
    # span 2: weights (1/3)^j over 8 closes; open iff c_t > sum(w_j c_{t-j}) / sum(w_j).
    # The 100 keeps the gate closed while the mean of two closes would open it (t = 8..10).
    expected = [0] * 7 + [0, 0, 0, 0, 1]
    assert gate(daily(close), timeframe="1d", window=2, comparison="above_ema") == expected
    weights = (1.0 / 3.0) ** np.arange(8)
    reference = [
        int(close[t] > np.average(close[t - 7 : t + 1][::-1], weights=weights))
        for t in range(7, len(close))
    ]
    assert reference == expected[7:]
    assert gate(daily(close), timeframe="1d", window=2)[7:] == [0, 1, 1, 1, 1]


def test_max_volatility_closes_the_gate_in_wild_markets() -> None:
    close = [100.0, 110.0, 121.0, 100.0, 110.0, 160.0]
    # annualised population std of the last 2 daily log returns
    vol_4 = abs(math.log(110 / 100) - math.log(100 / 121)) / 2 * math.sqrt(365)
    vol_5 = abs(math.log(160 / 110) - math.log(110 / 100)) / 2 * math.sqrt(365)
    assert vol_5 < 2.7 < vol_4
    assert gate(daily(close), timeframe="1d", window=2) == [0, 1, 1, 0, 1, 1]
    # three closes are needed for two returns, so row 1 stays closed; row 2's returns are equal
    limited = gate(daily(close), timeframe="1d", window=2, max_volatility=2.7)
    assert limited == [0, 0, 1, 0, 0, 1]


def test_millisecond_timestamps_and_naive_dates_are_utc() -> None:
    df = hourly_days(DAYS, "2024-03-01 05:00")
    expected = gate(df, timeframe="1d", window=2)
    millis = (df["date"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    stamped = pd.DataFrame({"timestamp": millis, "close": df["close"]})
    assert gate(stamped, timeframe="1d", window=2, time_column="timestamp") == expected
    naive = df.assign(date=df["date"].dt.tz_localize(None))
    assert gate(naive, timeframe="1d", window=2) == expected


def test_lookback_counts_candles_of_the_higher_timeframe_bars() -> None:
    def lookback(**raw: Any) -> int:
        return validate(TrendGateConfig, raw, "t").lookback()

    assert lookback(candle_timeframe="1h") == 20 * 24
    assert lookback(candle_timeframe="1h", comparison="above_ema") == 4 * 20 * 24
    assert lookback(candle_timeframe="1h", max_volatility=1.0) == 21 * 24
    assert lookback(candle_timeframe="15m", timeframe="4h", window=5) == 5 * 16
    # without the candles' timeframe: the bound for 1-minute candles
    assert lookback() == 20 * 1440


# ---- causality ------------------------------------------------------------------------------

CONFIGS = [
    {"timeframe": "4h", "window": 2},
    {"timeframe": "1d", "window": 2},
    {"timeframe": "4h", "window": 2, "comparison": "above_ema"},
    {"timeframe": "4h", "window": 3, "max_volatility": 20.0},
    {"timeframe": "2h", "window": 3, "comparison": "above_ema", "max_volatility": 30.0},
]


def hourly(close: np.ndarray, kept: np.ndarray, start: str = "2024-05-06 01:00") -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(close), freq="1h", tz="UTC")
    return pd.DataFrame({"date": dates, "close": close})[kept].reset_index(drop=True)


moves = st.lists(st.floats(-0.05, 0.05), min_size=2, max_size=90)


@settings(max_examples=40, deadline=None)
@given(moves=moves, data=st.data())
def test_every_prefix_gives_the_same_gate_bit_for_bit(
    moves: list[float], data: st.DataObject
) -> None:
    close = 100.0 * np.exp(np.cumsum(moves))
    # exchange gaps anywhere after the first two candles
    rest = len(moves) - 2
    kept = np.array([True, True, *data.draw(st.lists(st.booleans(), min_size=rest, max_size=rest))])
    df = hourly(close, kept)
    for raw in CONFIGS:
        cfg = validate(TrendGateConfig, raw, "t")
        full = generate_trend_gate(df, cfg)["trend_gate"].to_numpy()
        for k in range(1, len(df) + 1):
            prefix = generate_trend_gate(df.iloc[:k], cfg)["trend_gate"].to_numpy()
            np.testing.assert_array_equal(prefix, full[:k])


@settings(max_examples=40, deadline=None)
@given(moves=moves, data=st.data())
def test_changing_later_candles_never_changes_earlier_gates(
    moves: list[float], data: st.DataObject
) -> None:
    close = 100.0 * np.exp(np.cumsum(moves))
    df = hourly(close, np.ones(len(close), dtype=bool))
    k = data.draw(st.integers(1, len(df) - 1))
    later = len(df) - k
    factors = np.array(data.draw(st.lists(st.floats(0.5, 2.0), min_size=later, max_size=later)))
    # candles after row k may go missing too (row k stays: the frame keeps its 1h spacing)
    dropped = data.draw(st.lists(st.booleans(), min_size=later - 1, max_size=later - 1))
    changed = df.assign(close=np.r_[df["close"].to_numpy()[:k], close[k:] * factors])
    changed = changed[np.r_[np.ones(k + 1, dtype=bool), ~np.array(dropped, dtype=bool)]]
    for raw in CONFIGS:
        cfg = validate(TrendGateConfig, raw, "t")
        before = generate_trend_gate(df, cfg)["trend_gate"].to_numpy()[:k]
        after = generate_trend_gate(changed, cfg)["trend_gate"].to_numpy()[:k]
        np.testing.assert_array_equal(after, before)


@settings(max_examples=40, deadline=None)
@given(moves=st.lists(st.floats(-0.05, 0.05), min_size=40, max_size=90), data=st.data())
def test_lookback_candles_are_enough_history(moves: list[float], data: st.DataObject) -> None:
    """A row's gate is the same whatever history precedes its ``lookback`` candles."""
    close = 100.0 * np.exp(np.cumsum(moves))
    df = hourly(close, np.ones(len(close), dtype=bool))
    skip = data.draw(st.integers(1, len(df) - 1))
    for raw in CONFIGS:
        cfg = validate(TrendGateConfig, {**raw, "candle_timeframe": "1h"}, "t")
        full = generate_trend_gate(df, cfg)["trend_gate"].to_numpy()
        later = generate_trend_gate(df.iloc[skip:], cfg)["trend_gate"].to_numpy()
        settled = cfg.lookback() - 1  # the row itself is one of the lookback candles
        np.testing.assert_array_equal(later[settled:], full[skip + settled :])


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"timeframe": "1M"}, "unknown timeframe '1M'"),
        ({"timeframe": "30s"}, "unknown timeframe '30s'"),
        ({"timeframe": "0h"}, "unknown timeframe '0h'"),
        ({"timeframe": "1.5h"}, "unknown timeframe"),
        ({"window": 1}, "window"),
        ({"comparison": "above_median"}, "comparison"),
        ({"max_volatility": 0}, "max_volatility"),
        ({"timeframe": "1h", "candle_timeframe": "40m"}, "not a whole multiple"),
        ({"columns": "close"}, "unknown key 'columns'"),
    ],
)
def test_bad_config_is_one_config_error(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(TrendGateConfig, raw, "signal_sets[0] (trend_gate): config")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"timeframe": "90m"}, r"'90m' is not a whole multiple of the candles' timeframe 1h"),
        ({"timeframe": "30m"}, r"'30m' is not a whole multiple of the candles' timeframe 1h"),
        ({"candle_timeframe": "4h"}, r"candle_timeframe is '4h', the candles are 1h"),
    ],
)
def test_a_timeframe_that_does_not_fit_the_candles_is_a_config_error(
    raw: dict[str, Any], message: str
) -> None:
    df = hourly_days(DAYS, "2024-03-01 05:00")
    with pytest.raises(ConfigError, match=message):
        generate_trend_gate(df, validate(TrendGateConfig, raw, "t"))


def test_bad_times_are_data_errors() -> None:
    df = hourly_days(DAYS, "2024-03-01 05:00")
    with pytest.raises(DataError, match="must increase"):
        generate_trend_gate(df.iloc[::-1], validate(TrendGateConfig, {}, "t"))
    shifted = df.assign(date=df["date"] + pd.Timedelta(minutes=30))
    with pytest.raises(DataError, match="do not open on whole 1h"):
        generate_trend_gate(shifted, validate(TrendGateConfig, {}, "t"))
    with pytest.raises(DataError, match="missing input column 'date'"):
        generate_trend_gate(df.drop(columns="date"), validate(TrendGateConfig, {}, "t"))


# ---- in the signal stage --------------------------------------------------------------------


def test_gate_feeds_a_threshold_rule_in_signal_sets() -> None:
    df = hourly_days(DAYS, "2024-03-01 05:00")
    score = np.tile([0.5, -0.5, 0.0], len(df) // 3 + 1)[: len(df)]
    df["trade_score"] = score
    pipeline = ITBPipeline.from_config(
        {
            "signal_sets": [
                {"generator": "trend_gate", "config": {"timeframe": "1d", "window": 2}},
                {
                    "generator": "threshold_rule",
                    "config": {
                        "columns": "trade_score",
                        "names": ["buy", "sell"],
                        "parameters": {"buy_signal_threshold": 0.1, "sell_signal_threshold": -0.1},
                        "gate": "trend_gate",
                    },
                },
            ]
        }
    )
    assert pipeline.signal_sets[1].input_columns() == ("trade_score", "trend_gate")
    out = run_steps(df, pipeline.signal_sets)
    is_open = np.array(gate(df, timeframe="1d", window=2), dtype=bool)
    np.testing.assert_array_equal(out["buy"], (score >= 0.1) & is_open)
    np.testing.assert_array_equal(out["sell"], (score <= -0.1) | ~is_open)


def test_gate_plot_draws_the_gate_as_bars_in_its_own_subplot() -> None:
    plot = gate_plot("trend_gate")
    assert list(plot) == ["gate trend_gate"]
    ((column, style),) = plot["gate trend_gate"].items()
    assert column == "trend_gate" and style["type"] == "bar"
    for background in (DARK_BACKGROUND, LIGHT_BACKGROUND):
        assert contrast_ratio(style["color"], background) >= MIN_CONTRAST
