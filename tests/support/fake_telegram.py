"""A fake Telegram Bot API on 127.0.0.1 for FreqTrade's Telegram RPC (python-telegram-bot 22).

FreqTrade builds its client with ``Application.builder().token(token).build()`` and offers no
setting for the server address. The harness therefore redirects python-telegram-bot in the
*bot process only*: the test-only ``sitecustomize`` written by :mod:`tests.support.bot` wraps
``telegram.ext.ApplicationBuilder.build`` so that it calls ``base_url(<fake>/bot)`` and
``base_file_url(<fake>/file/bot)`` first, when the environment variable
:data:`TELEGRAM_URL_ENV` is set. Everything else (handlers, polling, FreqTrade's messages) is the
real code.

Served methods: ``getMe``, ``getUpdates`` (long polling, held at most ``max_poll_wait`` real
seconds), ``deleteWebhook`` (drops pending updates when asked), ``getWebhookInfo``,
``sendMessage``, ``editMessageText``, ``editMessageReplyMarkup``, ``answerCallbackQuery``,
``setMyCommands``, ``getMyCommands``, ``deleteMyCommands``, ``sendChatAction``, ``close``,
``logOut``, ``sendPhoto`` (``multipart/form-data``, kept in :attr:`FakeTelegram.photos`). Other
methods answer 404 and are logged.

Use::

    with FakeTelegram() as telegram:
        ...  # start the bot with telegram.config() in its config
        telegram.wait_until_polling(timeout=60)
        telegram.send_user_message("/status")
        reply = telegram.wait_for_message(r"Trade ID|No active trade", timeout=30)

Every ``sendMessage``/``editMessageText`` is kept in :attr:`FakeTelegram.messages`; every call in
:attr:`FakeTelegram.calls`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.http import LocalJSONServer

TELEGRAM_URL_ENV = "ITB_TEST_TELEGRAM_URL"
"""Environment variable carrying the fake's base URL into the bot process."""


@dataclass
class SentMessage:
    """A message the bot sent (``sendMessage``) or rewrote (``editMessageText``)."""

    method: str
    chat_id: str
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: Any
    real_time: float


@dataclass
class SentPhoto:
    """A photo the bot sent (``sendPhoto``): the file's bytes as uploaded."""

    chat_id: str
    message_id: int
    photo: bytes
    caption: str
    real_time: float


@dataclass
class TelegramCall:
    """One Bot API call: method name, decoded parameters and the HTTP status answered."""

    method: str
    params: dict[str, Any]
    status: int
    real_time: float = field(default_factory=time.time)


def _decode(value: str) -> Any:
    # python-telegram-bot form-encodes parameters, JSON-encoding the non-string ones.
    try:
        return json.loads(value)
    except ValueError:
        return value


def _multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """The fields of a ``multipart/form-data`` body: files as bytes, the rest decoded."""
    boundary = content_type.partition("boundary=")[2].strip('"')
    fields: dict[str, Any] = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break  # the closing boundary
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'name="([^"]*)"', disposition)
        if name is None:
            continue
        is_file = "filename=" in disposition
        fields[name.group(1)] = data if is_file else _decode(data.decode("utf-8", "replace"))
    return fields


