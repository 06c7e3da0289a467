"""Trading metrics after fees from one definition for every strategy and for buy-and-hold.

The account is marked to market at the end of every day (00:00 UTC): cash plus the value of the
open positions at that day's last close. From that daily equity come the return, the Sharpe
ratio (mean / standard deviation of the daily returns, times sqrt(365)), the maximum drawdown
and the Calmar ratio (annualised return / maximum drawdown). Trade statistics (win rate, profit
factor, average trade) come from the closed trades, fees included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from itb_ext.errors import DataError


@dataclass(frozen=True)
class Trade:
    """A closed long trade.

    :param pair: the traded pair.
    :param open_date: entry time (UTC).
    :param close_date: exit time (UTC).
    :param amount: base currency bought.
    :param open_rate: entry price.
    :param profit_abs: profit in the stake currency after both fees.
    :param profit_ratio: profit relative to the stake, after fees.
    :param entry_fee: fee paid at entry, in the stake currency.
    """

    pair: str
    open_date: pd.Timestamp
    close_date: pd.Timestamp
    amount: float
    open_rate: float
    profit_abs: float
    profit_ratio: float
    entry_fee: float


def daily_closes(candles: pd.DataFrame, days: pd.DatetimeIndex) -> pd.Series:
    """The last price known at each of ``days``: a candle's close is known at its end, and the
    first candle's open at its start (so the first day of a period has a price)."""
    dates = pd.DatetimeIndex(pd.to_datetime(candles["date"], utc=True))
    step = dates.to_series().diff().median()
    known = pd.Series(candles["close"].to_numpy(dtype="float64"), index=dates + step)
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

    :param trades: the closed trades.
    :param closes: per pair, the close at each of ``days`` (see :func:`daily_closes`).
    :param days: the evaluation times, the first one before any trade.
    :param starting_balance: the account at the start.
    """
    equity = np.full(len(days), float(starting_balance))
    for trade in trades:
        if trade.pair not in closes:
            raise DataError(f"performance: no prices for {trade.pair}")
        price = closes[trade.pair].to_numpy(dtype="float64")
        holding = (days >= trade.open_date) & (days < trade.close_date)
        equity[holding] += trade.amount * (price[holding] - trade.open_rate) - trade.entry_fee
        equity[days >= trade.close_date] += trade.profit_abs
    return pd.Series(equity, index=days)


def metrics(equity: pd.Series, trade_returns: Sequence[float]) -> dict[str, float]:
    """Return, Sharpe, Calmar, max drawdown, win rate, profit factor, average trade, trades.

    :param equity: daily equity (first value = the starting balance).
    :param trade_returns: each closed trade's profit ratio after fees.
    :return: ``return_%``, ``sharpe``, ``calmar``, ``max_drawdown_%``, ``win_rate_%``,
        ``profit_factor``, ``avg_trade_%``, ``trades``.
    """
    values = equity.to_numpy(dtype="float64")
    total = values[-1] / values[0] - 1.0
    daily = np.diff(values) / values[:-1]
    spread = float(np.std(daily))
    sharpe = float(np.mean(daily)) / spread * np.sqrt(365.0) if spread > 0 else 0.0
    drawdown = float(np.max(1.0 - values / np.maximum.accumulate(values)))
    years = max(len(values) - 1, 1) / 365.0
    annual = (values[-1] / values[0]) ** (1.0 / years) - 1.0 if values[-1] > 0 else -1.0
    calmar = annual / drawdown if drawdown > 0 else np.nan
    r = np.asarray(trade_returns, dtype="float64")
    gains, losses = r[r > 0].sum(), -r[r < 0].sum()
    return {
        "return_%": 100.0 * total,
        "sharpe": sharpe,
        "calmar": float(calmar),
        "max_drawdown_%": 100.0 * drawdown,
        "win_rate_%": 100.0 * float((r > 0).mean()) if len(r) else np.nan,
        "profit_factor": float(gains / losses) if losses > 0 else np.nan,
        "avg_trade_%": 100.0 * float(r.mean()) if len(r) else np.nan,
        "trades": float(len(r)),
    }


def buy_and_hold_trades(
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    starting_balance: float,
    fee: float,
) -> list[Trade]:
    """Equal stakes in every pair, bought at the first open of ``period`` and sold at its last
    close, paying ``fee`` on each side.

    :param candles: per pair, candles with ``date``, ``open`` and ``close``.
    :param period: ``[start, stop)``.
    :param starting_balance: shared equally between the pairs.
    :param fee: fee rate per side (0.001 = 0.1 %).
    """
    stake = starting_balance / len(candles)
    trades = []
    for pair, frame in candles.items():
        dates = pd.to_datetime(frame["date"], utc=True)
        inside = frame[(dates >= period[0]) & (dates < period[1])]
        if inside.empty:
            raise DataError(f"{pair}: no candles between {period[0]} and {period[1]}")
        first = float(inside["open"].iloc[0])
        last = float(inside["close"].iloc[-1])
        entry_fee = stake * fee
        amount = (stake - entry_fee) / first
        proceeds = amount * last * (1.0 - fee)
        trades.append(
            Trade(
                pair=pair,
                open_date=period[0],
                close_date=period[1],
                amount=amount,
                open_rate=first,
                profit_abs=proceeds - stake,
                profit_ratio=proceeds / stake - 1.0,
                entry_fee=entry_fee,
            )
        )
    return trades


def period_days(period: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DatetimeIndex:
    """Midnights from the start of ``period`` to its end, both included."""
    return pd.date_range(period[0].normalize(), period[1].ceil("D"), freq="D")
