"""The config file of ``itb-ext``: an ITB config, or a FreqTrade config with an ``itb`` section.

A FreqTrade config (``user_data/config.json``) holds ITB's keys in its ``itb`` section, often in a
file it includes through ``add_config_files``. Both are followed the way FreqTrade does: included
files are relative to the including file's folder and the including file wins on equal keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from itb_ext.config.jsonc import load_jsonc
from itb_ext.errors import ConfigError

GENERATOR_SECTIONS = ("feature_sets", "label_sets", "signal_sets")
_MAX_DEPTH = 10


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` deep-merged over ``base`` (dicts merge, everything else is replaced)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_with_included(path: str | Path, depth: int = 0) -> dict[str, Any]:
    """A config file merged over the files it includes (``add_config_files``), as FreqTrade
    merges them: included files first, relative to the including file, the including file wins.
    """
    path = Path(path)
    document = load_jsonc(path)
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    included = document.get("add_config_files") or []
    if not isinstance(included, list) or not all(isinstance(f, str) for f in included):
        raise ConfigError(f"{path}: add_config_files must be a list of file names")
    if included and depth >= _MAX_DEPTH:
        raise ConfigError(f"{path}: add_config_files nested more than {_MAX_DEPTH} levels deep")
    merged: dict[str, Any] = {}
    for name in included:
        merged = deep_merge(merged, load_with_included(path.parent / name, depth + 1))
    return deep_merge(merged, {k: v for k, v in document.items() if k != "add_config_files"})


def is_freqtrade_config(document: Mapping[str, Any]) -> bool:
    """A FreqTrade config keeps ITB's keys in ``itb`` (directly or in an included file)."""
    return "itb" in document or "add_config_files" in document


def load_itb_document(path: str | Path) -> dict[str, Any]:
    """The ITB keys of a config file, whether it is an ITB config or a FreqTrade config.

    :param path: ITB config (``.json``/``.jsonc``) or FreqTrade config with an ``itb`` section.
    :return: the ITB document (for a FreqTrade config: its merged ``itb`` section).
    :raises ConfigError: when the file cannot be read, or holds none of ``feature_sets``,
        ``label_sets`` and ``signal_sets`` (nothing would be computed).
    """
    p = Path(path)
    top = load_jsonc(p)
    if not isinstance(top, Mapping):
        raise ConfigError(f"{p}: expected a JSON object at the top level")
    document: Any = top
    if is_freqtrade_config(top):
        document = load_with_included(p).get("itb")
        if not isinstance(document, Mapping):
            raise ConfigError(
                f"{p}: FreqTrade config without an 'itb' section (in the file or its "
                "add_config_files); give an ITB config or a config with an 'itb' section"
            )
    if not any(section in document for section in GENERATOR_SECTIONS):
        raise ConfigError(
            f"{p}: none of {', '.join(GENERATOR_SECTIONS)} found, nothing to compute "
            "(is this an ITB config?)"
        )
    return dict(document)
