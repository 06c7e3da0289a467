"""Writing a file whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from itb_ext.errors import DataError


def _default_mode() -> int:
    # mkstemp creates the file readable by its owner only; a written result should have the
    # permissions an ordinary new file gets, so the user's other programs can read it.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half.

    The data goes to a temporary file in the same folder, is flushed to disk and then renamed
    over ``path``. On any error the temporary file is removed and ``path`` is left as it was.

    :param path: the file to write (its folder must exist).
    :param data: text (written as UTF-8) or bytes.
    :raises DataError: when the folder does not exist, ``path`` is a folder, or the file cannot be
        written (no permission, a full disk, ...): one line naming the file and the reason.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{target}: output folder '{folder}' does not exist")
    if target.is_dir():
        raise DataError(f"{target}: is a folder, not a file")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _default_mode())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise DataError(f"{target}: cannot write ({exc.strerror or exc}); left unchanged") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
