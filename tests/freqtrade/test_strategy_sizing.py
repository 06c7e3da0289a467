"""ITBStrategy's stake under signal-strength sizing: the score's excess over the level in force.

The strategy's callbacks are called directly (no FreqTrade process); the analysed candle is
handed over by a stand-in data provider.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from freqtrade.configuration.load_config import load_from_files
from freqtrade.enums import RunMode
from freqtrade.persistence import Trade

from tests.freqtrade.strategy_helpers import ROOT, RecordingProvider, load_strategy_class

# fraction 0.2 of equity, scaled from 0.25 at the level to 1 at 0.2 beyond it
RISK = {
    "enabled": True,
    "sizing": {
        "mode": "fixed",
        "fraction": 0.2,
        "max_fraction": 0.25,
        "signal_strength": {"full_at": 0.2, "floor": 0.25},
    },
    "stop": None,
    "regime": None,
}
WALLET = 1000.0  # no wallets object: the strategy sizes on max_stake


class AnalysedProvider(RecordingProvider):
    """The newest analysed candle of every pair is ``candle``."""

    def __init__(self, candle: dict[str, float]) -> None:
        super().__init__(RunMode.BACKTEST)
        self.candle = candle

    def get_analyzed_dataframe(self, pair: str, timeframe: str) -> tuple[pd.DataFrame, Any]:
        frame = pd.DataFrame([self.candle])
        frame.insert(0, "date", pd.Timestamp("2024-01-01", tz="UTC"))
        return frame, None


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    # the closed trades come from the backtest lists (empty) instead of a database
    monkeypatch.setattr(Trade, "use_db", False)


def make_strategy(mode: str, candle: dict[str, float]) -> Any:
    config = load_from_files([str(ROOT / "user_data" / "config.demo-stationary.json")])
    config["itb"]["risk"] = RISK
    config["itb"]["thresholds"] = {"mode": mode}
    config["runmode"] = RunMode.BACKTEST
    strategy = load_strategy_class()(config)
    strategy.dp = AnalysedProvider(candle)
    strategy.ft_load_hyper_params(False)
    return strategy


def stake(strategy: Any, side: str) -> float:
    value: float = strategy.custom_stake_amount(
        pair="BTC/USD",
        current_time=pd.Timestamp("2024-01-01 01:00", tz="UTC").to_pydatetime(),
        current_rate=100.0,
        proposed_stake=WALLET,
        min_stake=None,
        max_stake=WALLET,
        leverage=1.0,
        entry_tag="itb_buy",
        side=side,
    )
    return value


def test_walk_forward_sizing_measures_the_excess_over_the_level_of_the_candle() -> None:
    # The window's levels are 0.20 / -0.15; the config's own thresholds are 0.08 / -0.08.
    long = make_strategy("walk_forward", {"trade_score": 0.30, "buy_threshold": 0.20})
    # excess 0.10: multiplier 0.25 + 0.75 * 0.10 / 0.20 = 0.625, stake 1000 * 0.2 * 0.625
    assert stake(long, "long") == pytest.approx(125.0)
    short = make_strategy("walk_forward", {"trade_score": -0.20, "sell_threshold": -0.15})
    # excess 0.05: multiplier 0.25 + 0.75 * 0.25 = 0.4375, stake 1000 * 0.2 * 0.4375
    assert stake(short, "short") == pytest.approx(87.5)


def test_fixed_sizing_measures_the_excess_over_the_hyperopt_threshold() -> None:
    strategy = make_strategy("fixed", {"trade_score": 0.18, "buy_threshold": 0.5})
    strategy.buy_threshold.value = 0.1
    # excess 0.08 over the parameter (the column is ignored): 0.25 + 0.75 * 0.4 = 0.55
    assert stake(strategy, "long") == pytest.approx(1000 * 0.2 * 0.55)
