"""Files are written whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from itb_ext.data import files
from itb_ext.data.files import write_atomically
from itb_ext.errors import DataError


def test_text_and_bytes_replace_the_file_and_leave_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_atomically(target, "first ü")
    assert target.read_text(encoding="utf-8") == "first ü"
    write_atomically(target, b"\x00second")
    assert target.read_bytes() == b"\x00second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_the_file_gets_the_permissions_of_an_ordinary_new_file(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "report.html", "<html>")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "binding.json"
    target.write_text("old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(DataError, match=r"binding\.json: cannot write \(No space left on device\)"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["binding.json"]


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"out\.csv: output folder '.*nowhere' does not exist"):
        write_atomically(tmp_path / "nowhere" / "out.csv", "a,b")
