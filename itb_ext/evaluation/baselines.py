"""What a strategy must beat: buy-and-hold, the trend gate alone, and a one-feature reversal rule
inside the gate, each run by :mod:`itb_ext.evaluation.rule_backtest` with the strategy's fills,
fees and slippage (all-in, no minimum holding time).

* **Buy-and-hold**: buy at the first candle's open, sell at the last candle's close.
* **Trend gate alone**: long while :func:`daily_trend_gate` is open.
* **Reversal rule**: :func:`reversal_score` is the fall of the last ``horizon`` candles in units of
  its expected spread; enter at ``score >= enter_level`` while the gate is open, leave at
  ``score <= exit_level`` or when the gate closes. The defaults (a day and a week of hourly
  candles; enter a one-sigma fall, leave once it is made up) are round numbers, not fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from itb_ext.evaluation.rule_backtest import (
    CandleGrid,
    Costs,
    RuleBacktest,
    RuleLevels,
    backtest_rules,
    candle_grid,
    check_count,
    threshold_signals,
)

#: Daily closes in the trend gate's mean: four weeks of trading days.
DEFAULT_GATE_WINDOW = 20


@dataclass(frozen=True)
class ReversalRule:
    """The single-feature reversal rule.

    :param horizon: candles of the move (24: a day of 1h candles).
    :param span: EWM span, in candles, of the spread of one-candle log returns (168: a week).
    :param levels: enter at ``score >= buy_level``, leave at ``score <= sell_level``.
    """

    horizon: int = 24
    span: int = 168
    levels: RuleLevels = field(default_factory=lambda: RuleLevels(buy_level=1.0, sell_level=0.0))

    def __post_init__(self) -> None:
        for name in ("horizon", "span"):
            check_count(getattr(self, name), 1, f"reversal rule: {name}")


def _grid(candles: pd.DataFrame | CandleGrid) -> CandleGrid:
    return candles if isinstance(candles, CandleGrid) else candle_grid(candles, "baselines")


def daily_trend_gate(
    candles: pd.DataFrame | CandleGrid, window: int = DEFAULT_GATE_WINDOW
) -> np.ndarray:
    """Whether the daily trend is up, as known at each candle's close.

    Open when the last completed daily close is above the mean of the last ``window`` completed
    daily closes (that one included). A daily bar is a UTC day; its close is the close of its
    last candle and it is complete at the next 00:00 UTC. The candle opening at ``t`` closes at
    ``t + timeframe`` and sees only the days complete by then. Closed until ``window`` days are
    complete.

    :param candles: one pair's candles (or their grid).
    :param window: daily closes in the mean.
    :return: one boolean per candle.
    """
    window = check_count(window, 1, "trend gate: window")
    grid = _grid(candles)
    day_of_candle = grid.dates.floor("D")
    daily_close = pd.Series(grid.closes, index=day_of_candle).groupby(level=0).last()
    mean = daily_close.rolling(window).mean()
    up = (daily_close > mean).to_numpy()  # False while the mean is NaN
    day_end = (daily_close.index + pd.Timedelta(days=1)).asi8
    last_day = np.searchsorted(day_end, grid.close_times.asi8, side="right") - 1
    return np.where(last_day >= 0, up[np.maximum(last_day, 0)], False)


def reversal_score(
    candles: pd.DataFrame | CandleGrid, horizon: int = 24, span: int = 168
) -> np.ndarray:
    """Fall of the last ``horizon`` candles in units of its expected spread.

    ``score_t = -(ln c_t - ln c_{t-horizon}) / (sigma_t sqrt(horizon))``, ``sigma_t`` the EWM
    standard deviation (pandas' ``ewm(span=span, min_periods=span).std()``) of the one-candle
    log returns up to ``t``. NaN until both are known (and where sigma is 0).

    :param candles: one pair's candles (or their grid).
    :param horizon: candles of the move.
    :param span: EWM span of the spread, in candles.
    """
    ReversalRule(horizon=horizon, span=span)  # one check of both numbers
    grid = _grid(candles)
    log_close = pd.Series(np.log(grid.closes))
    move = log_close - log_close.shift(horizon)
    sigma = log_close.diff().ewm(span=span, min_periods=span).std()
    with np.errstate(divide="ignore", invalid="ignore"):
        score = -(move / (sigma * math.sqrt(horizon))).to_numpy()
    score[~np.isfinite(score)] = np.nan
    return np.asarray(score)


def buy_and_hold(candles: pd.DataFrame | CandleGrid, costs: Costs) -> RuleBacktest:
    """Buy at the first candle's open and sell at the last close, paying both fills' costs."""
    grid = _grid(candles)
    never = np.zeros(grid.size, dtype=bool)
    return backtest_rules(grid, never, never, costs, enter_at_start=True)


def trend_gate_alone(
    candles: pd.DataFrame | CandleGrid, costs: Costs, window: int = DEFAULT_GATE_WINDOW
) -> RuleBacktest:
    """Long while the daily trend gate is open."""
    grid = _grid(candles)
    gate = daily_trend_gate(grid, window)
    return backtest_rules(grid, gate, ~gate, costs)


def reversal_in_gate(
    candles: pd.DataFrame | CandleGrid,
    costs: Costs,
    rule: ReversalRule | None = None,
    window: int = DEFAULT_GATE_WINDOW,
) -> RuleBacktest:
    """The reversal rule inside the daily trend gate."""
    grid = _grid(candles)
    rule = rule or ReversalRule()
    score = reversal_score(grid, rule.horizon, rule.span)
    entry, exit_ = threshold_signals(score, daily_trend_gate(grid, window), rule.levels)
    return backtest_rules(grid, entry, exit_, costs)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Baselines:
    """The three baselines of one pair."""

    buy_and_hold: RuleBacktest
    trend_gate: RuleBacktest
    reversal: RuleBacktest

    def sharpes(self) -> dict[str, float]:
        """Each baseline's Sharpe ratio, by its name in a sentence."""
        return {
            "buy-and-hold": self.buy_and_hold.sharpe,
            "the trend gate": self.trend_gate.sharpe,
            "the reversal rule": self.reversal.sharpe,
        }


def all_baselines(
    candles: pd.DataFrame | CandleGrid,
    costs: Costs,
    window: int = DEFAULT_GATE_WINDOW,
    rule: ReversalRule | None = None,
) -> Baselines:
    """Buy-and-hold, the trend gate alone and the reversal rule on one pair's candles.

    :param candles: one pair's candles (or their grid).
    :param costs: the strategy's fee and slippage per fill.
    :param window: daily closes in the trend gate's mean (two of the three baselines read it).
    :param rule: the reversal rule (defaults of :class:`ReversalRule`).
    """
    grid = _grid(candles)
    return Baselines(
        buy_and_hold=buy_and_hold(grid, costs),
        trend_gate=trend_gate_alone(grid, costs, window),
        reversal=reversal_in_gate(grid, costs, rule, window),
    )
