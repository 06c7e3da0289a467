"""Small helpers on DataFrames shared by every generator."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from itb_ext.errors import DataError


def require_columns(df: pd.DataFrame, columns: Iterable[str], generator: str) -> None:
    """Fail with one message naming every column ``df`` lacks.

    :param df: the frame given to the generator.
    :param columns: the columns the generator reads.
    :param generator: the generator's name (or where it is configured), for the message.
    :raises DataError: ``<generator>: missing input column(s) 'a', 'b'``.
    """
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        names = ", ".join(f"'{c}'" for c in missing)
        raise DataError(f"{generator}: missing input column{plural} {names}")


def open_times(df: pd.DataFrame, column: str, generator: str) -> pd.DatetimeIndex:
    """The times in ``column`` as UTC datetimes.

    :param df: the frame given to the generator (``column`` must be in it).
    :param column: datetimes (naive ones are taken as UTC) or numbers of milliseconds since the
        epoch, as ITB's ``timestamp``.
    :param generator: the generator's name, for the message.
    :raises DataError: ``<generator>: column '<column>' holds no times``.
    """
    raw = df[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        return pd.DatetimeIndex(pd.to_datetime(raw, utc=True))
    if pd.api.types.is_numeric_dtype(raw):
        return pd.DatetimeIndex(pd.to_datetime(raw, unit="ms", utc=True))
    raise DataError(f"{generator}: column '{column}' holds no times")
