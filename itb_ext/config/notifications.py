"""ITB's ``score_notification_model``: the score bands a bot announces (see
:mod:`itb_ext.strategy.notifications` for when and how)."""

from __future__ import annotations

from pydantic import Field

from itb_ext.config.base import FrozenModel


class ScoreBand(FrozenModel):
    """One band: scores at or beyond ``edge`` (away from zero).

    :param edge: the band's inner edge (positive for buy bands, negative for sell bands).
    :param frequency: if set, also notify every ``frequency`` minutes while in this band.
    :param sign: symbols shown before the message.
    :param bold: wrap the message in ``*...*`` (Telegram markdown).
    :param text: the band's name in the message.
    """

    edge: float
    frequency: int | None = Field(default=None, ge=1)
    sign: str = ""
    bold: bool = False
    text: str = ""


class ScoreNotificationConfig(FrozenModel):
    """ITB's ``score_notification_model``.

    :param score_column_names: the primary score column and optionally a secondary one.
    :param notify_band_up: notify when the score moves into a stronger band (or changes side).
    :param notify_band_dn: notify when it falls back into a weaker band.
    :param positive_bands: buy-side bands (edges > 0).
    :param negative_bands: sell-side bands (edges < 0).
    """

    score_column_names: tuple[str, ...] = Field(
        default=("trade_score",), min_length=1, max_length=2
    )
    notify_band_up: bool = True
    notify_band_dn: bool = True
    positive_bands: tuple[ScoreBand, ...] = ()
    negative_bands: tuple[ScoreBand, ...] = ()
