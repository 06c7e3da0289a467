"""Small pure statistics of the walk-forward report: model skill and trading performance.

Every function takes plain arrays and returns numbers; none reads files or knows about windows.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

ArrayLike = npt.ArrayLike


def _pair(y_true: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(p, dtype="float64")
    if y.shape != s.shape:
        raise ValueError(f"outcomes and scores differ in length ({len(y)} vs {len(s)})")
    return y, s


def roc_auc(y_true: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (ties count half). NaN when only one class is present."""
    y, s = _pair(y_true, score)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    ranks = pd.Series(s).rank(method="average").to_numpy()
    rank_sum = float(ranks[y].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


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


# --- trading ----------------------------------------------------------------------------------


def total_return(equity: ArrayLike) -> float:
    """Relative change of the equity from its first to its last value."""
    e = np.asarray(equity, dtype="float64")
    return float(e[-1] / e[0] - 1.0)


def drawdown(equity: ArrayLike) -> np.ndarray:
    """Fall of the equity below its running peak, as a positive fraction at each point."""
    e = np.asarray(equity, dtype="float64")
    peak = np.maximum.accumulate(e)
    return np.asarray(1.0 - e / peak)


def max_drawdown(equity: ArrayLike) -> float:
    """Largest fall of the equity below its running peak (0.25 = 25 %)."""
    return float(drawdown(equity).max())


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


def annual_growth(equity: ArrayLike, years: float) -> float:
    """Compound annual growth rate of the equity over ``years``."""
    e = np.asarray(equity, dtype="float64")
    return float((e[-1] / e[0]) ** (1.0 / years) - 1.0)


def calmar_ratio(equity: ArrayLike, years: float) -> float:
    """Compound annual growth divided by the maximum drawdown (NaN without a drawdown)."""
    worst = max_drawdown(equity)
    if worst == 0.0:
        return math.nan
    return annual_growth(equity, years) / worst


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


def equity_from_trades(
    dates: pd.DatetimeIndex, close_dates: ArrayLike, profits: ArrayLike, start: float
) -> pd.Series:
    """Account value on ``dates`` when each trade's profit is booked at its close.

    :param dates: the time grid (sorted).
    :param close_dates: when each trade closed.
    :param profits: each trade's absolute profit after fees.
    :param start: the starting balance.
    """
    booked = pd.Series(
        np.asarray(profits, dtype="float64"), index=pd.DatetimeIndex(close_dates)
    ).sort_index()
    cumulative = booked.cumsum()
    position = np.searchsorted(cumulative.index.to_numpy(), dates.to_numpy(), side="right")
    values = np.r_[0.0, cumulative.to_numpy()][position]
    return pd.Series(start + values, index=dates)


def buy_and_hold_equity(closes: pd.DataFrame, start: float, fee: float) -> pd.Series:
    """Value of ``start`` split equally over the pairs (columns of ``closes``), bought at the
    first close and sold at each later close, one fee paid on entry and one on exit.

    The first point is the cash before buying, every later one what a sale would return.
    """
    first = closes.ffill().bfill().iloc[0]
    relative = closes.ffill().bfill() / first
    values = start * (1.0 - fee) ** 2 * relative.mean(axis=1).to_numpy()
    values[0] = start
    return pd.Series(values, index=closes.index)


def trading_metrics(
    equity: pd.Series, trade_profit_ratios: ArrayLike, periods_per_year: float = 365.0
) -> dict[str, float]:
    """The report's trading figures for one equity curve (already after fees).

    Sharpe is computed on daily returns of the equity (365 trading days: crypto never closes).

    :param equity: account value on a time grid.
    :param trade_profit_ratios: each trade's profit ratio after fees (empty for buy-and-hold).
    """
    daily = equity.resample("1D").last().dropna()
    years = (equity.index[-1] - equity.index[0]) / pd.Timedelta(days=365)
    profits = np.asarray(trade_profit_ratios, dtype="float64")
    return {
        "return_%": 100.0 * total_return(equity.to_numpy()),
        "sharpe": sharpe_ratio(daily.pct_change().dropna().to_numpy(), periods_per_year),
        "calmar": calmar_ratio(equity.to_numpy(), years) if years > 0 else math.nan,
        "max_drawdown_%": 100.0 * max_drawdown(equity.to_numpy()),
        "trades": float(len(profits)),
        "win_rate_%": 100.0 * win_rate(profits),
        "profit_factor": profit_factor(profits),
        "average_trade_%": 100.0 * average_trade(profits),
    }
