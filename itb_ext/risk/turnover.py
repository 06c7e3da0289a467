"""Turnover controls: fewer, deliberate trades, because every round trip pays two fees.

* a minimum holding time: an exit *signal* waits until the trade has been open
  ``itb.risk.min_hold_candles`` candles; every protective exit (stops, the kill switch, ROI,
  forced and emergency exits) is followed at once;
* hysteresis: a long-only rule whose buy level is not above its sell level enters and leaves on
  the same scores, so it is refused at start-up.
"""

from __future__ import annotations

from collections.abc import Collection

from itb_ext.config.risk import RiskConfig
from itb_ext.errors import ConfigError

#: FreqTrade's exit reason of an exit signal that carries no exit tag.
EXIT_SIGNAL_REASON = "exit_signal"


def exit_allowed(
    open_candles: int,
    reason: str,
    cfg: RiskConfig,
    signal_tags: Collection[str] = (),
) -> bool:
    """Whether an exit may go ahead now (FreqTrade's ``confirm_trade_exit``).

    Only exit signals are held back: a reason that is not ``exit_signal`` or one of
    ``signal_tags`` is always allowed, so a stop or a halt is never delayed by a missing tag.

    :param open_candles: whole candles the trade has been open
        (:func:`itb_ext.risk.timeframes.candles_held`).
    :param reason: FreqTrade's exit reason; an exit signal with an exit tag arrives as the tag.
    :param cfg: the ``itb.risk`` section (``min_hold_candles``; ``enabled: false`` holds nothing).
    :param signal_tags: the exit tags the strategy puts on its exit signals.
    :return: False for an exit signal before ``min_hold_candles`` candles, True otherwise.
    """
    if not cfg.enabled or open_candles >= cfg.min_hold_candles:
        return True
    return reason != EXIT_SIGNAL_REASON and reason not in signal_tags


def check_threshold_hysteresis(
    buy_threshold: float | None,
    sell_threshold: float | None,
    *,
    long_only: bool,
    keys: tuple[str, str] = ("buy_signal_threshold", "sell_signal_threshold"),
) -> None:
    """Refuse a long-only rule whose buy level is not above its sell level.

    With ``buy <= sell`` a score between them asks to enter and to exit at once, and a score
    wobbling around one level trades on every wobble. A missing level never fires (as in ITB)
    and is not checked; with shorts allowed the rule is left alone.

    :param buy_threshold: the buy level in force (from the config or a hyperopt result).
    :param sell_threshold: the sell level in force.
    :param long_only: no short positions (spot, or futures without ``can_short``).
    :param keys: the names of the two levels where they were set, for the message.
    :raises ConfigError: one line naming both keys and their values.
    """
    if not long_only or buy_threshold is None or sell_threshold is None:
        return
    if buy_threshold <= sell_threshold:
        buy_key, sell_key = keys
        raise ConfigError(
            f"itb: {buy_key} ({buy_threshold}) must be above {sell_key} ({sell_threshold}) for "
            "long-only trading: between them a score asks to enter and to exit at once"
        )
