"""The project's simulation of the long-only rules (``rule_backtest``), on which the demo's luck
tests run, agrees with FreqTrade's own backtest of ITBStrategy trade for trade.

FreqTrade backtests the trend preset's signal stage on BTC/USD over three months with the risk
layer's extras switched off where the simulation has none (no ATR stop, no volatility regime, no
protections, no cooldown, a static stop too far to be hit) and the same slippage (5 bps per fill)
in both. The simulation then runs on FreqAI's stored predictions of that backtest, through the
demo's own reading of them (:func:`itb_ext.evaluation.edge.backtested_signals`).

Where a slipped fill price stays inside its candle, the trade's return agrees to 1e-6. Where it
would leave the candle (thin 2019 candles often open at their high or low) FreqTrade moves it to
the candle's high (a buy) or low (a sell) and the simulation does not: that trade's return
differs by at most the two fills' slippage, 1e-3. The last trade, if still open at the end of the
data, is left out of the exit comparison: FreqTrade closes it at the last candle's open, the
simulation at its close.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.adapters.report import load_freqtrade_config
from itb_ext.evaluation.edge import backtested_signals, edge_settings
from itb_ext.evaluation.rule_backtest import backtest_rules, threshold_signals
from itb_ext.evaluation.stored import (
    backtest_windows,
    fill_missing_candles,
    read_backtest_result,
    read_window_predictions,
)
from itb_ext.strategy.setup import ITBSetup
from tests.freqtrade.conftest import CANDLES, USER_DATA, Run, make_userdir, run_offline

TIMERANGE = "20190101-20190401"
IDENTIFIER = "itb-agree"
#: a trade whose fills stayed inside their candles
RETURN_TOLERANCE = 1e-6
SLIPPAGE = 0.0005
SETTINGS = {
    "exchange": {"pair_whitelist": ["BTC/USD"]},
    "max_open_trades": 1,
    "stoploss": -0.99,
    "freqai": {"identifier": IDENTIFIER, "train_period_days": 60, "backtest_period_days": 30},
    "itb": {
        "risk": {
            "sizing": {"mode": "fixed", "fraction": 0.1},
            "stop": None,
            "regime": None,
            "protections": {
                "max_drawdown": None,
                "stoploss_guard": None,
                "cooldown_candles": 0,
                "daily_loss_limit": None,
            },
            "backtest_slippage_bps": 5,
            # no stop on purpose: the simulation it is held to has none
            "i_accept": ["wide_stop"],
            "min_hold_candles": 0,
        }
    },
}


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    folder = tmp_path_factory.mktemp("agree")
    config = folder / "config.json"  # the demo's config: the trend preset
    config.write_text(
        json.dumps({"add_config_files": [str(USER_DATA / "config.demo.json")], **SETTINGS})
    )
    run = run_offline(
        "backtesting", config, make_userdir(folder), "--timerange", TIMERANGE, "--export", "trades"
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


def simulated(run: Run) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """FreqTrade's trades, the simulation's (from the same stored predictions) and the candles
    of the period."""
    config = load_freqtrade_config(run.userdir.parent / "config.json")
    setup = ITBSetup.from_freqtrade_config(config)
    result = read_backtest_result(run.userdir / "backtest_results")
    settings = edge_settings(setup, config, setup.default_overrides())
    assert settings.costs.slippage == pytest.approx(SLIPPAGE)
    windows = backtest_windows(result.period, 30)
    predictions = read_window_predictions(run.userdir / "models" / IDENTIFIER, "BTC/USD", windows)
    candles = fill_missing_candles(pd.read_feather(CANDLES / "BTC_USD-1h.feather"), "1h")
    signals = backtested_signals(setup, settings, candles, predictions, result.period, 1)
    entry, exit_ = threshold_signals(signals.trade_score, signals.gate, settings.levels)
    mine = backtest_rules(signals.candles, entry, exit_, settings.costs).trades
    theirs = result.trades.sort_values("open_date").reset_index(drop=True)
    return theirs, mine, signals.candles.set_index("date")


def test_every_trade_has_the_same_entry_exit_and_return(backtest: Run) -> None:
    theirs, mine, candles = simulated(backtest)
    assert len(theirs) >= 10, "too few trades to compare"
    assert list(mine["entry_time"]) == list(theirs["open_date"])
    closed = len(mine) - int(mine["exit_reason"].iloc[-1] == "end")
    # FreqTrade's exits, the open one at the end aside, are the rules' exit signals
    assert set(theirs["exit_reason"].iloc[:closed]) == {"itb_sell"}
    assert list(mine["exit_time"].iloc[:closed]) == list(theirs["close_date"].iloc[:closed])
    mine, theirs = mine.iloc[:closed], theirs.iloc[:closed]
    high = candles.loc[theirs["open_date"], "high"].to_numpy()
    low = candles.loc[theirs["close_date"], "low"].to_numpy()
    bought, sold = mine["entry_price"].to_numpy(), mine["exit_price"].to_numpy()
    inside = (bought <= high) & (sold >= low)
    difference = np.abs(mine["return"].to_numpy() - theirs["profit_ratio"].to_numpy())
    assert inside.sum() >= 5, "too few trades with both fills inside their candles"
    assert difference[inside].max() <= RETURN_TOLERANCE, difference[inside].max()
    assert difference.max() <= 2 * SLIPPAGE + RETURN_TOLERANCE, difference.max()
    # outside the candle FreqTrade fills at its edge: the only other difference
    np.testing.assert_allclose(
        theirs["open_rate"].to_numpy(), np.minimum(bought, high), rtol=RETURN_TOLERANCE
    )
    np.testing.assert_allclose(
        theirs["close_rate"].to_numpy(), np.maximum(sold, low), rtol=RETURN_TOLERANCE
    )


def test_the_gate_closed_some_trades(backtest: Run) -> None:
    """The comparison covers the regime gate: some exits come from a closing gate, not from the
    score (at the exit signal's candle the score was above the sell level)."""
    config = load_freqtrade_config(backtest.userdir.parent / "config.json")
    setup = ITBSetup.from_freqtrade_config(config)
    result = read_backtest_result(backtest.userdir / "backtest_results")
    settings = edge_settings(setup, config, setup.default_overrides())
    windows = backtest_windows(result.period, 30)
    predictions = read_window_predictions(
        backtest.userdir / "models" / IDENTIFIER, "BTC/USD", windows
    )
    candles = fill_missing_candles(pd.read_feather(CANDLES / "BTC_USD-1h.feather"), "1h")
    signals = backtested_signals(setup, settings, candles, predictions, result.period, 1)
    assert signals.gate is not None
    dates = pd.DatetimeIndex(signals.candles["date"])
    signal_rows = dates.get_indexer(pd.DatetimeIndex(result.trades["close_date"])) - 1
    by_gate = [
        row
        for row in signal_rows
        if row >= 0
        and not signals.gate[row]
        and signals.trade_score[row] > settings.levels.sell_level
    ]
    assert by_gate, "no exit of a closing gate in the period: the test would not cover the gate"


def test_no_stored_prediction_outside_the_backtest_windows(backtest: Run) -> None:
    folder = Path(backtest.userdir / "models" / IDENTIFIER / "backtesting_predictions")
    assert len(list(folder.glob("cb_btc_*_prediction.feather"))) == 3
