"""Shared fixtures: the ITB parity fixtures and the embedded real candles."""

from __future__ import annotations

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
