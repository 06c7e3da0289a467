"""Trade simulation of one buy/sell pair: events, entry-based accounting, fees, fills, metrics.

Expected numbers are computed by hand from the formulas in ``itb_ext.simulate.trades``'s docstring.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itb_ext.errors import ConfigError, DataError
from itb_ext.simulate import (
    OpenPosition,
    SimulationResult,
    round_like_itb,
    simulate,
    simulate_frame,
)
from tests.core.simulate_report import OPEN_POSITION_NOTE, performance_report

T, F = True, False
# 4 intervals of 182.5 h = 730 h = 365/12 days: exactly one ITB month.
ONE_MONTH = pd.date_range("2024-01-01", periods=5, freq="182.5h", tz="UTC")


def events(result: SimulationResult) -> list[tuple[int, str, float]]:
    return [(e.row, e.side, e.price) for e in result.events]


def naive_events(
    buy: list[bool], sell: list[bool], price: list[float]
) -> list[tuple[int, str, float]]:
    """The state machine of the spec, literally: one step per row."""
    out: list[tuple[int, str, float]] = []
    long = False
    for i, p in enumerate(price):
        if not (p > 0):  # NaN and 0 are skipped
            continue
        if not long and buy[i]:
            out.append((i, "BUY", float(p)))
            long = True
        elif long and sell[i]:
            out.append((i, "SELL", float(p)))
            long = False
    return out


# A trade sequence used by several tests:
# row 0 BUY@10, row 1 SELL@11 (sell in buy mode at row 3 ignored), row 4 BUY@14, row 5 SELL@15.
PRICES = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
BUY = [T, T, F, F, T, F]
SELL = [F, T, F, T, F, T]


def test_levels_become_alternating_events_and_repeats_are_ignored() -> None:
    result = simulate(BUY, SELL, PRICES, fee=0.0)
    assert events(result) == [
        (0, "BUY", 10.0),
        (1, "SELL", 11.0),
        (4, "BUY", 14.0),
        (5, "SELL", 15.0),
    ]
    assert [(t.side, t.entry_row, t.exit_row) for t in result.trades] == [
        ("long", 0, 1),
        ("short", 1, 4),
        ("long", 4, 5),
    ]


def test_entry_based_accounting_without_fees() -> None:
    result = simulate(BUY, SELL, PRICES, fee=0.0)
    long, short, total = (result.performance[s] for s in ("long", "short", "total"))
    # long 10 -> 11 (+1, +10 %), long 14 -> 15 (+1, +100/14 %);
    # short sold 11, bought 14 (-3, -300/11 %)
    assert long["#transactions"] == 2
    assert long["profit"] == pytest.approx(2.0)
    assert long["%profit"] == pytest.approx(10.0 + 100 / 14)
    assert long["#profitable"] == 2
    assert long["%profitable"] == pytest.approx(100.0)
    assert long["profit/T"] == pytest.approx(1.0)
    assert long["%profit/T"] == pytest.approx((10.0 + 100 / 14) / 2)
    assert long["compound_return_%"] == pytest.approx(100 * (1.1 * 15 / 14 - 1))
    assert long["max_drawdown_%"] == 0.0
    assert long["#bars_in_market"] == 2
    assert short["#transactions"] == 1
    assert short["profit"] == pytest.approx(-3.0)
    assert short["%profit"] == pytest.approx(-300 / 11)
    assert short["#profitable"] == 0
    assert short["%profitable"] == 0.0
    assert short["max_drawdown_%"] == pytest.approx(300 / 11)
    assert short["#bars_in_market"] == 3
    assert total["#transactions"] == 3
    assert total["profit"] == pytest.approx(-1.0)
    assert total["%profit"] == pytest.approx(10.0 - 300 / 11 + 100 / 14)
    assert total["#profitable"] == 2
    # equity 1.1 -> 1.1 * 8/11 = 0.8 -> 0.8 * 15/14; deepest fall from the 1.1 peak: 1 - 0.8/1.1
    assert total["compound_return_%"] == pytest.approx(100 * (0.8 * 15 / 14 - 1))
    assert total["max_drawdown_%"] == pytest.approx(100 * (1 - 0.8 / 1.1))
    assert total["#bars_in_market"] == 5


def test_fees_are_charged_on_both_legs() -> None:
    f = 0.01
    result = simulate(BUY, SELL, PRICES, fee=f)
    first_long, short, second_long = result.trades
    # long: profit = X(1-f) - E(1+f), % of E(1+f)
    assert first_long.profit == pytest.approx(11 * 0.99 - 10 * 1.01)  # 0.79
    assert first_long.profit_percent == pytest.approx(100 * 0.79 / 10.1)
    # short: profit = S(1-f) - B(1+f), % of S(1-f)
    assert short.profit == pytest.approx(11 * 0.99 - 14 * 1.01)  # -3.25
    assert short.profit_percent == pytest.approx(100 * -3.25 / 10.89)
    assert second_long.profit == pytest.approx(15 * 0.99 - 14 * 1.01)  # 0.71
    assert result.performance["long"]["profit"] == pytest.approx(0.79 + 0.71)
    assert result.performance["long"]["%profit"] == pytest.approx(
        100 * 0.79 / 10.1 + 100 * 0.71 / 14.14
    )


def test_fee_turns_a_tiny_gain_into_an_unprofitable_trade() -> None:
    result = simulate([T, F], [F, T], [100.0, 100.1], fee=0.001)
    # 100.1 * 0.999 - 100 * 1.001 = 99.9999 - 100.1 < 0
    assert result.trades[0].profit == pytest.approx(100.1 * 0.999 - 100.1)
    assert result.performance["long"]["#profitable"] == 0


def test_next_open_fills_at_the_following_open_and_ignores_the_last_bar() -> None:
    close = [1.0, 2.0, 3.0, 4.0, 5.0]
    opens = [10.0, 20.0, 30.0, 40.0, 50.0]
    buy = [T, F, F, T, F]
    sell = [F, F, T, F, T]
    at_close = simulate(buy, sell, close, fee=0.0, fill="close")
    assert events(at_close) == [
        (0, "BUY", 1.0),
        (2, "SELL", 3.0),
        (3, "BUY", 4.0),
        (4, "SELL", 5.0),
    ]
    at_open = simulate(buy, sell, close, open_price=opens, fee=0.0, fill="next_open")
    # the SELL signal of the last bar has no next open: ignored, the long stays open
    assert events(at_open) == [(0, "BUY", 20.0), (2, "SELL", 40.0), (3, "BUY", 50.0)]
    long, short = at_open.trades
    assert (long.profit, long.profit_percent) == (20.0, 100.0)
    assert (short.profit, short.profit_percent) == (-10.0, -25.0)
    assert at_open.open_position == OpenPosition("long", 3, 50.0, 5.0, -45.0)


def test_rows_with_missing_or_zero_price_are_skipped() -> None:
    close = [10.0, math.nan, 0.0, 12.0, math.nan, 13.0]
    buy = [F, T, T, T, F, F]
    sell = [F, F, F, F, T, T]
    result = simulate(buy, sell, close, fee=0.0)
    assert events(result) == [(3, "BUY", 12.0), (5, "SELL", 13.0)]


def test_next_open_skips_bars_whose_next_open_is_missing() -> None:
    close = [1.0, 1.0, 1.0, 1.0]
    opens = [5.0, math.nan, 7.0, 8.0]
    result = simulate(
        [T, T, F, F], [F, F, T, F], close, open_price=opens, fee=0.0, fill="next_open"
    )
    # row 0 would fill at open[1] = NaN: skipped; row 1 fills at open[2] = 7; row 2 at open[3] = 8
    assert events(result) == [(1, "BUY", 7.0), (2, "SELL", 8.0)]


def test_first_buy_opens_no_short_and_a_leading_sell_is_ignored() -> None:
    result = simulate([F, T, F, T], [T, F, T, F], [9.0, 10.0, 8.0, 6.0], fee=0.0)
    assert events(result) == [(1, "BUY", 10.0), (2, "SELL", 8.0), (3, "BUY", 6.0)]
    long, short = result.trades
    assert (long.side, long.profit, long.profit_percent) == ("long", -2.0, -20.0)
    assert (short.side, short.profit, short.profit_percent) == ("short", 2.0, 25.0)
    assert result.performance["short"]["#transactions"] == 1


def test_open_position_at_the_end_is_reported_but_not_counted() -> None:
    result = simulate([T, F, F], [F, F, F], [10.0, 11.0, 12.0], fee=0.01)
    assert result.trades == ()
    assert result.performance["total"]["#transactions"] == 0
    position = result.open_position
    assert position is not None
    assert (position.side, position.entry_row, position.entry_price) == ("long", 0, 10.0)
    assert position.last_price == 12.0
    assert position.unrealized_profit == pytest.approx(12 * 0.99 - 10 * 1.01)
    short_open = simulate([T, F, F], [F, T, F], [10.0, 11.0, 12.0], fee=0.0).open_position
    assert short_open == OpenPosition("short", 1, 11.0, 12.0, -1.0)


def test_no_events_give_zero_metrics_and_no_position() -> None:
    result = simulate([F, F], [T, T], [1.0, 2.0], timestamps=ONE_MONTH[:2])
    assert result.events == ()
    assert result.open_position is None
    metrics = result.performance["long"]
    assert metrics["#transactions"] == 0
    assert metrics["profit"] == 0.0
    assert metrics["%profitable"] == 0.0
    assert metrics["profit/T"] == 0.0
    assert metrics["compound_return_%"] == 0.0
    assert metrics["max_drawdown_%"] == 0.0


def test_per_month_metrics_divide_by_months_of_365_12_days() -> None:
    buy = [T, F, T, F, F]
    sell = [F, T, F, T, F]
    price = [10.0, 12.0, 12.0, 9.0, 9.0]
    one = simulate(buy, sell, price, timestamps=ONE_MONTH, fee=0.0)
    assert one.months == pytest.approx(1.0)
    assert one.performance["long"]["%profit/M"] == pytest.approx(20.0 - 25.0)
    assert one.performance["long"]["#transactions/M"] == pytest.approx(2.0)
    two = simulate(
        buy, sell, price, timestamps=pd.date_range("2024-01-01", periods=5, freq="365h"), fee=0.0
    )
    assert two.months == pytest.approx(2.0)
    assert two.performance["long"]["profit/M"] == pytest.approx((2.0 - 3.0) / 2)
    without_time = simulate(buy, sell, price, fee=0.0)
    assert math.isnan(without_time.performance["long"]["%profit/M"])


def test_drawdown_is_measured_from_the_running_peak_of_compounded_equity() -> None:
    # long trades only: +50 %, -40 %, +10 %  -> equity 1.5, 0.9, 0.99; peak 1.5; drawdown 40 %
    buy = [T, F, T, F, T, F]
    sell = [F, T, F, T, F, T]
    price = [10.0, 15.0, 10.0, 6.0, 10.0, 11.0]
    metrics = simulate(buy, sell, price, fee=0.0).performance["long"]
    assert metrics["compound_return_%"] == pytest.approx(100 * (1.5 * 0.6 * 1.1 - 1))
    assert metrics["max_drawdown_%"] == pytest.approx(40.0)


def test_signals_with_nan_count_as_false() -> None:
    buy = np.array([np.nan, 1.0, 0.0, 0.0])
    sell = pd.array([None, None, True, False], dtype="boolean")
    result = simulate(buy, sell, [1.0, 2.0, 3.0, 4.0], fee=0.0)
    assert events(result) == [(1, "BUY", 2.0), (2, "SELL", 3.0)]


def test_bad_options_and_inputs_are_rejected() -> None:
    with pytest.raises(ConfigError, match="fee"):
        simulate([T], [F], [1.0], fee=-0.1)
    with pytest.raises(ConfigError, match="fill"):
        simulate([T], [F], [1.0], fill="vwap")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="rows"):
        simulate([T, F], [F], [1.0, 2.0])
    with pytest.raises(DataError, match="open"):
        simulate([T], [F], [1.0], fill="next_open")
    with pytest.raises(DataError, match="simulate: missing input columns 'buy', 'sell'"):
        simulate_frame(pd.DataFrame({"close": [1.0]}), "buy", "sell")


def test_rounding_like_itb() -> None:
    metrics = {
        "#transactions": 3,
        "profit": 1.23456,
        "%profit": 12.345678,
        "#profitable": 2,
        "%profitable": 66.66666,
        "profit/T": 0.41152,
        "%profit/T": 4.115226,
        "compound_return_%": 99.0,
    }
    assert round_like_itb(metrics) == {
        "#transactions": 3,
        "profit": 1.23,
        "%profit": 12.3,
        "#profitable": 2,
        "%profitable": 66.7,
        "profit/T": 0.41,
        "%profit/T": 4.1,
    }


def test_performance_report_has_the_fixture_structure() -> None:
    report = performance_report(simulate(BUY, SELL, PRICES, fee=0.0))
    assert set(report) == {"long", "short", "total", "open_position"}
    assert set(report["long"]) == {
        "#transactions",
        "profit",
        "%profit",
        "#profitable",
        "%profitable",
        "profit/T",
        "%profit/T",
        "compound_return_%",
        "rounded_like_itb",
    }
    assert report["short"]["rounded_like_itb"]["%profit"] == round(-300 / 11, 1)
    assert report["open_position"] == {
        "side": "short",
        "entry_row": 5,
        "entry_price": 15.0,
        "last_close": 15.0,
        "unrealized_profit": 0.0,
        "note": OPEN_POSITION_NOTE,
    }


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_events_match_the_row_by_row_state_machine(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 60))
    buy = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    sell = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    price = data.draw(
        st.lists(
            st.one_of(st.floats(0.5, 100.0), st.just(0.0), st.just(math.nan)),
            min_size=n,
            max_size=n,
        )
    )
    result = simulate(buy, sell, price, fee=0.0)
    assert events(result) == naive_events(buy, sell, price)
    # every trade joins two consecutive events; long after BUY, short after SELL
    for trade, (entry, exit_) in zip(result.trades, pairwise(result.events), strict=True):
        assert (trade.entry_row, trade.exit_row) == (entry.row, exit_.row)
        assert trade.side == ("long" if entry.side == "BUY" else "short")
    assert len(result.trades) == max(len(result.events) - 1, 0)
