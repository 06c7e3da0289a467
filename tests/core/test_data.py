"""Reading and validating candle files; atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.data.candles import read_table, validate_candles, write_table
from itb_ext.errors import DataError


def candles(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": np.full(n, 10.0),
            "high": np.full(n, 11.0),
            "low": np.full(n, 9.0),
            "close": np.full(n, 10.5),
            "volume": np.full(n, 3.0),
        }
    )


def test_valid_candles_pass_and_times_become_utc() -> None:
    df = candles().assign(date=lambda d: d["date"].dt.tz_localize(None))
    out = validate_candles(df, "in.feather")
    assert str(out["date"].dt.tz) == "UTC"


def test_timestamp_column_in_milliseconds_is_accepted() -> None:
    df = candles().rename(columns={"date": "timestamp"})
    df["timestamp"] = [int(t.timestamp() * 1000) for t in df["timestamp"]]
    out = validate_candles(df, "in.csv")
    assert out["timestamp"].iloc[1] == pd.Timestamp("2024-01-01 01:00", tz="UTC")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="date"), "missing time column"),
        (lambda d: d.drop(columns="close"), "missing column 'close'"),
        (lambda d: d.assign(close=[1.0, np.nan, 1.0, 1.0]), r"'close'.*NaN at row 1"),
        (lambda d: d.assign(low=[1.0, 1.0, 0.0, 1.0]), r"'low'.*0.0 at row 2"),
        (lambda d: d.assign(volume=[1.0, -1.0, 1.0, 1.0]), r"'volume'.*negative.*row 1"),
        (lambda d: d.assign(open=["a", "b", "c", "d"]), "'open' is not numeric"),
        (
            lambda d: d.assign(date=d["date"].iloc[[0, 1, 1, 3]].to_numpy()),
            "duplicated time.*row 2",
        ),
        (lambda d: d.assign(date=d["date"].iloc[[0, 2, 1, 3]].to_numpy()), "unsorted time.*row 2"),
        (lambda d: d.assign(date=["2024-01-01", "x", "2024-01-03", "2024-01-04"]), "unreadable"),
    ],
)
def test_bad_candles_are_rejected_with_file_column_and_row(change, message: str) -> None:
    with pytest.raises(DataError, match=f"in.parquet: .*{message}"):
        validate_candles(change(candles()), "in.parquet")


def test_read_table_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothing\.parquet: file not found"):
        read_table(tmp_path / "nothing.parquet")
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'"):
        read_table(tmp_path / "a.xlsx")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataError, match=r"bad\.parquet: cannot read parquet file"):
        read_table(bad)


@pytest.mark.parametrize("suffix", [".parquet", ".feather", ".csv"])
def test_write_table_round_trips_every_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    write_table(candles(), path)
    back = read_table(path)
    assert back["close"].tolist() == [10.5] * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_write_table_leaves_nothing_when_writing_fails(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [object()]})  # parquet cannot store arbitrary objects
    with pytest.raises(Exception):  # noqa: B017 - any writer error
        write_table(frame, tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []
