"""What the bot keeps between runs, as the risk rules see it: named bot-wide values.

A running bot keeps them in FreqTrade's own trade database (its key-value store, see
:mod:`itb_ext.adapters.bot_state`), so that they move, back up and restore with the trades;
backtests and tests keep them in memory (:class:`MemoryStore`). Values kept for one trade live
in that trade's ``custom_data`` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

#: The kinds of value the trade database's key-value store holds.
StoredValue = str | datetime | float | int

#: FreqTrade's key-value store holds keys of at most 50 and texts of at most 255 characters.
MAX_KEY_LENGTH = 50
MAX_TEXT_LENGTH = 255


class StateStoreError(Exception):
    """The store refused a read or a write (a locked or full database, a lost connection...).

    The message is one line naming the cause.
    """


class StateStore(Protocol):
    """Named bot-wide values that survive a restart."""

    def get(self, key: str) -> StoredValue | None:
        """The value of ``key``, or None.

        :raises StateStoreError: the store cannot be read.
        """

    def put(self, key: str, value: StoredValue) -> None:
        """Keep ``value`` under ``key`` (replacing what was there).

        :raises StateStoreError: the store refused the write.
        """

    def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is not there).

        :raises StateStoreError: the store refused the write.
        """


def check_entry(key: str, value: StoredValue | None = None) -> None:
    """Refuse a key or text the trade database cannot hold, before it is written.

    :raises StateStoreError: the key or the text is too long.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise StateStoreError(f"state key '{key}' must have 1 to {MAX_KEY_LENGTH} characters")
    if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
        raise StateStoreError(f"state '{key}': a text of more than {MAX_TEXT_LENGTH} characters")


class MemoryStore:
    """A :class:`StateStore` in memory: backtests, and the bot before its database is open."""

    def __init__(self) -> None:
        self.values: dict[str, StoredValue] = {}

    def get(self, key: str) -> StoredValue | None:
        return self.values.get(key)

    def put(self, key: str, value: StoredValue) -> None:
        check_entry(key, value)
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
