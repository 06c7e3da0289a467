"""Subtle bad input to ``itb-ext compute``: one line, exit 2, nothing written, input unchanged."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext import cli
from itb_ext.data import files
from itb_ext.data.candles import epoch_unit, validate_candles
from itb_ext.errors import DataError

CONFIG = {"feature_sets": [{"generator": "log_return", "config": {"windows": [1, 2]}}]}


def candles(n: int = 30) -> pd.DataFrame:
    close = 100.0 + np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.full(n, 10.0),
        }
    )


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "candles.feather"
    candles().to_feather(data)
    config = tmp_path / "itb.json"
    config.write_text(json.dumps(CONFIG))
    return data, config


def epoch_seconds(dates: pd.Series) -> pd.Series:
    return (dates - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str]]:
    status = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return status, [line for line in err.splitlines() if line.strip()]


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_out_equal_to_the_input_is_refused_and_the_input_kept(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, config = inputs
    before = digest(data)
    status, lines = run(capsys, "compute", "--config", config, "--data", data, "--out", data)
    assert status == 2
    assert lines == [
        f"itb-ext: error: {data}: --out is the input file itself; it would be overwritten"
    ]
    assert digest(data) == before


def test_out_that_is_the_input_by_another_path_is_refused(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, config = inputs
    other = data.parent / "sub" / ".." / data.name
    (data.parent / "sub").mkdir()
    before = digest(data)
    status, lines = run(capsys, "compute", "--config", config, "--data", data, "--out", other)
    assert (status, len(lines)) == (2, 1)
    assert "--out is the input file itself" in lines[0]
    assert digest(data) == before


def test_out_that_is_a_folder_is_refused(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, config = inputs
    folder = data.parent / "results.feather"
    folder.mkdir()
    status, lines = run(capsys, "compute", "--config", config, "--data", data, "--out", folder)
    assert status == 2
    assert lines == [f"itb-ext: error: {folder}: --out is a folder; give a file name inside it"]
    assert list(folder.iterdir()) == []


def test_an_unwritable_folder_is_refused_before_any_work(
    inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, config = inputs
    out = data.parent / "out.feather"
    real_access = os.access

    # the tests run as root, who may write anywhere: the folder's permission is what is denied
    def access(path: str | Path, mode: int) -> bool:
        return False if Path(path) == data.parent else real_access(path, mode)

    monkeypatch.setattr(files.os, "access", access)
    before = folder_listing(data.parent)
    status, lines = run(capsys, "compute", "--config", config, "--data", data, "--out", out)
    assert status == 2
    assert lines == [f"itb-ext: error: {out}: output folder '{data.parent}' is not writable"]
    assert folder_listing(data.parent) == before


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "No space left on device"), (errno.EACCES, "Permission denied")],
)
def test_a_full_disk_or_a_refused_write_leaves_nothing_behind(
    inputs: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    reason: str,
) -> None:
    data, config = inputs
    out = data.parent / "out.feather"
    out.write_bytes(b"the previous result")
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        real_fsync(fd)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    before = folder_listing(data.parent)
    status, lines = run(capsys, "compute", "--config", config, "--data", data, "--out", out)
    assert status == 2
    assert lines == [f"itb-ext: error: {out}: cannot write ({reason}); left unchanged"]
    assert folder_listing(data.parent) == before  # no temporary file left
    assert out.read_bytes() == b"the previous result"


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("high", 95.0, "high 95.0 below low 99.0"),
        ("open", 120.0, "open 120.0 outside [low 99.0, high 101.0]"),
        ("close", 98.0, "close 98.0 outside [low 99.0, high 101.0]"),
    ],
)
def test_impossible_candles_are_refused_naming_the_row(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    column: str,
    value: float,
    problem: str,
) -> None:
    frame = candles()
    frame.loc[0, column] = value
    data = tmp_path / "candles.feather"
    frame.to_feather(data)
    config = tmp_path / "itb.json"
    config.write_text(json.dumps(CONFIG))
    before = digest(data)
    out = tmp_path / "out.feather"
    status, lines = run(capsys, "compute", "--config", config, "--data", data, "--out", out)
    assert status == 2
    assert lines == [
        f"itb-ext: error: {data}: impossible candle at row 0 (2024-01-01 00:00:00+00:00): {problem}"
    ]
    assert not out.exists()
    assert digest(data) == before


@pytest.mark.parametrize(("scale", "unit"), [(1, "s"), (1_000, "ms"), (1_000_000, "us")])
def test_numeric_times_in_any_unit_are_read_as_the_same_dates(scale: int, unit: str) -> None:
    frame = candles(5)
    seconds = epoch_seconds(frame["date"])
    numeric = frame.drop(columns="date").assign(timestamp=seconds * scale)
    assert epoch_unit(numeric["timestamp"]) == unit
    parsed = validate_candles(numeric, "t.csv")
    pd.testing.assert_series_equal(
        parsed["timestamp"], frame["date"].rename("timestamp"), check_dtype=False
    )


def test_second_timestamps_no_longer_land_in_1970(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = candles()
    seconds = frame.assign(date=epoch_seconds(frame["date"]))
    data = tmp_path / "candles.csv"
    seconds.to_csv(data, index=False)
    config = tmp_path / "itb.json"
    config.write_text(json.dumps(CONFIG))
    out = tmp_path / "out.csv"
    status, _ = run(capsys, "compute", "--config", config, "--data", data, "--out", out)
    assert status == 0
    written = pd.read_csv(out)
    assert pd.Timestamp(written["date"].iloc[0]) == pd.Timestamp("2024-01-01", tz="UTC")


def test_the_writer_names_a_folder_in_the_way() -> None:
    with pytest.raises(DataError, match="is a folder, not a file"):
        files.write_atomically(Path("/"), b"x")
