"""The exchange against the bot's trades (itb_ext.risk.reconcile), on hand-made accounts.

Every expected range below is worked out by hand from the rule in the module's docstring: a
trade's filled orders, plus what its open entry orders may still buy, less what its open exit
and stop orders may still sell, give or take the difference between FreqTrade's figure and the
orders'.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from itb_ext.config.base import validate
from itb_ext.config.risk import RiskConfig
from itb_ext.errors import ConfigError
from itb_ext.risk.reconcile import (
    Mismatch,
    OpenOrder,
    Position,
    reconcile,
    unprotected,
    unprotected_since,
)

PRICES = {"BTC": 5000.0, "ETH": 150.0}
DUST = {"BTC": 5.0, "ETH": 5.0}  # Binance's minimum notional of 5 USDT


def btc(
    amount: float,
    *,
    trade_id: int = 1,
    recorded: float | None = None,
    buying: float = 0.0,
    selling: float = 0.0,
    stop_amount: float = 0.0,
    sellable: float = 0.0,
    exiting: bool = False,
    order_ids: frozenset[str] = frozenset(),
) -> Position:
    return Position(
        trade_id=trade_id,
        pair="BTC/USDT",
        asset="BTC",
        amount=amount,
        recorded=amount if recorded is None else recorded,
        buying=buying,
        selling=selling,
        stop_amount=stop_amount,
        sellable=sellable,
        exiting=exiting,
        order_ids=order_ids,
    )


def test_holdings_the_open_trades_hold_are_clean() -> None:
    found = reconcile({"BTC": 0.06, "ETH": 0.0}, [btc(0.06)], [], PRICES, DUST)
    assert found.clean


def test_an_entry_lost_behind_a_timeout_is_unexplained_holdings() -> None:
    # No trade, 0.0535 BTC on the account: 267.5 USDT beyond anything the trades explain.
    found = reconcile({"BTC": 0.0535, "ETH": 0.0}, [], [], PRICES, DUST)
    (mismatch,) = found.mismatches
    assert (mismatch.asset, mismatch.low, mismatch.high) == ("BTC", 0.0, 0.0)
    assert mismatch.excess == pytest.approx(0.0535)
    assert mismatch.value == pytest.approx(267.5)
    assert mismatch.describe("USDT") == (
        "BTC: the exchange holds 0.0535, the open trades explain 0 (+0.0535 BTC, about 267.50 USDT)"
    )


def test_a_difference_worth_less_than_dust_is_ignored() -> None:
    # 0.0009 BTC over the trade is 4.5 USDT, under the 5 USDT minimum order: no lost order.
    assert reconcile({"BTC": 0.0609}, [btc(0.06)], [], {"BTC": 5000.0}, DUST).clean
    # 0.0011 BTC is 5.5 USDT: it counts.
    found = reconcile({"BTC": 0.0611}, [btc(0.06)], [], {"BTC": 5000.0}, DUST)
    assert [m.asset for m in found.mismatches] == ["BTC"]


def test_open_orders_widen_the_range_by_what_they_may_still_fill() -> None:
    # 0.06 held; an open entry may add 0.02; an open exit may take 0.05: 0.01 .. 0.08.
    position = btc(0.06, buying=0.02, selling=0.05)
    for held in (0.01, 0.045, 0.08):
        assert reconcile({"BTC": held}, [position], [], {"BTC": 5000.0}, DUST).clean
    below = reconcile({"BTC": 0.008}, [position], [], {"BTC": 5000.0}, DUST).mismatches
    above = reconcile({"BTC": 0.0825}, [position], [], {"BTC": 5000.0}, DUST).mismatches
    assert below[0].excess == pytest.approx(-0.002) and below[0].value == pytest.approx(10.0)
    assert above[0].excess == pytest.approx(0.0025)
    assert (below[0].low, below[0].high) == pytest.approx((0.01, 0.08))


def test_freqtrades_own_figure_counts_either_way() -> None:
    # The orders booked 0.05; FreqTrade's figure is 0.051 (adjusted to the wallet): 0.049..0.051.
    position = btc(0.05, recorded=0.051)
    found = reconcile({"BTC": 0.0525}, [position], [], {"BTC": 5000.0}, {"BTC": 1.0})
    assert (found.mismatches[0].low, found.mismatches[0].high) == pytest.approx((0.049, 0.051))
    assert reconcile({"BTC": 0.0491}, [position], [], {"BTC": 5000.0}, {"BTC": 1.0}).clean


def test_holdings_outside_the_bot_and_several_trades_of_one_asset_add_up() -> None:
    trades = [btc(0.02, trade_id=1), Position(2, "BTC/EUR", "BTC", 0.03, recorded=0.03)]
    outside = {"BTC": 0.5}
    assert reconcile({"BTC": 0.55}, trades, [], {"BTC": 5000.0}, DUST, outside).clean
    missing = reconcile({"BTC": 0.53}, trades, [], {"BTC": 5000.0}, DUST, outside)
    assert missing.mismatches[0].excess == pytest.approx(-0.02)


def test_an_open_order_the_bot_never_placed_is_reported() -> None:
    mine = btc(0.06, selling=0.06, order_ids=frozenset({"1001", "1002"}))
    stray = OpenOrder("1003", "BTC/USDT", "sell", 0.06, is_stop=True)
    found = reconcile(
        {"BTC": 0.06},
        [mine],
        [OpenOrder("1002", "BTC/USDT", "sell", 0.06, is_stop=True), stray],
        {"BTC": 5000.0},
        DUST,
    )
    assert found.mismatches == () and found.unknown_orders == (stray,)
    assert found.key() == ((), ("1003",))
    # An order of a closed trade the bot still knows is not unknown.
    known = reconcile({"BTC": 0.06}, [mine], [stray], {"BTC": 5000.0}, DUST, None, {"1003"})
    assert known.clean


def test_a_trade_is_unprotected_when_its_stops_cover_less_than_its_lots() -> None:
    covered = btc(0.0535, sellable=0.0535, stop_amount=0.0535, trade_id=1)
    short = btc(0.0535, sellable=0.0535, stop_amount=0.03, trade_id=2)
    bare = btc(0.0535, sellable=0.0535, trade_id=3)
    leaving = btc(0.0535, sellable=0.0535, exiting=True, trade_id=4)
    dust_only = btc(0.000004, sellable=0.0, trade_id=5)
    found = unprotected([covered, short, bare, leaving, dust_only])
    assert [p.trade_id for p in found] == [2, 3]


def test_unprotected_since_keeps_the_first_sighting_and_forgets_protected_trades() -> None:
    t0 = datetime(2019, 5, 1, 15, tzinfo=UTC)
    first = unprotected_since({}, [2, 3], t0)
    assert first == {2: t0, 3: t0}
    later = unprotected_since(first, [3, 4], t0 + timedelta(minutes=5))
    assert later == {3: t0, 4: t0 + timedelta(minutes=5)}


def test_mismatch_below_the_range_describes_the_range() -> None:
    text = Mismatch("ETH", 1.0, 1.5, 2.0, 150.0).describe("USDT")
    assert text == (
        "ETH: the exchange holds 1, the open trades explain 1.5 to 2 (-0.5 ETH, about 75.00 USDT)"
    )


def test_the_reconcile_section_is_typed_and_refuses_bad_values() -> None:
    cfg = validate(
        RiskConfig,
        {"reconcile": {"on_mismatch": "flatten", "dust": 2.5, "outside_holdings": {"BNB": 0.5}}},
        "itb.risk",
    ).reconcile
    assert (cfg.on_mismatch, cfg.dust, cfg.outside_holdings) == ("flatten", 2.5, {"BNB": 0.5})
    assert (cfg.on_unprotected, cfg.confirm_checks) == ("exit", 2)
    for bad, message in [
        ({"on_mismatch": "sell"}, "Input should be 'pause' or 'flatten'"),
        ({"outside_holdings": {"BTC": -1.0}}, "must not be negative: BTC"),
        ({"confirm_checks": 0}, "greater than or equal to 1"),
        ({"dust": 0}, "greater than 0"),
    ]:
        with pytest.raises(ConfigError, match=message):
            validate(RiskConfig, {"reconcile": bad}, "itb.risk")
