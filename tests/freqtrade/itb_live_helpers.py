"""The ITB bot of the live tests: its ``itb``/``freqai`` sections, replay options and the
analysed dataframe it serves (shared by the tests that run ITBStrategy on the replay exchange)."""

from __future__ import annotations

import json
import shutil
import urllib.error
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tests.support.bot import ROOT, ReplaySession

START = datetime(2019, 5, 1, 15, 0, tzinfo=UTC)
PAIR = "BTC/USDT"
SPEED = 900  # one hourly candle every 4 real seconds
BUY_THRESHOLD, SELL_THRESHOLD = 0.012, 0.005
MODEL_PATH = ROOT / "user_data" / "freqaimodels"
#: The model probabilities of the cut-down section (lc and gb).
PROBABILITIES = ("high_30_lc", "high_30_gb", "low_30_lc", "low_30_gb")


def itb_section() -> dict[str, Any]:
    """The sample ``itb`` section with lc+gb only and thresholds that trade within hours."""
    raw: dict[str, Any] = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    raw["algorithms"] = [a for a in raw["algorithms"] if a["name"] in ("lc", "gb")]
    for step in raw["signal_sets"]:
        if step["generator"] == "smoothen":
            columns = step["config"]["columns"]
            step["config"]["columns"] = [c for c in columns if not c.endswith("_svc")]
        if step["generator"] == "threshold_rule":
            step["config"]["parameters"] = {
                "buy_signal_threshold": BUY_THRESHOLD,
                "sell_signal_threshold": SELL_THRESHOLD,
            }
    # Every signal must become a trade and every exit come from the signal: no ATR stop, no
    # entry halts. Sizing stays on (10 % of the 1000 wallet, the stake the checks expect).
    raw["risk"] = {
        "stop": None,
        "protections": {
            "max_drawdown": None,
            "stoploss_guard": None,
            "cooldown_candles": 0,
            "daily_loss_limit": None,
        },
    }
    return raw


def freqai_section() -> dict[str, Any]:
    demo = json.loads((ROOT / "user_data" / "config.demo.json").read_text())["freqai"]
    return {
        **demo,
        "identifier": "itb-live-test",
        "train_period_days": 30,
        "live_retrain_hours": 10_000,
        "expiration_hours": 0,
    }


def itb_options(tmp: Path) -> dict[str, Any]:
    """replay_session options for ITBStrategy/ITBClassifier (a private copy of the strategy)."""
    strategies = tmp / "strategies"
    strategies.mkdir(parents=True, exist_ok=True)
    # A copy: an ITBStrategy.json hyperopt result beside the repository's file would win.
    shutil.copy(ROOT / "user_data" / "strategies" / "ITBStrategy.py", strategies)
    return {
        "strategy": "ITBStrategy",
        "strategy_path": strategies,
        "speed": SPEED,
        "startup_speed": 60,
        "pairs": (PAIR,),
        "extra_args": ("--freqaimodel-path", str(MODEL_PATH)),
        "config_overrides": {
            "freqaimodel": "ITBClassifier",
            "freqai": freqai_section(),
            "itb": itb_section(),
        },
    }


def candles(session: ReplaySession, limit: int = 300) -> pd.DataFrame:
    """The strategy's analysed dataframe from ``/api/v1/pair_candles`` (empty if unavailable)."""
    try:
        answer = session.bot.pair_candles(PAIR, limit=limit)
    except (urllib.error.URLError, OSError, ValueError):
        return pd.DataFrame()
    frame = pd.DataFrame(answer.get("data") or [], columns=answer.get("columns") or [])
    if not frame.empty:
        frame["date"] = pd.to_datetime(frame["__date_ts"], unit="ms", utc=True)
        frame = frame.set_index("date", drop=False)
    return frame
