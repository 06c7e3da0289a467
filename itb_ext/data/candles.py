"""Reading, validating and writing candle and signal tables (feather, parquet, csv)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.data.files import write_atomically
from itb_ext.errors import DataError

TIME_COLUMNS = ("date", "timestamp")
PRICE_COLUMNS = ("open", "high", "low", "close")
CANDLE_COLUMNS = (*PRICE_COLUMNS, "volume")
TABLE_FORMATS = (".feather", ".parquet", ".csv")


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        formats = ", ".join(TABLE_FORMATS)
        raise DataError(f"{path}: unsupported file type '{suffix or path.name}' (use {formats})")
    return suffix


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a feather, parquet or csv file into a DataFrame with a fresh RangeIndex.

    :raises DataError: when the file is missing, of an unknown type or unreadable.
    """
    p = Path(path)
    fmt = _format_of(p)
    if not p.is_file():
        raise DataError(f"{p}: file not found")
    try:
        if fmt == ".feather":
            df = pd.read_feather(p)
        elif fmt == ".parquet":
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p)
    except Exception as exc:  # the readers raise many types; the user needs the file and the reason
        raise DataError(f"{p}: cannot read {fmt[1:]} file ({type(exc).__name__}: {exc})") from None
    return df.reset_index(drop=True)


def time_column_of(df: pd.DataFrame, source: str) -> str:
    """The name of the candle time column: ``date`` (FreqTrade) or ``timestamp`` (ITB)."""
    for name in TIME_COLUMNS:
        if name in df.columns:
            return name
    raise DataError(f"{source}: missing time column (expected 'date' or 'timestamp')")


def validate_candles(
    df: pd.DataFrame,
    source: str,
    price_columns: Sequence[str] = PRICE_COLUMNS,
    volume_column: str | None = "volume",
) -> pd.DataFrame:
    """Check a candle table and return it with its time column parsed as UTC datetimes.

    Checks: at least one row; a ``date``/``timestamp`` column with unique, increasing times;
    the price columns present, numeric, finite and positive; with all four prices, each candle's
    high not below its low and its open and close within [low, high]; the volume present, numeric
    and not negative. Numeric times may be in seconds, milliseconds, microseconds or
    nanoseconds since 1970 (see :func:`epoch_unit`).

    :param df: the table as read.
    :param source: file name for messages.
    :param price_columns: price columns that must be positive numbers.
    :param volume_column: the volume column, or None when the table has no volume.
    :raises DataError: naming the file, column and first offending row.
    """
    if len(df) == 0:
        raise DataError(f"{source}: no candles (the file has 0 rows)")
    time_col = time_column_of(df, source)
    times = _parse_times(df[time_col], source, time_col)
    _check_order(times, source, time_col)
    out = df.assign(**{time_col: times})
    for col in TIME_COLUMNS:  # a second time column is carried along, parsed the same way
        if col != time_col and col in out.columns:
            out[col] = _parse_times(out[col], source, col)
    for col in price_columns:
        values = _numeric(out, col, source)
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = "NaN" if np.isnan(values[row]) else repr(float(values[row]))
            raise DataError(
                f"{source}: column '{col}' has a non-positive or missing price {what} "
                f"at row {row} ({times.iloc[row]})"
            )
    if all(c in price_columns for c in PRICE_COLUMNS):
        _check_price_range(out, source, times)
    if volume_column is not None:
        values = _numeric(out, volume_column, source)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{source}: column '{volume_column}' has a negative or missing volume "
                f"at row {row} ({times.iloc[row]})"
            )
    return out


def _check_price_range(df: pd.DataFrame, source: str, times: pd.Series) -> None:
    o, h, lo, c = (df[col].to_numpy(dtype="float64") for col in PRICE_COLUMNS)
    problems = (
        (h < lo, "high {h} below low {lo}"),
        ((o < lo) | (o > h), "open {o} outside [low {lo}, high {h}]"),
        ((c < lo) | (c > h), "close {c} outside [low {lo}, high {h}]"),
    )
    for bad, text in problems:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = text.format(o=o[row], h=h[row], lo=lo[row], c=c[row])
            raise DataError(f"{source}: impossible candle at row {row} ({times.iloc[row]}): {what}")


#: Numeric times below these magnitudes are read in that unit: 1e11 seconds is the year 5138 and
#: 1e11 milliseconds 1973, so the units cannot be confused for candles of any real market.
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))


def epoch_unit(values: npt.ArrayLike) -> str:
    """The unit of numeric candle times since 1970: ``s``, ``ms``, ``us`` or ``ns``.

    Decided by the largest absolute value: seconds for the years 1970-5138, milliseconds from
    1973, and so on. FreqTrade and ITB write milliseconds; other tools often write seconds.
    """
    array = np.asarray(values, dtype="float64")
    finite = array[np.isfinite(array)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    for bound, unit in _EPOCH_UNITS:
        if largest < bound:
            return unit
    return "ns"


def _numeric(df: pd.DataFrame, col: str, source: str) -> np.ndarray:
    if col not in df.columns:
        raise DataError(f"{source}: missing column '{col}'")
    if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
        raise DataError(f"{source}: column '{col}' is not numeric (dtype {df[col].dtype})")
    return df[col].to_numpy(dtype="float64", na_value=np.nan)


def _parse_times(values: pd.Series, source: str, col: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values):
        parsed = pd.to_datetime(values, unit=epoch_unit(values), utc=True, errors="coerce")
    else:
        parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    if parsed.dt.tz is None:
        parsed = parsed.dt.tz_localize("UTC")
    else:
        parsed = parsed.dt.tz_convert("UTC")
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(
            f"{source}: column '{col}' has an unreadable time {values.iloc[row]!r} at row {row}"
        )
    return parsed


def _check_order(times: pd.Series, source: str, col: str) -> None:
    t = times.to_numpy()
    if len(t) < 2:
        return
    step = t[1:] > t[:-1]
    if step.all():
        return
    row = int(np.flatnonzero(~step)[0]) + 1
    kind = "duplicated" if t[row] == t[row - 1] else "unsorted"
    raise DataError(f"{source}: column '{col}' has a {kind} time {times.iloc[row]} at row {row}")


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` whole or not at all (see :func:`itb_ext.data.files.write_atomically`).

    :raises DataError: for an unknown file type or a missing target folder.
    """
    p = Path(path)
    fmt = _format_of(p)
    if fmt == ".csv":
        write_atomically(p, df.to_csv(index=False))
        return
    buffer = io.BytesIO()
    if fmt == ".feather":
        df.reset_index(drop=True).to_feather(buffer)
    else:
        df.to_parquet(buffer, index=False)
    write_atomically(p, buffer.getvalue())
