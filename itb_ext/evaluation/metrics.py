"""The one set of metric definitions: model skill, trading performance and buy-and-hold.

Every strategy, buy-and-hold and every report, demo and comparison table go through these
functions; ``docs/metrics.md`` explains them for readers of the tables.

Model skill (``y`` the outcomes, ``s`` the scores):

* ROC AUC = ``(R+ - P(P+1)/2) / (P N)``: ``R+`` the sum of the positives' ranks among all
  scores (tied scores share their average rank, so a tie counts half), ``P`` positives, ``N``
  negatives; NaN without both classes;
* average precision = ``sum_k (R_k - R_{k-1}) P_k`` over the distinct scores in descending order
  (``P_k``, ``R_k`` precision and recall of the scores at or above the k-th), NaN without
  positives;
* Brier score = ``mean((p - y)^2)``;
* reliability curve: per equal-width probability bin, the mean predicted probability and the
  observed frequency;
* directional AUC: the ROC AUC of a signed score against ``close[t+H] > close[t]``, candles
  whose close did not move left out.

Trading (``e_0 .. e_n`` the equity, marked to market once a day):

* the account is marked at 00:00 UTC: cash plus every open position at the last close known
  then (a candle's close is known at its end; the period's first open at its start). The first
  mark is the starting balance, before any fill; each later mark sees every fill up to it;
* daily returns ``r_i = e_i / e_{i-1} - 1``;
* total return = ``e_n / e_0 - 1``; annual growth = ``(e_n / e_0)^(1/years) - 1`` (-1 once the
  account is gone), ``years`` = days / 365;
* Sharpe = ``mean(r) / std(r, ddof=1) * sqrt(365)``, risk-free rate 0 (crypto trades every day);
  NaN with fewer than 2 returns or no variation (shown as "n/a");
* Sortino = ``mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(365)``, NaN with fewer than 2 returns
  or no losing day;
* drawdown = ``1 - e_i / max_{j<=i} e_j`` (a positive fraction of the running peak); maximum
  drawdown is its largest value; Calmar = annual growth / maximum drawdown (NaN without one).

Trades (``p`` each closed trade's profit, after fees):

* win rate = share of trades with ``p > 0``; average trade = ``mean(p)``; profit factor =
  ``sum(p > 0) / -sum(p < 0)``, inf with wins and no losses; all three NaN without trades.

Buy-and-hold: the starting balance split equally over the pairs, each bought at the open of the
period's first candle (where FreqTrade fills the first signal) and sold at its last close, with
``fee`` paid on both sides and ``slippage`` against the trader on both prices:
``return = (1 - fee) / (1 + fee) * close * (1 - slippage) / (open * (1 + slippage)) - 1``, the
accounting FreqTrade applies to its own trades. Its equity is marked like a strategy's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata

from itb_ext.errors import DataError

ArrayLike = npt.ArrayLike
#: days of a year: crypto markets never close
DAYS_PER_YEAR = 365.0


# --- model skill ------------------------------------------------------------------------------


def _pair(y_true: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(p, dtype="float64")
    if y.shape != s.shape:
        raise ValueError(f"outcomes and scores differ in length ({len(y)} vs {len(s)})")
    return y, s


def auc_from_ranks(ranks: np.ndarray, positive: np.ndarray, count: ArrayLike) -> np.ndarray:
    """ROC AUC from the scores' ranks, along the last axis (one AUC per row of a 2-D input).

    Rows not counted (``count`` fewer than the row's length) must rank above the counted ones
    and not be marked positive, so that the counted rows keep the ranks ``1..count``.

    :param ranks: average ranks of the scores (ties share their mean rank).
    :param positive: True where the outcome is positive.
    :param count: how many rows of each line are counted.
    :return: the AUC per line, NaN where one class is missing.
    """
    positives = positive.sum(axis=-1).astype("float64")
    negatives = np.asarray(count, dtype="float64") - positives
    rank_sum = np.where(positive, ranks, 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    return np.where((positives == 0) | (negatives == 0), np.nan, auc)


def roc_auc(y_true: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half). NaN when only one class is present."""
    y, s = _pair(y_true, score)
    if len(y) == 0:
        return math.nan
    return float(auc_from_ranks(rankdata(s, method="average"), y, len(y)))


def average_precision(y_true: ArrayLike, score: ArrayLike) -> float:
    """Average precision: precision at each positive, taken in descending score order, averaged
    (tied scores form one threshold). NaN without positives."""
    y, s = _pair(y_true, score)
    positives = int(y.sum())
    if positives == 0:
        return math.nan
    order = np.argsort(-s, kind="mergesort")
    y_sorted, s_sorted = y[order], s[order]
    # one threshold per distinct score: the last row of each tie group
    last_of_group = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    true_pos = np.cumsum(y_sorted)[last_of_group]
    taken = (np.arange(len(y_sorted)) + 1)[last_of_group]
    precision = true_pos / taken
    recall_step = np.diff(np.r_[0, true_pos]) / positives
    return float((precision * recall_step).sum())


def brier_score(y_true: ArrayLike, probability: ArrayLike) -> float:
    """Mean squared distance between the probability and the outcome (0 is perfect)."""
    y, p = _pair(y_true, probability)
    if len(y) == 0:
        return math.nan
    return float(np.mean((p - y.astype("float64")) ** 2))


def reliability_curve(y_true: ArrayLike, probability: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Calibration: per equal-width probability bin, the mean predicted probability and the
    observed frequency of the outcome. Empty bins are left out.

    :return: columns ``bin_low``, ``bin_high``, ``mean_predicted``, ``observed``, ``count``.
    """
    y, p = _pair(y_true, probability)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        if count == 0:
            continue
        rows.append(
            {
                "bin_low": float(edges[b]),
                "bin_high": float(edges[b + 1]),
                "mean_predicted": float(p[inside].mean()),
                "observed": float(y[inside].mean()),
                "count": count,
            }
        )
    columns = ["bin_low", "bin_high", "mean_predicted", "observed", "count"]
    return pd.DataFrame(rows, columns=columns)


def forward_return_up(close: ArrayLike, horizon: int) -> pd.Series:
    """Whether the close ``horizon`` candles later is above this candle's close.

    Reads the future by design: it grades a score after the fact, it is never a model input.
    Missing (NA) where the later close is not in the data or the price did not move.
    """
    prices = pd.Series(np.asarray(close, dtype="float64"))
    later = prices.shift(-horizon)
    up = pd.Series(pd.NA, index=prices.index, dtype="boolean")
    moved = later.notna() & (later != prices)
    up[moved] = (later > prices)[moved]
    return up


def directional_auc(score: ArrayLike, close: ArrayLike, horizon: int) -> float:
    """AUC of a signed score against the sign of the next-``horizon``-candle return."""
    s = np.asarray(score, dtype="float64")
    up = forward_return_up(close, horizon)
    ok = up.notna().to_numpy() & np.isfinite(s)
    return roc_auc(up[ok].to_numpy(dtype=bool), s[ok])


# --- equity -----------------------------------------------------------------------------------


def total_return(equity: ArrayLike) -> float:
    """Relative change of the equity from its first to its last value."""
    e = np.asarray(equity, dtype="float64")
    return float(e[-1] / e[0] - 1.0)


def annual_growth(equity: ArrayLike, years: float) -> float:
    """Compound annual growth rate of the equity over ``years`` (-1 once the account is gone)."""
    e = np.asarray(equity, dtype="float64")
    if e[-1] <= 0:
        return -1.0
    return float((e[-1] / e[0]) ** (1.0 / years) - 1.0)


def drawdown(equity: ArrayLike) -> np.ndarray:
    """Fall of the equity below its running peak, as a positive fraction at each point."""
    e = np.asarray(equity, dtype="float64")
    peak = np.maximum.accumulate(e)
    return np.asarray(1.0 - e / peak)


def max_drawdown(equity: ArrayLike) -> float:
    """Largest fall of the equity below its running peak (0.25 = 25 %)."""
    return float(drawdown(equity).max())


def calmar_ratio(equity: ArrayLike, years: float) -> float:
    """Compound annual growth divided by the maximum drawdown (NaN without a drawdown)."""
    worst = max_drawdown(equity)
    if worst == 0.0 or years <= 0:
        return math.nan
    return annual_growth(equity, years) / worst


def sharpe_ratio(period_returns: ArrayLike, periods_per_year: float) -> float:
    """Annualised Sharpe ratio of per-period returns (risk-free rate 0, sample deviation).

    NaN with fewer than two periods or no variation.
    """
    r = np.asarray(period_returns, dtype="float64")
    if len(r) < 2:
        return math.nan
    spread = float(r.std(ddof=1))
    if spread == 0.0:
        return math.nan
    return float(r.mean() / spread * math.sqrt(periods_per_year))


def sortino_ratio(period_returns: ArrayLike, periods_per_year: float) -> float:
    """Annualised Sortino ratio: the mean return over the downside deviation
    ``sqrt(mean(min(r, 0)^2))`` (target 0). NaN with fewer than two periods or no loss."""
    r = np.asarray(period_returns, dtype="float64")
    if len(r) < 2:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside == 0.0:
        return math.nan
    return float(r.mean() / downside * math.sqrt(periods_per_year))


def closed_trade_equity(profits: ArrayLike, start: float) -> np.ndarray:
    """The account after each closed trade: ``start``, then ``start`` plus the running sum of
    the trades' absolute profits (in closing order)."""
    p = np.asarray(profits, dtype="float64")
    return np.concatenate([[float(start)], float(start) + np.cumsum(p)])


# --- trades -----------------------------------------------------------------------------------


def win_rate(trade_profits: ArrayLike) -> float:
    """Share of trades with a profit above zero (NaN without trades)."""
    p = np.asarray(trade_profits, dtype="float64")
    return float((p > 0).mean()) if len(p) else math.nan


def profit_factor(trade_profits: ArrayLike) -> float:
    """Gross profit over gross loss (inf without a losing trade, NaN without trades)."""
    p = np.asarray(trade_profits, dtype="float64")
    if len(p) == 0:
        return math.nan
    loss = -float(p[p < 0].sum())
    gain = float(p[p > 0].sum())
    return gain / loss if loss > 0 else math.inf


def average_trade(trade_profits: ArrayLike) -> float:
    """Mean profit per trade (NaN without trades)."""
    p = np.asarray(trade_profits, dtype="float64")
    return float(p.mean()) if len(p) else math.nan


@dataclass(frozen=True)
class Trade:
    """A closed trade, in FreqTrade's terms.

    :param pair: the traded pair.
    :param open_date: entry time (UTC).
    :param close_date: exit time (UTC).
    :param amount: base currency bought (negative for a short).
    :param open_rate: entry price.
    :param profit_abs: profit in the stake currency after both fees.
    :param profit_ratio: profit relative to the stake, after fees.
    :param entry_fee: fee paid at entry, in the stake currency.
    :param close_rate: exit price.
    :param exit_reason: why the trade closed (``exit_signal``, ``stop_loss``, ...).
    """

    pair: str
    open_date: pd.Timestamp
    close_date: pd.Timestamp
    amount: float
    open_rate: float
    profit_abs: float
    profit_ratio: float
    entry_fee: float
    close_rate: float = math.nan
    exit_reason: str = ""

    @property
    def stake_amount(self) -> float:
        """The stake of the entry before its fee: ``|amount| * open_rate``."""
        return abs(self.amount) * self.open_rate


# --- daily marking ----------------------------------------------------------------------------


def period_days(period: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DatetimeIndex:
    """Midnights from the start of ``period`` to its end, both included."""
    return pd.date_range(period[0].normalize(), period[1].ceil("D"), freq="D")


def _candle_step(dates: pd.DatetimeIndex) -> pd.Timedelta:
    if len(dates) < 2:
        raise DataError("metrics: at least two candles are needed to know their length")
    return pd.Timedelta(dates.to_series().diff().median())


def daily_closes(candles: pd.DataFrame, days: pd.DatetimeIndex) -> pd.Series:
    """The last price known at each of ``days``: a candle's close is known at its end, and the
    first candle's open at its start (so the first day of a period has a price)."""
    dates = pd.DatetimeIndex(pd.to_datetime(candles["date"], utc=True))
    known = pd.Series(candles["close"].to_numpy(dtype="float64"), index=dates + _candle_step(dates))
    if "open" in candles.columns:
        first = pd.Series([float(candles["open"].iloc[0])], index=dates[:1])
        known = pd.concat([first, known])
    return known.reindex(known.index.union(days)).ffill().reindex(days)


def equity_curve(
    trades: Sequence[Trade],
    closes: Mapping[str, pd.Series],
    days: pd.DatetimeIndex,
    starting_balance: float,
) -> pd.Series:
    """Daily marked-to-market equity of an account that made ``trades``.

    The first point is the starting balance, before any fill; every later point counts the
    fills up to and including its time, open positions at that day's price.

    :param trades: the closed trades.
    :param closes: per pair, the price at each of ``days`` (see :func:`daily_closes`).
    :param days: the evaluation times.
    :param starting_balance: the account at the start.
    """
    equity = np.full(len(days), float(starting_balance))
    for trade in trades:
        if trade.pair not in closes:
            raise DataError(f"metrics: no prices for {trade.pair}")
        price = closes[trade.pair].to_numpy(dtype="float64")
        holding = (days >= trade.open_date) & (days < trade.close_date)
        equity[holding] += trade.amount * (price[holding] - trade.open_rate) - trade.entry_fee
        equity[days >= trade.close_date] += trade.profit_abs
    equity[0] = float(starting_balance)
    return pd.Series(equity, index=days)


def _inside(
    pair: str, candles: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp]
) -> pd.DataFrame:
    dates = pd.to_datetime(candles["date"], utc=True)
    inside = candles[(dates >= period[0]) & (dates < period[1])].reset_index(drop=True)
    if inside.empty:
        raise DataError(f"{pair}: no candles between {period[0]} and {period[1]}")
    return inside


def marked_equity(
    trades: Iterable[Trade],
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    starting_balance: float,
) -> pd.Series:
    """:func:`equity_curve` of ``trades`` on the midnights of ``period``, priced from the
    candles inside it.

    :param candles: per pair, candles with ``date``, ``open`` and ``close``.
    :param period: ``[start, stop)``.
    """
    days = period_days(period)
    closes = {}
    for pair, frame in candles.items():
        closes[pair] = daily_closes(_inside(pair, frame, period), days)
    return equity_curve(list(trades), closes, days, starting_balance)


# --- performance ------------------------------------------------------------------------------


def trading_metrics(
    equity: pd.Series, trade_profit_ratios: ArrayLike, periods_per_year: float = DAYS_PER_YEAR
) -> dict[str, float]:
    """Every trading figure of one account, from its daily equity and its closed trades.

    :param equity: equity marked once a day (see :func:`equity_curve`).
    :param trade_profit_ratios: each closed trade's profit ratio after fees.
    :return: ``return_%``, ``sharpe``, ``sortino``, ``calmar``, ``max_drawdown_%``, ``trades``,
        ``win_rate_%``, ``profit_factor``, ``average_trade_%``.
    :raises DataError: when the equity is not marked once a day.
    """
    if isinstance(equity.index, pd.DatetimeIndex) and len(equity) > 1:
        steps = np.diff(equity.index.to_numpy())
        if not (steps == np.timedelta64(1, "D")).all():
            raise DataError("metrics: the equity must be marked once a day")
    values = equity.to_numpy(dtype="float64")
    returns = values[1:] / values[:-1] - 1.0
    years = (len(values) - 1) / DAYS_PER_YEAR
    profits = np.asarray(trade_profit_ratios, dtype="float64")
    return {
        "return_%": 100.0 * total_return(values),
        "sharpe": sharpe_ratio(returns, periods_per_year),
        "sortino": sortino_ratio(returns, periods_per_year),
        "calmar": calmar_ratio(values, years),
        "max_drawdown_%": 100.0 * max_drawdown(values),
        "trades": float(len(profits)),
        "win_rate_%": 100.0 * win_rate(profits),
        "profit_factor": profit_factor(profits),
        "average_trade_%": 100.0 * average_trade(profits),
    }


@dataclass(frozen=True)
class Account:
    """An account over a period: its daily marked equity and its closed trades."""

    equity: pd.Series
    trades: tuple[Trade, ...]

    def metrics(self) -> dict[str, float]:
        """:func:`trading_metrics` of the account."""
        return trading_metrics(self.equity, [t.profit_ratio for t in self.trades])


def account(
    trades: Iterable[Trade],
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    starting_balance: float,
) -> Account:
    """The account that made ``trades`` over ``period`` (see :func:`marked_equity`)."""
    made = tuple(trades)
    return Account(marked_equity(made, candles, period, starting_balance), made)


def _held(
    pair: str,
    candles: pd.DataFrame,
    period: tuple[pd.Timestamp, pd.Timestamp],
    stake: float,
    fee: float,
    slippage: float,
) -> Trade:
    inside = _inside(pair, candles, period)
    dates = pd.DatetimeIndex(pd.to_datetime(inside["date"], utc=True))
    entry = float(inside["open"].iloc[0]) * (1.0 + slippage)
    exit_ = float(inside["close"].iloc[-1]) * (1.0 - slippage)
    # the whole stake pays for the coins and the entry fee, as FreqTrade's accounting has it
    amount = stake / (entry * (1.0 + fee))
    proceeds = amount * exit_ * (1.0 - fee)
    return Trade(
        pair=pair,
        open_date=dates[0],
        close_date=dates[-1] + _candle_step(dates),
        amount=amount,
        open_rate=entry,
        profit_abs=proceeds - stake,
        profit_ratio=proceeds / stake - 1.0,
        entry_fee=amount * entry * fee,
        close_rate=exit_,
        exit_reason="end_of_period",
    )


def buy_and_hold(
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    starting_balance: float,
    fee: float,
    slippage: float = 0.0,
) -> Account:
    """Buy-and-hold of the pairs over ``period``, after fees, marked daily: equal stakes, each
    bought at the open of the period's first candle and sold at its last close, paying ``fee``
    on each side (formula in the module docstring). One trade per pair.

    :param candles: per pair, candles with ``date``, ``open`` and ``close``.
    :param period: ``[start, stop)``.
    :param starting_balance: shared equally between the pairs.
    :param fee: fee rate per side (0.001 = 0.1 %).
    :param slippage: price moved against the trader on each side, as a fraction (0.0005 = 5 bps).
    :raises DataError: without pairs, or for a pair without candles in the period.
    """
    if not candles:
        raise DataError("buy and hold: no pairs")
    stake = starting_balance / len(candles)
    trades = [_held(pair, frame, period, stake, fee, slippage) for pair, frame in candles.items()]
    return account(trades, candles, period, starting_balance)
