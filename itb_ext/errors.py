"""Errors raised for user mistakes: each carries a one-line message that names the problem."""

from __future__ import annotations


class ITBError(Exception):
    """Base class of every error caused by bad input or bad configuration.

    The message is a single line meant for the user; command-line front ends print it without a
    traceback and exit with status 2.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ConfigError(ITBError):
    """A configuration entry, key or value is invalid."""


class DataError(ITBError):
    """Input data is missing, malformed or inconsistent."""
