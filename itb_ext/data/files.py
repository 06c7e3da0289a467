"""Writing a file whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
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


def check_output_path(out: Path, formats: Sequence[str], inputs: Sequence[Path] = ()) -> None:
    """Refuse an output that cannot be written, or that would replace one of the inputs.

    :param out: the file a command is asked to write.
    :param formats: the file endings it can write, e.g. ``(".csv", ".json")``.
    :param inputs: the files the command reads; writing over one of them is refused.
    :raises DataError: one line naming ``out`` and the problem.
    """
    if out.is_dir():
        raise DataError(f"{out}: --out is a folder; give a file name inside it")
    if out.suffix.lower() not in formats:
        raise DataError(f"{out}: unsupported output type '{out.suffix}' (use {', '.join(formats)})")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{out}: output folder '{folder}' does not exist")
    for source in inputs:
        if source.exists() and out.exists() and out.resolve() == source.resolve():
            raise DataError(f"{out}: --out is the input file itself; it would be overwritten")
    if not os.access(folder, os.W_OK):
        raise DataError(f"{out}: output folder '{folder}' is not writable")