class FakeTelegram:
    """Telegram Bot API fake: records what the bot sends and feeds it user messages.

    :param token: the bot token expected in the URL (``/bot<token>/<method>``).
    :param chat_id: the chat the bot is configured for (FreqTrade rejects other chats).
    :param user_id: the Telegram user that sends injected messages.
    :param max_poll_wait: longest real time a ``getUpdates`` call is held without updates.
    """

    def __init__(
        self,
        token: str = "123456:REPLAY-TEST-TOKEN",
        chat_id: int = 424242,
        user_id: int = 777,
        max_poll_wait: float = 1.0,
    ) -> None:
        self.token, self.chat_id, self.user_id = token, chat_id, user_id
        self.max_poll_wait = max_poll_wait
        self.messages: list[SentMessage] = []
        """Messages sent or edited by the bot, oldest first."""
        self.photos: list[SentPhoto] = []
        """Photos sent by the bot, oldest first."""
        self.calls: list[TelegramCall] = []
        """Every Bot API call, oldest first."""
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._failures: list[list[Any]] = []  # [remaining, status, method or None]
        self._stopping = threading.Event()
        self._server: LocalJSONServer | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda p: {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            },
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "answerCallbackQuery": lambda p: True,
            "setMyCommands": lambda p: True,
            "getMyCommands": lambda p: [],
            "deleteMyCommands": lambda p: True,
            "sendChatAction": lambda p: True,
            "sendPhoto": self._send_photo,
            "close": lambda p: True,
            "logOut": lambda p: True,
        }

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeTelegram:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        self._server = LocalJSONServer(self._handle)
        return self

    def stop(self) -> None:
        """Stop serving and release held ``getUpdates`` calls."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:<port>``); the Bot API lives under ``/bot<token>/``."""
        if self._server is None:
            raise RuntimeError("FakeTelegram: not started")
        return f"http://127.0.0.1:{self._server.port}"

    def config(self, **overrides: Any) -> dict[str, Any]:
        """FreqTrade ``telegram`` config section for this fake (extra keys merged on top)."""
        return {
            "enabled": True,
            "token": self.token,
            "chat_id": str(self.chat_id),
            "allow_custom_messages": True,
            **overrides,
        }

    def env(self) -> dict[str, str]:
        """Environment variables for the bot process (read by the test-only shim)."""
        return {TELEGRAM_URL_ENV: self.url}

    # ------------------------------------------------------------------ test API
    def send_user_message(self, text: str, *, chat_id: int | None = None) -> int:
        """Queue a user message (e.g. ``/status``) for the bot's next ``getUpdates``.

        :return: the update id.
        """
        message = self._message(self._next_message_id, text, chat_id, from_bot=False)
        self._next_message_id += 1
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message})

    def press_button(self, callback_data: str, message_id: int | None = None) -> int:
        """Queue an inline-keyboard button press (``callback_query``) on a bot message."""
        target = message_id or (self.messages[-1].message_id if self.messages else 1)
        original = next((m for m in reversed(self.messages) if m.message_id == target), None)
        message = self._message(target, original.text if original else "", None, from_bot=True)
        query = {
            "id": f"cb{self._next_update_id}",
            "from": self._user(),
            "chat_instance": "replay",
            "data": callback_data,
            "message": message,
        }
        return self._push({"callback_query": query})

    def fail_next(self, count: int = 1, *, status: int = 502, method: str | None = None) -> None:
        """Answer the next ``count`` calls (of ``method`` if given) with HTTP ``status``."""
        with self._cond:
            self._failures.append([count, status, method])

    def polls(self) -> int:
        """How many ``getUpdates`` calls the bot made so far."""
        with self._cond:
            return sum(1 for call in self.calls if call.method == "getUpdates")

    def wait_until_polling(self, timeout: float) -> None:
        """Block until the bot has called ``getUpdates`` (its handlers are registered)."""
        self._wait(lambda: self.polls() > 0, timeout, "the bot to poll getUpdates")

    def texts(self, start: int = 0) -> list[str]:
        """Texts of the recorded messages from index ``start``."""
        with self._cond:
            return [m.text for m in self.messages[start:]]

    def wait_for_message(
        self, pattern: str | re.Pattern[str], timeout: float, *, start: int = 0
    ) -> SentMessage:
        """First recorded message at index >= ``start`` whose text matches ``pattern``."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        found: list[SentMessage] = []

        def match() -> bool:
            with self._cond:
                found[:] = [m for m in self.messages[start:] if regex.search(m.text)]
            return bool(found)

        self._wait(match, timeout, f"a Telegram message matching {regex.pattern!r}")
        return found[0]

    def wait_for_photo(self, timeout: float, *, start: int = 0) -> SentPhoto:
        """First recorded photo at index >= ``start``."""
        self._wait(lambda: len(self.photos) > start, timeout, "a Telegram photo")
        with self._cond:
            return self.photos[start]

    def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                sent = "\n".join(t[:120] for t in self.texts()[-10:])
                raise TimeoutError(f"FakeTelegram: timed out waiting for {what}; last:\n{sent}")
            with self._cond:
                self._cond.wait(min(remaining, 0.2))

    # ------------------------------------------------------------------ Bot API
    def _user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": "Tester", "username": "tester"}

    def _message(
        self, message_id: int, text: str, chat_id: Any, *, from_bot: bool
    ) -> dict[str, Any]:
        sender = (
            {"id": 1, "is_bot": True, "first_name": "ReplayBot", "username": "replay_bot"}
            if from_bot
            else self._user()
        )
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id or self.chat_id), "type": "private", "first_name": "T"},
            "from": sender,
            "text": text,
        }

    def _push(self, payload: dict[str, Any]) -> int:
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            self._pending.append({"update_id": update_id, **payload})
            self._cond.notify_all()
        return update_id

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 1,
            "is_bot": True,
            "first_name": "ReplayBot",
            "username": "replay_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + wait
        with self._cond:
            # Updates below the offset are confirmed by the client: forget them.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            while not self._pending and not self._stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            limit = int(params.get("limit") or 100)
            return list(self._pending[:limit])

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            with self._cond:
                self._pending.clear()
        return True

    def _record(self, method: str, params: dict[str, Any], message_id: int) -> SentMessage:
        sent = SentMessage(
            method=method,
            chat_id=str(params.get("chat_id", "")),
            message_id=message_id,
            text=str(params.get("text", "")),
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            real_time=time.time(),
        )
        with self._cond:
            self.messages.append(sent)
            self._cond.notify_all()
        return sent

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            message_id = self._next_message_id
            self._next_message_id += 1
        sent = self._record("sendMessage", params, message_id)
        return self._message(message_id, sent.text, params.get("chat_id"), from_bot=True)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = params.get("photo")
        with self._cond:
            message_id = self._next_message_id
            self._next_message_id += 1
            if isinstance(photo, bytes):  # a file_id or URL string is not an upload
                caption = str(params.get("caption", ""))
                chat = str(params.get("chat_id", ""))
                self.photos.append(SentPhoto(chat, message_id, photo, caption, time.time()))
            self._cond.notify_all()
        message = self._message(message_id, "", params.get("chat_id"), from_bot=True)
        size = {"file_id": f"photo{message_id}", "file_unique_id": f"p{message_id}"}
        message["photo"] = [{**size, "width": 1, "height": 1}]
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = int(params.get("message_id") or 0)
        sent = self._record("editMessageText", params, message_id)
        return self._message(message_id, sent.text, params.get("chat_id"), from_bot=True)

    def _edit_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = int(params.get("message_id") or 0)
        original = next((m for m in reversed(self.messages) if m.message_id == message_id), None)
        text = original.text if original else ""
        return self._message(message_id, text, params.get("chat_id"), from_bot=True)

    def _take_failure(self, method: str) -> int | None:
        with self._cond:
            for failure in self._failures:
                if failure[0] > 0 and failure[2] in (None, method):
                    failure[0] -= 1
                    if failure[0] == 0:
                        self._failures.remove(failure)
                    return int(failure[1])
        return None

    def _handle(
        self, http_method: str, raw_path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        params: dict[str, Any] = {k: _decode(v) for k, v in parse_qsl(split.query)}
        content_type = headers.get("Content-Type", "")
        if body and "json" in content_type:
            params.update(json.loads(body))
        elif body and content_type.startswith("multipart/form-data"):
            params.update(_multipart(body, content_type))
        elif body:
            params.update({k: _decode(v) for k, v in parse_qsl(body.decode("utf-8", "replace"))})
        prefix, _, method = split.path.rpartition("/")
        if prefix != f"/bot{self.token}":
            status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        elif (failure := self._take_failure(method)) is not None:
            status = failure
            answer = {"ok": False, "error_code": failure, "description": "injected fault"}
        elif method not in self._methods:
            status = 404
            answer = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        else:
            status, answer = 200, {"ok": True, "result": self._methods[method](params)}
        with self._cond:
            self.calls.append(TelegramCall(method, params, status))
            self._cond.notify_all()
        return status, {}, json.dumps(answer).encode()
