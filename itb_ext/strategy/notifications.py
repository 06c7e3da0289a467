"""ITB's score notifications: which band a score is in, when to tell, and the message text.

Bands follow ITB's ``score_notification_model``, with three corrections:

* a jump between bands of equal magnitude and opposite side (BUY ZONE -> SELL ZONE) is notified
  (ITB compares magnitudes only and stays silent);
* a score exactly on a negative edge is in that band (``<=``), as the threshold rule treats
  ``trade_score <= sell_threshold`` as a sell (ITB uses ``<`` there);
* the price keeps its significant digits (ITB prints ``int(close)``, so prices below 1 show 0), and
  a band's ``frequency`` counts minutes since the epoch (ITB uses the minute of the hour, so on
  hourly data every band with a frequency fires on every candle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from itb_ext.config.notifications import ScoreBand, ScoreNotificationConfig

BASE_SYMBOLS = {"BTC": "₿", "ETH": "Ξ"}


@dataclass(frozen=True)
class BandHit:
    """Where a score falls: signed band number (0 = no band) and the band itself."""

    number: int
    band: ScoreBand | None


def find_band(score: float, cfg: ScoreNotificationConfig) -> BandHit:
    """The band of ``score``: +N for the strongest buy band down to -N for the strongest sell band.

    :param score: the primary score (NaN is in no band).
    :param cfg: the bands.
    """
    if math.isnan(score):
        return BandHit(0, None)
    positive = sorted(cfg.positive_bands, key=lambda b: b.edge, reverse=True)
    for i, band in enumerate(positive):
        if score >= band.edge:
            return BandHit(len(positive) - i, band)
    negative = sorted(cfg.negative_bands, key=lambda b: b.edge)
    for i, band in enumerate(negative):
        if score <= band.edge:
            return BandHit(-(len(negative) - i), band)
    return BandHit(0, None)


def band_movement(previous: int | None, current: int) -> str | None:
    """``"up"`` (stronger, or the other side at equal strength), ``"down"`` (weaker) or None.

    :param previous: the previous band number (None before the first score).
    :param current: the current band number.
    """
    if previous is None or previous == current:
        return None
    if abs(current) > abs(previous) or (abs(current) == abs(previous) and current != 0):
        return "up"
    return "down"


def should_notify(
    previous: int | None, hit: BandHit, minutes_since_epoch: int, cfg: ScoreNotificationConfig
) -> bool:
    """Whether a message is due for this candle.

    The first score after a start counts as a move in both directions, as in ITB.
    """
    movement = band_movement(previous, hit.number)
    if previous is None and (cfg.notify_band_up or cfg.notify_band_dn):
        return True
    if movement == "up" and cfg.notify_band_up:
        return True
    if movement == "down" and cfg.notify_band_dn:
        return True
    frequency = hit.band.frequency if hit.band is not None else None
    return frequency is not None and minutes_since_epoch % frequency == 0


def format_price(price: float) -> str:
    """A price with at least five significant digits and thousands separators."""
    if not math.isfinite(price) or price <= 0:
        return str(price)
    digits = math.floor(math.log10(price)) + 1
    decimals = max(0, 5 - digits)
    return f"{price:,.{decimals}f}"


def score_message(
    pair: str,
    price: float,
    score: float,
    secondary: float | None,
    hit: BandHit,
    movement: str | None,
    timeframe: str,
) -> str:
    """The notification text, in ITB's layout (Telegram markdown).

    Example: ``*〉〉〉📈 ₿ 74,896 Indicator: +0.12 ↑   BUY ZONE 1h*``.
    """
    base = pair.split("/")[0]
    symbol = BASE_SYMBOLS.get(base, base)
    arrow = {"up": "↑", "down": "↓"}.get(movement or "", "")
    primary = f"{score:+.2f} {arrow} "
    extra = f"{secondary:+.2f}" if secondary is not None and not math.isnan(secondary) else ""
    head = f"{symbol} {format_price(price)} Indicator: {primary} {extra}"
    if hit.band is None:
        return f"{head} {timeframe}"
    message = f"{hit.band.sign} {head} {hit.band.text} {timeframe}"
    return f"*{message}*" if hit.band.bold else message


def next_notification(
    previous: int | None,
    *,
    pair: str,
    price: float,
    score: float,
    secondary: float | None,
    close_minutes: int,
    timeframe: str,
    cfg: ScoreNotificationConfig,
) -> tuple[int | None, str | None]:
    """The new band number and the message to send for the newest candle, if one is due.

    :param previous: the band number of the previous candle (None right after a start).
    :param pair: e.g. ``BTC/USDT``.
    :param price: the candle's close.
    :param score: the primary score (``trade_score``).
    :param secondary: the secondary score, if configured.
    :param close_minutes: the candle's close time in minutes since the epoch.
    :param timeframe: shown at the end of the message, e.g. ``1h``.
    :param cfg: the bands.
    """
    if math.isnan(score):
        # no score (no model yet, a missing feature): nothing to tell, and the band is kept
        return previous, None
    hit = find_band(score, cfg)
    if not should_notify(previous, hit, close_minutes, cfg):
        return hit.number, None
    movement = band_movement(previous, hit.number)
    return hit.number, score_message(pair, price, score, secondary, hit, movement, timeframe)
