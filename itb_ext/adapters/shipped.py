"""Where the files ``itb-ext init`` installs live: inside the package, or in the source checkout.

A wheel carries the FreqTrade strategy, the FreqAI model and the presets as package data in
``itb_ext/adapters/shipped/`` (the build step of ``setup.py`` copies them there from
``user_data/``). An editable install or a checkout on ``PYTHONPATH`` has no such copy; there the
files are read from the checkout's ``user_data/`` itself, so an edit to the strategy is what
``itb-ext init`` links to.

This module imports nothing but the standard library: the build step reads
:data:`SHIPPED_PATTERNS` from it before the package's dependencies are installed.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_PATTERNS = (
    "strategies/ITBStrategy.py",
    "freqaimodels/ITBClassifier.py",
    "itb-*.json",
)
"""The shipped files, as glob patterns relative to a FreqTrade user-data folder."""

PACKAGED_DIR = Path(__file__).resolve().parent / "shipped"
"""The copy inside an installed wheel (absent in a source checkout)."""

CHECKOUT_USER_DATA = Path(__file__).resolve().parents[2] / "user_data"
"""The user-data folder of the source checkout this package was imported from, if any."""


def shipped_root(candidates: tuple[Path, ...] = (PACKAGED_DIR, CHECKOUT_USER_DATA)) -> Path | None:
    """The first folder that holds every shipped file pattern.

    :param candidates: folders to try, in order (the package's copy, then the checkout).
    :return: that folder, or ``None`` when no candidate is complete.
    """
    for folder in candidates:
        if folder.is_dir() and all(any(folder.glob(pattern)) for pattern in SHIPPED_PATTERNS):
            return folder
    return None


def shipped_files(root: Path) -> tuple[Path, ...]:
    """The shipped files under ``root``, relative to it, in a stable order.

    :param root: a folder returned by :func:`shipped_root`.
    :return: relative paths such as ``strategies/ITBStrategy.py``.
    """
    found: list[Path] = []
    for pattern in SHIPPED_PATTERNS:
        found.extend(sorted(p.relative_to(root) for p in root.glob(pattern) if p.is_file()))
    return tuple(found)
