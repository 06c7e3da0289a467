"""The daily score diagram: the ``itb.diagram`` section (ITB's ``diagram_notification_model``)."""

from __future__ import annotations

import pandas as pd
from pandas.tseries.frequencies import to_offset
from pydantic import Field, field_validator

from itb_ext.config.base import FrozenModel, one_or_many


def _check_frequency(freq: str, examples: str) -> None:
    """Fail unless pandas can use ``freq`` as a frequency.

    :param freq: the configured alias.
    :param examples: valid aliases named in the message, e.g. ``'1h' or '5min'``.
    :raises ValueError: ``not a pandas frequency such as <examples> (<pandas' reason>)``.
    """
    try:
        to_offset(freq)
    except (ValueError, TypeError) as exc:
        # pandas names the alias problem on the first line only
        reason = str(exc).splitlines()[0]
        raise ValueError(f"not a pandas frequency such as {examples} ({reason})") from None


class DiagramConfig(FrozenModel):
    """What the daily diagram shows and when it is sent.

    Frequencies are pandas aliases, as in ITB: ``5min``, ``1h``, ``4h``, ``1D``.

    :param enabled: send the diagram to Telegram (the ``itb-ext diagram`` command draws it
        either way).
    :param notification_freq: send once per interval of this length, on the first candle of
        the interval (``1D``: the first candle of each UTC day). Must be a fixed length.
    :param resampling_freq: the diagram's bar length; candles and scores are aggregated to it.
    :param nrows: how many of the newest bars the diagram shows (``1h`` x 168 = one week).
    :param score_column: the score drawn on the right axis (ITB: the first of
        ``score_column_names``).
    :param score_thresholds: horizontal lines on the score axis, e.g. the buy and sell levels.
    :param score_ma: windows, in bars of ``resampling_freq``, of moving averages of the score
        drawn beside it (none by default).
    :param description: shown after the pair in the title (``BTC/USD: description``).
    """

    enabled: bool = False
    notification_freq: str = "1D"
    resampling_freq: str = "1h"
    nrows: int = Field(default=168, ge=1)
    score_column: str = Field(default="trade_score", min_length=1)
    score_thresholds: tuple[float, ...] = ()
    score_ma: tuple[int, ...] = ()
    description: str = ""

    @field_validator("resampling_freq")
    @classmethod
    def _known_frequency(cls, value: str) -> str:
        _check_frequency(value, "'1h' or '5min'")
        return value

    @field_validator("notification_freq")
    @classmethod
    def _fixed_frequency(cls, value: str) -> str:
        _check_frequency(value, "'1D' or '12h'")
        try:
            length = pd.Timedelta(to_offset(value))
        except (ValueError, TypeError):
            # weeks and months have no fixed start on the epoch's grid
            raise ValueError("must be a fixed length such as '1D', '12h' or '7D'") from None
        if length <= pd.Timedelta(0):
            raise ValueError("must be a positive length")
        return value

    @field_validator("score_thresholds", "score_ma", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return one_or_many(value)

    @field_validator("score_ma")
    @classmethod
    def _positive_windows(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(window < 1 for window in value):
            raise ValueError("moving-average windows must be at least 1 bar")
        return value
