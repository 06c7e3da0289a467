"""Small helpers on DataFrames shared by every generator."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from itb_ext.errors import DataError


def require_columns(df: pd.DataFrame, columns: Iterable[str], generator: str) -> None:
    """Raise a DataError naming the generator and the first column ``df`` lacks.

    :param df: the frame given to the generator.
    :param columns: the columns the generator reads.
    :param generator: the generator's name, for the message.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise DataError(f"{generator}: missing input column {listed}")
