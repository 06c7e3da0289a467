"""ITB's score notification bands, with its defects fixed."""

from __future__ import annotations

import math

import pytest

from itb_ext.config.base import validate
from itb_ext.strategy.notifications import ScoreNotificationConfig as Cfg
from itb_ext.strategy.notifications import (
    band_movement,
    find_band,
    format_price,
    next_notification,
    score_message,
)

SAMPLE_1H = {
    "score_column_names": ["trade_score"],
    "notify_band_up": True,
    "notify_band_dn": True,
    "positive_bands": [
        {"edge": 0.08, "sign": "〉〉〉📈", "bold": True, "text": "BUY ZONE"},
        {"edge": 0.04, "sign": "〉〉", "bold": False, "text": "strong"},
        {"edge": 0.02, "sign": "〉", "bold": False, "text": "weak"},
    ],
    "negative_bands": [
        {"edge": -0.02, "sign": "〈", "bold": False, "text": "weak"},
        {"edge": -0.04, "sign": "〈〈", "bold": False, "text": "strong"},
        {"edge": -0.08, "sign": "〈〈〈📉", "bold": True, "text": "SELL ZONE"},
    ],
}


@pytest.fixture
def cfg() -> Cfg:
    return validate(Cfg, SAMPLE_1H, "score_notification_model")


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0.12, 3),
        (0.08, 3),
        (0.0799, 2),
        (0.04, 2),
        (0.02, 1),
        (0.019, 0),
        (0.0, 0),
        (-0.019, 0),
        (-0.02, -1),
        (-0.04, -2),
        (-0.08, -3),
        (-0.5, -3),
        (math.nan, 0),
    ],
)
def test_bands_are_numbered_by_strength_and_edges_are_inclusive(
    cfg: Cfg, score: float, band: int
) -> None:
    assert find_band(score, cfg).number == band


def test_equal_strength_jump_to_the_other_side_counts_as_a_move_up() -> None:
    assert band_movement(3, -3) == "up"
    assert band_movement(-1, 1) == "up"
    assert band_movement(1, 2) == "up"
    assert band_movement(2, 1) == "down"
    assert band_movement(-2, 0) == "down"
    assert band_movement(2, 2) is None
    assert band_movement(None, 2) is None


def test_message_layout_matches_itb(cfg: Cfg) -> None:
    hit = find_band(0.12, cfg)
    message = score_message("BTC/USDT", 74896.3, 0.12, None, hit, "up", "1h")
    assert message == "*〉〉〉📈 ₿ 74,896 Indicator: +0.12 ↑   BUY ZONE 1h*"
    no_band = score_message("ETH/USDT", 2500.0, 0.01, -0.02, find_band(0.01, cfg), None, "1h")
    assert no_band == "Ξ 2,500.0 Indicator: +0.01   -0.02 1h"


def test_prices_below_one_keep_their_digits() -> None:
    assert format_price(0.071234) == "0.071234"
    assert format_price(0.5) == "0.50000"
    assert format_price(74896.3) == "74,896"
    assert format_price(123.456) == "123.46"


def test_first_candle_notifies_then_only_band_changes(cfg: Cfg) -> None:
    args = {"pair": "BTC/USDT", "price": 100.0, "secondary": None, "timeframe": "1h", "cfg": cfg}
    band, msg = next_notification(None, score=0.01, close_minutes=60, **args)
    assert (band, msg is not None) == (0, True)
    band, msg = next_notification(band, score=0.015, close_minutes=120, **args)
    assert (band, msg) == (0, None)
    band, msg = next_notification(band, score=0.09, close_minutes=180, **args)
    assert band == 3 and msg is not None and "↑" in msg and "BUY ZONE" in msg
    band, msg = next_notification(band, score=-0.09, close_minutes=240, **args)
    assert band == -3 and msg is not None and "SELL ZONE" in msg and "↑" in msg
    band, msg = next_notification(band, score=-0.05, close_minutes=300, **args)
    assert band == -2 and msg is not None and "↓" in msg


def test_band_frequency_counts_minutes_since_the_epoch() -> None:
    cfg = validate(
        Cfg,
        {
            "notify_band_up": False,
            "notify_band_dn": False,
            "positive_bands": [{"edge": 0.1, "frequency": 120, "text": "up"}],
        },
        "x",
    )
    args = {"pair": "BTC/USDT", "price": 100.0, "secondary": None, "timeframe": "1h", "cfg": cfg}
    sent = [
        next_notification(3, score=0.2, close_minutes=m, **args)[1] is not None
        for m in (60, 120, 180, 240)
    ]
    assert sent == [False, True, False, True]


def test_unknown_band_keys_are_rejected() -> None:
    with pytest.raises(Exception, match="unknown key"):
        validate(Cfg, {"positive_bands": [{"edge": 0.1, "colour": "red"}]}, "x")


def test_a_missing_score_keeps_the_band_and_sends_nothing(cfg: Cfg) -> None:
    args = {"pair": "BTC/USDT", "price": 100.0, "secondary": None, "timeframe": "1h", "cfg": cfg}
    assert next_notification(None, score=math.nan, close_minutes=60, **args) == (None, None)
    assert next_notification(2, score=math.nan, close_minutes=60, **args) == (2, None)
