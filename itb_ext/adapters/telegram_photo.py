"""Photos to the bot's Telegram chat (``sendPhoto``) from a background thread.

FreqTrade's Telegram RPC sends text only, so the daily diagram goes through the Bot API
directly, with the token and chat of FreqTrade's ``telegram`` section. One worker thread posts
the photos; at most one photo waits for it, and a newer photo replaces a waiting one (only the
latest diagram is worth sending). The caller never waits for the network and never sees a
failure: each failed photo is logged once, as one line, and dropped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from itb_ext.config.diagram import DiagramConfig
from itb_ext.strategy.diagram import maybe_send_diagram

log = logging.getLogger(__name__)

TELEGRAM_API_URL = "https://api.telegram.org"
"""The Bot API server."""
TELEGRAM_URL_ENV = "ITB_TEST_TELEGRAM_URL"
"""Environment variable that, when set, replaces :data:`TELEGRAM_API_URL`.

The test harness sets it in the bot's environment to point FreqTrade's Telegram client at its
fake Telegram server; the photo sender follows the same variable so photos reach the same place.
"""

Photo = bytes | Callable[[], bytes]
"""A PNG, or a function drawing it (called on the worker thread)."""


def telegram_api_url(environ: Mapping[str, str]) -> str:
    """The Bot API server to use: :data:`TELEGRAM_URL_ENV` if set, else Telegram's own."""
    return (environ.get(TELEGRAM_URL_ENV) or TELEGRAM_API_URL).rstrip("/")


