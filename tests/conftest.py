"""Shared fixtures: the ITB parity fixtures and the embedded real candles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ITBREF_DIR = ROOT / "tests" / "data" / "itbref"
CANDLES_DIR = ROOT / "user_data" / "data" / "bitfinex"
ITBREF_DATASETS = ("synthetic_1h_3000", "bitfinex_btcusd_1h_2018")


@pytest.fixture(scope="session")
def itbref_dir() -> Path:
    """Folder holding the ITB parity fixture datasets (one subfolder per dataset)."""
    return ITBREF_DIR


@pytest.fixture(scope="session")
def candles_dir() -> Path:
    """Folder holding the embedded Bitfinex candles in FreqTrade's feather layout."""
    return CANDLES_DIR


def compare_with_itb(
    dataset: Path, candidate: Path, only: str, profile: str = "corrected"
) -> subprocess.CompletedProcess[str]:
    """Run the fixtures' own comparison script on a candidate folder.

    :param dataset: the fixture dataset folder (reference outputs).
    :param candidate: folder with ``features/labels/signals.parquet`` and/or ``simulate.json``.
    :param only: comma-separated parts to compare (``features,labels,signals,simulate``).
    :param profile: ``corrected`` (ITB's documented defects may differ) or ``faithful``.
    """
    return subprocess.run(
        [
            sys.executable,
            str(ITBREF_DIR / "compare_itbref.py"),
            str(dataset),
            str(candidate),
            "--profile",
            profile,
            "--only",
            only,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
