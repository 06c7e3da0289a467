"""Reading ITB's JSON-with-comments (``.jsonc``) configuration files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from itb_ext.errors import ConfigError


def strip_line_comments(text: str) -> str:
    """Remove ``//`` comments that run to the end of a line, leaving string literals intact.

    ITB deletes everything from ``//`` to the end of the line, which also cuts URLs inside strings;
    here ``//`` inside a JSON string is kept.

    :param text: JSON text that may contain ``//`` comments.
    :return: the text without comments (line numbers are preserved).
    """
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
            continue
        if ch == "/" and i + 1 < n and text[i + 1] == "/":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def loads_jsonc(text: str, source: str = "<string>") -> Any:
    """Parse JSON text that may contain ``//`` line comments.

    :param text: the document.
    :param source: name used in error messages (usually the file path).
    :raises ConfigError: when the document is not valid JSON, naming line and column.
    """
    try:
        return json.loads(strip_line_comments(text))
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError(f"{source}: invalid JSON at {at}: {exc.msg}") from None


def load_jsonc(path: str | Path) -> Any:
    """Read and parse a JSON/JSONC file.

    :param path: file to read.
    :raises ConfigError: when the file is missing, unreadable or not valid JSON.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text") from None
    return loads_jsonc(text, str(p))