def multipart_body(fields: Mapping[str, str], photo: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with the text ``fields`` and the photo as ``photo``.

    :return: the body and its ``Content-Type`` header value (with the boundary).
    """
    boundary = f"itb-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
        f'filename="diagram.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class _Job:
    photo: Photo
    caption: str


class TelegramPhotoSender:
    """Posts photos to one Telegram chat from a daemon thread (started on the first photo).

    :param token: the bot's token.
    :param chat_id: the chat to post to.
    :param api_url: the Bot API server (see :func:`telegram_api_url`).
    :param topic_id: the forum topic (FreqTrade's ``telegram.topic_id``), if any.
    :param timeout: seconds one request may take.
    """

    def __init__(
        self,
        token: str,
        chat_id: str,
        *,
        api_url: str = TELEGRAM_API_URL,
        topic_id: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._url = f"{api_url.rstrip('/')}/bot{token}/sendPhoto"
        self.chat_id, self.topic_id, self.timeout = str(chat_id), topic_id, timeout
        self.sent = 0
        """Photos Telegram accepted."""
        self.failed = 0
        """Photos that could not be drawn or sent."""
        self.replaced = 0
        """Photos dropped because a newer one came while they waited."""
        self._cond = threading.Condition()
        self._waiting: _Job | None = None
        self._busy = False
        self._closed = False
        self._worker: threading.Thread | None = None

    @classmethod
    def from_freqtrade_config(
        cls, config: Mapping[str, Any], environ: Mapping[str, str]
    ) -> TelegramPhotoSender | None:
        """A sender for FreqTrade's ``telegram`` section, or None when Telegram is off.

        :param config: FreqTrade's config.
        :param environ: the process environment (for :data:`TELEGRAM_URL_ENV`).
        """
        telegram = config.get("telegram") or {}
        token, chat_id = telegram.get("token"), telegram.get("chat_id")
        if not telegram.get("enabled") or not token or not chat_id:
            return None
        topic = telegram.get("topic_id")
        return cls(
            str(token),
            str(chat_id),
            api_url=telegram_api_url(environ),
            topic_id=str(topic) if topic is not None else None,
        )

    # ------------------------------------------------------------------ caller side
    def submit(self, photo: Photo, caption: str = "") -> None:
        """Queue a photo and return at once; a photo still waiting is replaced.

        :param photo: the PNG bytes, or a function drawing them on the worker thread.
        :param caption: text under the photo.
        """
        with self._cond:
            if self._closed:
                log.warning("Telegram photo dropped: the sender is closed")
                return
            if self._waiting is not None:
                self.replaced += 1
            self._waiting = _Job(photo, caption)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="itb-telegram-photo", daemon=True
                )
                self._worker.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no photo waits or is being sent; False if ``timeout`` seconds passed."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._waiting is None and not self._busy, timeout=timeout
            )

    def close(self, timeout: float = 5.0) -> None:
        """Send what is waiting (within ``timeout`` seconds), then stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout)

    # ------------------------------------------------------------------ worker side
    def _next_job(self) -> _Job | None:
        with self._cond:
            self._cond.wait_for(lambda: self._waiting is not None or self._closed)
            job, self._waiting = self._waiting, None
            self._busy = job is not None
            return job

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                ok = self._deliver(job)
            except Exception as exc:  # a drawing or network fault must not end the worker
                log.warning("Telegram photo not sent: %s: %s", type(exc).__name__, exc)
                ok = False
            with self._cond:
                self.sent += ok
                self.failed += not ok
                self._busy = False
                self._cond.notify_all()

    def _deliver(self, job: _Job) -> bool:
        photo = job.photo() if callable(job.photo) else job.photo
        fields = {"chat_id": self.chat_id}
        if job.caption:
            fields["caption"] = job.caption
        if self.topic_id is not None:
            fields["message_thread_id"] = self.topic_id
        body, content_type = multipart_body(fields, photo)
        request = urllib.request.Request(
            self._url, data=body, headers={"Content-Type": content_type}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            # the URL holds the token: report Telegram's answer, never the address
            log.warning("Telegram photo not sent: HTTP %s %s", exc.code, _description(exc))
            return False
        except urllib.error.URLError as exc:
            log.warning("Telegram photo not sent: %s", exc.reason)
            return False
        if not answer.get("ok"):
            log.warning("Telegram photo not sent: %s", answer.get("description", answer))
            return False
        return True


def _description(error: urllib.error.HTTPError) -> str:
    """Telegram's explanation of a refused request (its JSON ``description``), if any."""
    try:
        return str(json.loads(error.read()).get("description", ""))
    except (ValueError, OSError, AttributeError):
        return ""


class DailyDiagrams:
    """The daily score diagram of each pair, sent once per ``itb.diagram.notification_freq`` to
    the bot's Telegram chat from the sender's thread (trading never waits for the drawing).

    :param cfg: the ``itb.diagram`` section, or None (off).
    :param sender: where the photos go (None: Telegram is off, nothing is sent).
    """

    def __init__(self, cfg: DiagramConfig | None, sender: TelegramPhotoSender | None) -> None:
        self.cfg, self.sender = cfg, sender
        self.last_sent: dict[str, pd.Timestamp | None] = {}

    @classmethod
    def for_bot(cls, cfg: DiagramConfig | None, config: Mapping[str, Any]) -> DailyDiagrams:
        """The diagrams of a bot whose FreqTrade config is ``config``."""
        on = cfg is not None and cfg.enabled
        return cls(
            cfg, TelegramPhotoSender.from_freqtrade_config(config, os.environ) if on else None
        )

    def tick(self, pair: str, candles: pd.DataFrame, now: pd.Timestamp) -> None:
        """``populate_entry_trend`` of a dry-run or live bot: the pair's diagram, when due."""
        if self.cfg is None or self.sender is None:
            return
        from freqtrade.persistence import Trade

        trades = pd.DataFrame(
            [
                {
                    "open_date": t.open_date_utc,
                    "close_date": t.close_date_utc,
                    "is_short": t.is_short,
                }
                for t in Trade.get_trades_proxy(pair=pair)
            ],
            columns=["open_date", "close_date", "is_short"],
        )
        self.last_sent[pair] = maybe_send_diagram(
            pair=pair,
            candles=candles,
            trades=trades,
            cfg=self.cfg,
            now=now,
            last_sent=self.last_sent.get(pair),
            send=self.sender.submit,
        )
