"""A fast simulation of long-only entry/exit rules, with FreqTrade's backtesting fills.

Semantics (those of FreqTrade's backtesting, so its trades can be held to these):

* A signal is decided at a candle's close and fills at the next candle's open. The ``date`` of a
  candle is its open time (UTC); it closes at ``date + timeframe`` (the timeframe is the median
  step between candles).
* One position at a time. An entry signal while in a position is ignored. A candle with both
  signals does neither: FreqTrade enters only without an exit signal and exits only without an
  entry signal.
* Only the signals close a trade: no ROI table, stoploss or protections.
* An exit signal closes the position at the next candle's open. It counts from the close of the
  entry candle on; with a minimum holding time of ``m`` candles an exit signal is honoured only
  when its fill comes at least ``m`` candles after the entry fill.
* No position is opened on the last candle (FreqTrade does not open there), so an entry signal
  on the second-to-last or the last candle is not filled.
* A position still open at the end is closed at the last candle's **close** (exit reason
  ``end``), at ``date + timeframe`` of that candle. FreqTrade 2026.9 closes such a trade at the
  last candle's open instead: a comparison with FreqTrade differs on that final trade only.
* Costs on both fills: a buy pays ``price · (1 + slippage)``, a sell receives
  ``price · (1 − slippage)``, and each fill pays ``fee`` on its value. The trade's return after
  costs is ``exit · (1 − fee) / (entry · (1 + fee)) − 1`` (entry and exit after slippage), as
  FreqTrade's ``profit_ratio``.
* Sizing: the cash committed at an entry (value bought plus its fee) is the stake fraction times
  the equity. The fraction of the entry signal's candle is used (it is known at that close);
  a fraction of 0 skips the entry. The default is 1 (all-in).
* Equity starts at 1. It is marked at every candle close: cash plus the units held at that close
  (the exit's costs are paid when it happens). The daily equity is the equity at 00:00 UTC of
  each day from the first candle's open to the last candle's close: the value at the last candle
  close at or before midnight (the starting equity before the first close).

The work is one Python step per trade (searches in precomputed "next signal" tables), the rest
vectorised, so hundreds of runs on a year of hourly candles take well under a second each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.data.candles import PRICE_COLUMNS, validate_candles
from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation import metrics
from itb_ext.signals.rules import at_least, at_most
from itb_ext.simulate.trades import DEFAULT_FEE, next_true, trade_returns

#: Default slippage per fill, as a fraction of the price (5 basis points): a market order of a
#: small account on a liquid crypto pair.
DEFAULT_SLIPPAGE = 0.0005

#: Days in a year: crypto trades every day, so daily returns are annualised with sqrt(365).
DAYS_PER_YEAR = 365.0

#: Exit reasons of a trade.
SIGNAL_EXIT = "signal"
END_EXIT = "end"

TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "stake",
    "return",
    "exit_reason",
)


@dataclass(frozen=True)
class Costs:
    """Trading costs per fill, as fractions (0.001 = 0.1 %).

    :param fee: exchange fee on each fill's value (FreqTrade's ``fee``).
    :param slippage: price moved against the trader on each fill.
    """

    fee: float = DEFAULT_FEE
    slippage: float = DEFAULT_SLIPPAGE

    def __post_init__(self) -> None:
        for name in ("fee", "slippage"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"costs: {name} must be a number, got {value!r}")
            if not 0.0 <= float(value) < 1.0:
                raise ConfigError(f"costs: {name} must be a fraction in [0, 1), got {value!r}")


@dataclass(frozen=True)
class RuleLevels:
    """Levels of the threshold rule: enter at ``score >= buy_level`` while the gate is open,
    leave at ``score <= sell_level`` or when the gate closes."""

    buy_level: float
    sell_level: float

    def __post_init__(self) -> None:
        for name in ("buy_level", "sell_level"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise ConfigError(f"rule levels: {name} must be a finite number, got {value!r}")


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class CandleGrid:
    """The arrays and time grid of one candle table, computed once and shared by many runs.

    :param dates: candle open times (UTC).
    :param opens: open prices.
    :param closes: close prices.
    :param timeframe: the median step between candles.
    :param days: the 00:00 UTC instants from the first open to the last close.
    :param day_rows: for each day, the last candle closed at or before it (-1: none yet).
    :param years: the time covered, first open to last close, in years of 365 days.
    """

    dates: pd.DatetimeIndex
    opens: np.ndarray
    closes: np.ndarray
    timeframe: pd.Timedelta
    days: pd.DatetimeIndex
    day_rows: np.ndarray
    years: float

    @property
    def size(self) -> int:
        """Number of candles."""
        return len(self.opens)

    @property
    def close_times(self) -> pd.DatetimeIndex:
        """When each candle closes."""
        return self.dates + self.timeframe

    def candles_per_day(self) -> float:
        """Candles in a day at this timeframe (24 for 1h)."""
        return pd.Timedelta(days=1) / self.timeframe


def check_count(value: object, least: int, what: str) -> int:
    """``value`` as an int when it is a whole number ``>= least``, else a ConfigError naming
    ``what`` (for example ``"rule backtest: min_hold"``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ConfigError(f"{what} must be a whole number >= {least}, got {value!r}")
    return int(value)


def candle_grid(candles: pd.DataFrame, source: str = "rule backtest") -> CandleGrid:
    """Check a candle table (``date``, ``open``, ``high``, ``low``, ``close``) and build its grid.

    :param candles: at least two candles, times unique and increasing.
    :param source: name for messages.
    :raises DataError: on bad candles (one line naming the problem).
    """
    checked = validate_candles(candles, source, PRICE_COLUMNS, volume_column=None)
    if len(checked) < 2:
        raise DataError(f"{source}: needs at least 2 candles, got {len(checked)}")
    time_col = "date" if "date" in checked.columns else "timestamp"
    dates = pd.DatetimeIndex(checked[time_col]).as_unit("ns")  # one unit for every search
    timeframe = pd.Timedelta(np.median(np.diff(dates.asi8)), unit="ns")
    close_times = dates + timeframe
    days = pd.date_range(dates[0].ceil("D"), close_times[-1].floor("D"), freq="D", unit="ns")
    day_rows = np.searchsorted(close_times.asi8, days.asi8, side="right") - 1
    years = (close_times[-1] - dates[0]) / pd.Timedelta(days=DAYS_PER_YEAR)
    return CandleGrid(
        dates=dates,
        opens=checked["open"].to_numpy(dtype="float64"),
        closes=checked["close"].to_numpy(dtype="float64"),
        timeframe=timeframe,
        days=days,
        day_rows=day_rows,
        years=float(years),
    )


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class TradePath:
    """The raw outcome of one run: trades as arrays (rows of the entry and exit candles) and the
    equity at every candle close.

    :param entry_rows: candle of each entry fill (at its open).
    :param exit_rows: candle of each exit fill (at its open; at its close for an ``end`` exit).
    :param entry_prices: price paid, slippage included.
    :param exit_prices: price received, slippage included.
    :param stakes: fraction of the equity committed.
    :param returns: each trade's return after costs.
    :param closed_at_end: whether the last trade was closed at the last close.
    :param equity: equity at each candle close (starting equity 1).
    """

    entry_rows: np.ndarray
    exit_rows: np.ndarray
    entry_prices: np.ndarray
    exit_prices: np.ndarray
    stakes: np.ndarray
    returns: np.ndarray
    closed_at_end: bool
    equity: np.ndarray

    def held_candles(self) -> int:
        """Candles spent in a position (the last candle counts for an ``end`` exit)."""
        return int((self.exit_rows - self.entry_rows).sum()) + int(self.closed_at_end)


def threshold_signals(
    score: npt.ArrayLike, gate: npt.ArrayLike | None, levels: RuleLevels
) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit signals of the threshold rule inside a gate.

    Entry where ``score >= buy_level`` and the gate is open; exit where
    ``score <= sell_level`` or the gate is closed. A NaN score gives neither.

    :param score: the score at each candle close.
    :param gate: True where the gate is open; None for no gate (always open).
    :param levels: the rule's levels.
    """
    s = np.asarray(score, dtype="float64")
    is_open = np.ones(s.shape, dtype=bool) if gate is None else _flags(gate, "gate", len(s))
    entry = at_least(s, levels.buy_level) & is_open
    exit_ = at_most(s, levels.sell_level) | ~is_open
    return entry, exit_


@dataclass(frozen=True, eq=False)  # may hold an array: compared by identity
class Holding:
    """How the rules size and hold a position.

    :param stake: fraction of the equity committed per entry (0..1), per candle; None for 1.
    :param min_hold: minimum candles between the entry fill and a signal exit's fill.
    :param enter_at_start: also buy at the first candle's open, as if a signal had come before
        the data (buy-and-hold).
    """

    stake: npt.ArrayLike | None = None
    min_hold: int = 0
    enter_at_start: bool = False


#: All-in on every entry, no minimum hold.
ALL_IN = Holding()


def simulate_rules(
    grid: CandleGrid,
    entry: npt.ArrayLike,
    exit_: npt.ArrayLike,
    costs: Costs,
    holding: Holding = ALL_IN,
) -> TradePath:
    """Run the rules on prepared candles (semantics in the module docstring).

    :param grid: the candles (:func:`candle_grid`).
    :param entry: entry signal at each candle close.
    :param exit_: exit signal at each candle close.
    :param costs: fee and slippage per fill.
    :param holding: stake, minimum hold and whether to be in from the start.
    """
    n = grid.size
    wants_in = _flags(entry, "entry", n)
    wants_out = _flags(exit_, "exit", n)
    stakes = _stakes(holding.stake, n)
    min_hold = check_count(holding.min_hold, 0, "rule backtest: min_hold")
    can_enter = wants_in & ~wants_out & (stakes > 0)
    can_enter[n - 2 :] = False  # the fill would be on the last candle, or after it
    can_exit = wants_out & ~wants_in
    can_exit[n - 1] = False  # no open follows; the position is closed at the end anyway
    next_entry = next_true(can_enter[None, :])[0]
    next_exit = next_true(can_exit[None, :])[0]

    entries: list[int] = []
    exits: list[int] = []
    sizes: list[float] = []
    closed_at_end = False
    search = 0
    first = holding.enter_at_start
    while True:
        if first:
            row, size, first = 0, float(stakes[0]), False
        else:
            signal = int(next_entry[search])
            if signal >= n:
                break
            row, size = signal + 1, float(stakes[signal])
        earliest = min(row + max(min_hold, 1) - 1, n)
        out = int(next_exit[earliest])
        entries.append(row)
        sizes.append(size)
        if out >= n:
            exits.append(n - 1)
            closed_at_end = True
            break
        exits.append(out + 1)
        search = out + 1
    return _path(grid, costs, entries, exits, sizes, closed_at_end)


def _path(
    grid: CandleGrid,
    costs: Costs,
    entries: list[int],
    exits: list[int],
    sizes: list[float],
    closed_at_end: bool,
) -> TradePath:
    entry_rows = np.asarray(entries, dtype=np.int64)
    exit_rows = np.asarray(exits, dtype=np.int64)
    stakes = np.asarray(sizes, dtype="float64")
    paid = grid.opens[entry_rows] * (1.0 + costs.slippage)
    exit_base = grid.opens[exit_rows].copy()
    if closed_at_end:
        exit_base[-1] = grid.closes[-1]
    received = exit_base * (1.0 - costs.slippage)
    percent = trade_returns(paid, received, True, costs.fee)[1]
    returns = percent / 100.0
    return TradePath(
        entry_rows=entry_rows,
        exit_rows=exit_rows,
        entry_prices=paid,
        exit_prices=received,
        stakes=stakes,
        returns=returns,
        closed_at_end=closed_at_end,
        equity=_equity(grid, entry_rows, exit_rows, paid, stakes, returns, costs.fee),
    )


def _equity(
    grid: CandleGrid,
    entry_rows: np.ndarray,
    exit_rows: np.ndarray,
    paid: np.ndarray,
    stakes: np.ndarray,
    returns: np.ndarray,
    fee: float,
) -> np.ndarray:
    after = np.cumprod(np.r_[1.0, 1.0 + stakes * returns])  # equity after 0, 1, ... trades
    rows = np.arange(grid.size)
    done = np.searchsorted(exit_rows, rows, side="right")  # trades filled out by each close
    equity = after[done]
    trade = np.searchsorted(entry_rows, rows, side="right") - 1
    holding = trade >= 0
    holding[holding] = rows[holding] < exit_rows[trade[holding]]
    k = trade[holding]
    before = after[k]
    units = before * stakes[k] / (paid[k] * (1.0 + fee))
    equity[holding] = before * (1.0 - stakes[k]) + units * grid.closes[holding]
    return np.asarray(equity)


def daily_values(grid: CandleGrid, equity: np.ndarray) -> np.ndarray:
    """The equity at 00:00 UTC of each of ``grid.days`` (1 before the first close)."""
    rows = grid.day_rows
    return np.where(rows >= 0, equity[np.maximum(rows, 0)], 1.0)


def daily_returns_of(daily_equity: npt.ArrayLike) -> np.ndarray:
    """Day-on-day returns of an equity marked at 00:00 UTC."""
    e = np.asarray(daily_equity, dtype="float64")
    return np.asarray(e[1:] / e[:-1] - 1.0)


def daily_sharpe(daily_equity: npt.ArrayLike) -> float:
    """Annualised Sharpe ratio (sqrt(365)) of the daily returns of an equity marked at 00:00
    UTC; NaN when it cannot be computed (fewer than two returns, or no variation)."""
    return metrics.sharpe_ratio(daily_returns_of(daily_equity), DAYS_PER_YEAR)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class RuleBacktest:
    """Outcome of :func:`backtest_rules`.

    :param trades: one row per trade, columns :data:`TRADE_COLUMNS` (prices after slippage,
        ``return`` after costs, ``stake`` the fraction of the equity committed, ``exit_reason``
        ``signal`` or ``end``).
    :param equity: equity at each candle close, indexed by the close time (starting equity 1).
    :param daily_equity: equity at 00:00 UTC of each day.
    :param exposure: share of the candles spent in a position.
    :param trades_per_year: trades divided by the years covered.
    """

    trades: pd.DataFrame
    equity: pd.Series
    daily_equity: pd.Series
    exposure: float
    trades_per_year: float

    @property
    def daily_returns(self) -> np.ndarray:
        """Day-on-day returns of the daily equity."""
        return daily_returns_of(self.daily_equity.to_numpy())

    @property
    def sharpe(self) -> float:
        """Annualised Sharpe ratio of the daily returns (NaN when it cannot be computed)."""
        return daily_sharpe(self.daily_equity.to_numpy())

    @property
    def total_return(self) -> float:
        """Return from the starting equity to the final one."""
        return metrics.total_return(np.r_[1.0, self.equity.to_numpy()])

    @property
    def trade_returns(self) -> np.ndarray:
        """Each trade's return after costs."""
        return self.trades["return"].to_numpy(dtype="float64")

    @property
    def equity_returns(self) -> np.ndarray:
        """Each trade's change of the equity: its return times its stake."""
        return self.trade_returns * self.trades["stake"].to_numpy(dtype="float64")


def result_of(grid: CandleGrid, path: TradePath) -> RuleBacktest:
    """The dated result of a run."""
    exit_times = grid.dates[path.exit_rows]
    reasons = np.full(len(path.exit_rows), SIGNAL_EXIT, dtype=object)
    if path.closed_at_end:
        exit_times = exit_times[:-1].append(grid.close_times[-1:])
        reasons[-1] = END_EXIT
    trades = pd.DataFrame(
        {
            "entry_time": grid.dates[path.entry_rows],
            "exit_time": exit_times,
            "entry_price": path.entry_prices,
            "exit_price": path.exit_prices,
            "stake": path.stakes,
            "return": path.returns,
            "exit_reason": reasons,
        },
        columns=list(TRADE_COLUMNS),
    )
    return RuleBacktest(
        trades=trades,
        equity=pd.Series(path.equity, index=grid.close_times.rename("close_time"), name="equity"),
        daily_equity=pd.Series(
            daily_values(grid, path.equity), index=grid.days.rename("day"), name="equity"
        ),
        exposure=path.held_candles() / grid.size,
        trades_per_year=len(trades) / grid.years,
    )


def backtest_rules(
    candles: pd.DataFrame | CandleGrid,
    entry: npt.ArrayLike,
    exit_: npt.ArrayLike,
    costs: Costs,
    *,
    stake: npt.ArrayLike | None = None,
    min_hold: int = 0,
    enter_at_start: bool = False,
) -> RuleBacktest:
    """Backtest long-only entry/exit signals on one pair's candles.

    :param candles: ``date`` (open time, UTC), ``open``, ``high``, ``low``, ``close``; or a grid
        made by :func:`candle_grid`.
    :param entry: entry signal at each candle close (booleans).
    :param exit_: exit signal at each candle close (booleans).
    :param costs: fee and slippage per fill.
    :param stake: fraction of the equity committed per entry (0..1), per candle; None for 1.
    :param min_hold: minimum candles between the entry fill and a signal exit's fill.
    :param enter_at_start: also buy at the first candle's open (buy-and-hold).
    :raises DataError: on bad candles, signals or stakes.
    :raises ConfigError: on a bad minimum holding time.
    """
    grid = candles if isinstance(candles, CandleGrid) else candle_grid(candles)
    path = simulate_rules(grid, entry, exit_, costs, Holding(stake, min_hold, enter_at_start))
    return result_of(grid, path)


def _flags(values: npt.ArrayLike, name: str, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise DataError(f"rule backtest: the {name} signal has shape {arr.shape}, candles {n}")
    if arr.dtype == bool:
        return arr.copy()
    if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
        raise DataError(f"rule backtest: the {name} signal must be booleans (or 0/1 without NaN)")
    return arr.astype(bool)


def _stakes(stake: npt.ArrayLike | None, n: int) -> np.ndarray:
    if stake is None:
        return np.ones(n)
    arr = np.asarray(stake, dtype="float64")
    if arr.shape != (n,):
        raise DataError(f"rule backtest: the stake has shape {arr.shape}, candles {n}")
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"rule backtest: the stake must be a fraction in [0, 1], got {arr[row]!r} at row {row}"
        )
    return arr
