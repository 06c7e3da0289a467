"""Helpers of the tests that call ITBStrategy's methods directly (no FreqTrade process)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from freqtrade.enums import RunMode

ROOT = Path(__file__).resolve().parents[2]


def load_strategy_class() -> Any:
    """ITBStrategy loaded from its file, as FreqTrade's resolver loads it."""
    spec = importlib.util.spec_from_file_location(
        "itb_strategy_under_test", ROOT / "user_data" / "strategies" / "ITBStrategy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ITBStrategy


class RecordingProvider:
    """Stands in for FreqTrade's DataProvider: records what the strategy sends."""

    def __init__(self, runmode: RunMode) -> None:
        self.runmode = runmode
        self.sent: list[str] = []

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        self.sent.append(message)
