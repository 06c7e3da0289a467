"""Everything the bot tells its operator once, when a state changes: per pair, a failed training,
untrusted predictions, a silent producer, producer scores out of range, the score band, a
model-health pause; for the bot, an entry refused by the risk rules (once per UTC day and
reason), the kill switch and where its halt is recorded.

:class:`Alerts` remembers the last state told and, given the new one, returns the messages due
(none when nothing changed). It does no I/O: the strategy logs each message and sends it to
Telegram/webhooks, in one place.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from itb_ext.config.notifications import ScoreNotificationConfig
from itb_ext.config.risk_controls import ModelHealthConfig
from itb_ext.risk.kill_switch import Halt, Recording
from itb_ext.risk.limits import utc_day_start
from itb_ext.risk.model_health import AUC_COLUMN, HIT_COLUMN, PAUSE_COLUMN
from itb_ext.strategy.notifications import next_notification
from itb_ext.strategy.setup import ITBSetup
from itb_ext.strategy.topology import ProducerState, RefusedScore

KILL_SWITCH_CLEARED = "ITB kill switch cleared: entries allowed again; losses count from now on."


@dataclass(frozen=True)
class Alert:
    """One message for the operator.

    :param text: what the log and the Telegram message say.
    :param level: the log level (``logging.WARNING``, ...).
    :param always_send: send even when FreqTrade's notification settings would mute it.
    """

    text: str
    level: int
    always_send: bool = True


Messages = tuple[Alert, ...]
"""The messages due: none, one or several."""


class Alerts:
    """The states last told, and the messages a new state calls for.

    :param timeframe: the bot's candles, e.g. ``1h`` (shown in score messages).
    :param timeframe_minutes: their length.
    """

    def __init__(self, timeframe: str, timeframe_minutes: int) -> None:
        self.timeframe = timeframe
        self.timeframe_minutes = timeframe_minutes
        self._failures: dict[str, str] = {}
        self._trusted: dict[str, bool] = {}
        self._producer_live: dict[str, bool] = {}
        self._bands: dict[str, int] = {}
        self._health_paused: dict[str, bool] = {}
        self._refusals: dict[str, datetime] = {}
        self._halt: Halt | None = None
        self._unrecorded: Recording | None = None
        self._refused_scores: dict[str, pd.Timestamp] = {}

    def training(self, pair: str, failure: str | None) -> Messages:
        """A failed training, once per failure (None: the last training succeeded).

        :param failure: the model's message, e.g. ``DataError: training: no row has all features``.
        """
        if failure is None:
            self._failures.pop(pair, None)
            return ()
        if self._failures.get(pair) == failure:
            return ()
        self._failures[pair] = failure
        text = (
            f"⚠️ ITB {pair}: model training failed ({failure}); "
            "entries use the last good model or stay paused."
        )
        return (Alert(text, logging.ERROR),)

    def predictions(self, pair: str, do_predict: float) -> Messages:
        """Entries paused when the newest prediction is not trusted (FreqAI's ``do_predict`` is
        not 1), and resumed when it is again; a start counts as trusted."""
        trusted = do_predict == 1
        if self._trusted.get(pair, True) == trusted:
            return ()
        self._trusted[pair] = trusted
        if trusted:
            text = f"ITB {pair}: predictions trusted again, entries resume."
            return (Alert(text, logging.INFO, always_send=False),)
        text = f"⚠️ ITB {pair}: no trusted prediction (do_predict={_shown(do_predict)}); "
        return (Alert(text + "entries paused.", logging.WARNING),)

    def producer(self, pair: str, name: str | None, state: ProducerState) -> Messages:
        """A consumer's producer gone silent, and back; a start counts as publishing."""
        live = not state.gone
        if self._producer_live.get(pair, True) == live:
            return ()
        self._producer_live[pair] = live
        if live:
            text = f"ITB {pair}: scores from producer '{name}' again; entries resume."
            return (Alert(text, logging.INFO),)
        since = "nothing received yet" if state.newest is None else f"newest {state.newest}"
        text = f"⚠️ ITB {pair}: no scores from producer '{name}' ({since}); entries paused."
        return (Alert(text, logging.WARNING),)

    def score(
        self,
        pair: str,
        *,
        price: float,
        score: float,
        secondary: float | None,
        close_minutes: int,
        cfg: ScoreNotificationConfig,
    ) -> Messages:
        """ITB's score notification of the newest candle, when one is due (see
        :func:`itb_ext.strategy.notifications.next_notification` for the parameters)."""
        band, message = next_notification(
            self._bands.get(pair),
            pair=pair,
            price=price,
            score=score,
            secondary=secondary,
            close_minutes=close_minutes,
            timeframe=self.timeframe,
            cfg=cfg,
        )
        if band is not None:
            self._bands[pair] = band
        # one per band change or per band frequency: the Telegram message is the record
        return () if message is None else (Alert(message, logging.DEBUG),)

    def model_health(
        self, pair: str, *, paused: bool, auc: float, hit_rate: float, cfg: ModelHealthConfig
    ) -> Messages:
        """Entries paused for poor live model quality, and resumed; a start counts as healthy.

        :param auc: the newest candle's rolling AUC; :param hit_rate: its rolling hit rate.
        """
        if self._health_paused.get(pair, False) == paused:
            return ()
        self._health_paused[pair] = paused
        figures = f"AUC {auc:.2f}, hit rate {hit_rate:.2f}"
        if paused:
            text = (
                f"⚠️ ITB {pair}: live model quality below the floor for {cfg.period} candles "
                f"({figures}; floor AUC {cfg.min_auc:.2f}); entries paused."
            )
            return (Alert(text, logging.WARNING),)
        text = f"ITB {pair}: live model quality back above the floor ({figures}); entries resume."
        return (Alert(text, logging.INFO),)

    def for_candle(
        self, setup: ITBSetup, candles: pd.DataFrame, pair: str, failure: str | None
    ) -> Messages:
        """The messages the newest analysed candle of ``pair`` calls for: a failed training,
        trust in its prediction, its score band (``itb.score_notification_model``) and the
        model-health pause.

        :param candles: the analysed dataframe (``date``, ``close``, ``do_predict``, the scores
            of the notification and, with model health on, its columns).
        :param failure: the model's last training failure for the pair (None: it trained).
        """
        last = candles.iloc[-1]
        told = self.training(pair, failure) + self.predictions(pair, last.get("do_predict", 0))
        notification = setup.raw.score_notification_model
        if notification is not None:
            names = notification.score_column_names
            closes = pd.Timestamp(last["date"]) + pd.Timedelta(minutes=self.timeframe_minutes)
            told += self.score(
                pair,
                price=float(last["close"]),
                score=float(last[names[0]]),
                secondary=float(last[names[1]]) if len(names) > 1 else None,
                close_minutes=int(closes.timestamp() // 60),
                cfg=notification,
            )
        if PAUSE_COLUMN in candles:
            told += self.model_health(
                pair,
                paused=bool(last[PAUSE_COLUMN] == 1),
                auc=float(last[AUC_COLUMN]),
                hit_rate=float(last[HIT_COLUMN]),
                cfg=setup.raw.risk.model_health,
            )
        return told

    def entry_refused(self, reason: str | None, now: datetime) -> Messages:
        """Why the risk rules refused an entry, once per reason and UTC day (None: allowed)."""
        if reason is None:
            return ()
        day = utc_day_start(now)
        if self._refusals.get(reason) == day:
            return ()
        self._refusals[reason] = day
        return (Alert(f"ITB: {reason}.", logging.WARNING),)

    def producer_scores(
        self, pair: str, name: str | None, refused: RefusedScore | None
    ) -> Messages:
        """Producer scores refused for being out of range: told once per refused candle (the
        newest, when several arrive together).

        :param refused: the newest refused score among the candles received (None: all in
            range).
        """
        if refused is None:
            return ()
        told = self._refused_scores.get(pair)
        if told is not None and refused.candle <= told:
            return ()
        self._refused_scores[pair] = refused.candle
        more = (
            f" ({refused.candles} candles received have such scores)" if refused.candles > 1 else ""
        )
        text = (
            f"⚠️ ITB {pair}: producer '{name}' sent {refused.column} = {refused.value!r} for "
            f"{refused.candle}, outside [{refused.low:g}, {refused.high:g}]{more}; such "
            "candles are not trusted (no entry, no exit signal)."
        )
        return (Alert(text, logging.WARNING),)

    def kill_switch(
        self, halt: Halt | None, clear_hint: str, at_start: bool = False, cleared: bool = False
    ) -> Messages:
        """The kill switch's halt, once, and a halt a person cleared while the bot was down (or
        before ``/reload_config``).

        :param halt: the halt in force, or None.
        :param clear_hint: the command that clears it (``itb-ext clear-halt --db-url ...``).
        :param at_start: the bot is starting (the halt was found, not made, now).
        :param cleared: a person cleared a halt since the last run.
        """
        if halt is None:
            self._halt = None
            return (Alert(KILL_SWITCH_CLEARED, logging.WARNING),) if cleared else ()
        if halt == self._halt:
            return ()
        self._halt = halt
        what = "kill switch still in force at start-up" if at_start else "kill switch"
        text = (
            f"🛑 ITB {what}: {halt.reason} (since {halt.since}). No new entries; every position "
            f"is exited and open entry orders are cancelled. To resume, run {clear_hint} and "
            "send /reload_config."
        )
        return (Alert(text, logging.ERROR),)

    def halt_recording(self, recording: Recording | None) -> Messages:
        """A halt the trade database refused, once per problem, and its recording later.

        :param recording: where the halt in force is recorded (None: no halt).
        """
        if recording is None or recording.in_database:
            if self._unrecorded is None:
                return ()
            self._unrecorded = None
            if recording is None:
                return ()
            text = "ITB kill switch: the halt is now recorded in the trade database."
            return (Alert(text, logging.WARNING),)
        if recording == self._unrecorded:
            return ()
        self._unrecorded = recording
        if recording.halt_file is not None:
            text = (
                f"⚠️ ITB kill switch: the trade database refused the halt ({recording.problem}); "
                f"it is kept in {recording.halt_file} instead, and moved into the database at "
                "the next start. The bot stays halted."
            )
            return (Alert(text, logging.ERROR),)
        text = (
            "🛑 ITB kill switch: the halt could not be recorded (trade database: "
            f"{recording.problem}; halt file: {recording.file_problem}). The bot stays halted "
            "while it runs and retries the database every iteration; after a restart the kill "
            "switch's exits in the trade history halt it again."
        )
        return (Alert(text, logging.ERROR),)


def _shown(value: float) -> str:
    """``do_predict`` as FreqAI writes it: ``0``, ``-1`` (or the number when not whole)."""
    number = float(value)
    return str(int(number)) if math.isfinite(number) and number.is_integer() else str(value)
