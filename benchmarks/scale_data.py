"""Candles and ITB setups shared by the scale benchmarks (1h real, 5m/1m synthetic)."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

import pandas as pd

from itb_ext.data.synthetic import brownian_bridge_bars
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "user_data" / "data" / "bitfinex"
#: bars per 30m candle, per timeframe
PARTS = {"5m": 6, "1m": 30}
MINUTES = {"1h": 60, "5m": 5, "1m": 1}


def candles(timeframe: str, seed: int = 1) -> pd.DataFrame:
    """BTC/USD candles: real 1h, or 5m/1m drawn through the real 30m candles (synthetic)."""
    if timeframe == "1h":
        return pd.read_feather(DATA / "BTC_USD-1h.feather")
    return brownian_bridge_bars(
        pd.read_feather(DATA / "BTC_USD-30m.feather"), PARTS[timeframe], seed
    )


def setup(timeframe: str) -> ITBSetup:
    section = json.loads((ROOT / "user_data" / f"itb-sample-{timeframe}.json").read_text())
    return ITBSetup.from_freqtrade_config(section)


def machine() -> str:
    """One line describing where the figures come from."""
    load = os.getloadavg()
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), load average {load[0]:.1f} at start"


def peak_memory_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024
