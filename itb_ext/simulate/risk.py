"""A one-pair trade simulation with the risk layer: the stake, ATR stop, volatility regime,
backtest slippage, fees and daily loss limit of ``itb.risk``, through the same functions the
strategy calls (:class:`itb_ext.risk.policy.RiskPolicy`).

Timing follows FreqTrade's backtest of a signal column: a signal on candle ``i`` fills at the
open of candle ``i+1``; the stop is checked on every candle of the trade, the entry candle
included, after it was raised with the candle's high and the last closed candle's ATR; an exit
signal wins over a stop on the same candle but waits ``min_hold_candles`` after the entry (as
``confirm_trade_exit`` makes it in FreqTrade); a position open at the end is closed at the last
close (``force_exit``). Long trades only. FreqTrade's protections (drawdown halt, stop-loss
guard, cooldown) are FreqTrade's own and are not simulated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.config.risk import RiskConfig
from itb_ext.errors import DataError
from itb_ext.evaluation.metrics import Trade, closed_trade_equity, max_drawdown
from itb_ext.pipeline.frames import require_columns
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.rules import EntryContext
from itb_ext.risk.slippage import slipped_price
from itb_ext.risk.stops import ratchet
from itb_ext.risk.turnover import EXIT_SIGNAL_REASON


@dataclass(frozen=True)
class RiskSimulation:
    """Outcome of :func:`simulate_with_risk`.

    :param trades: closed trades in time order (a position left open is force-exited).
    :param wallet: the starting wallet.
    """

    trades: tuple[Trade, ...]
    wallet: float

    @property
    def total_return(self) -> float:
        """Sum of the trades' profits over the starting wallet (fees and slippage included)."""
        return sum(t.profit_abs for t in self.trades) / self.wallet

    @property
    def max_drawdown(self) -> float:
        """Largest fall of closed-trade equity from its peak, as a fraction of the peak."""
        return max_drawdown(closed_trade_equity([t.profit_abs for t in self.trades], self.wallet))


def _flags(values: npt.ArrayLike, name: str, n: int) -> np.ndarray:
    arr = np.asarray(pd.array(np.asarray(values), dtype="boolean").fillna(False), dtype=bool)
    if arr.shape != (n,):
        raise DataError(f"simulate: {name} signal has {arr.size} rows, candles have {n}")
    return arr


def simulate_with_risk(  # one candle loop in FreqTrade's order: entry, exit, stop  # noqa: C901
    candles: pd.DataFrame,
    buy: npt.ArrayLike,
    sell: npt.ArrayLike,
    risk: RiskConfig,
    *,
    fee: float = 0.001,
    wallet: float = 10_000.0,
    tradable_ratio: float = 0.99,
    score_excess: Sequence[float] | None = None,
    pair: str = "",
) -> RiskSimulation:
    """Simulate long trades of ``buy``/``sell`` signals on ``candles`` with the risk layer.

    :param candles: ``date``, ``open``, ``high``, ``low``, ``close`` in time order.
    :param buy: entry signal per candle; :param sell: exit signal per candle.
    :param risk: the ``itb.risk`` section (``enabled: false`` stakes ``tradable_ratio`` of
        equity with no stop and no slippage).
    :param fee: fee per side, fraction of the traded value.
    :param wallet: starting equity; :param tradable_ratio: share of equity that may be traded
        (FreqTrade's ``tradable_balance_ratio``).
    :param score_excess: per candle, the score's distance beyond the buy threshold (for
        signal-strength sizing).
    :param pair: the pair the candles are of, named in the trades.
    """
    require_columns(candles, ("date", "open", "high", "low", "close"), "simulate")
    n = len(candles)
    buys, sells = _flags(buy, "buy", n), _flags(sell, "sell", n)
    policy = RiskPolicy(risk)
    on = risk.enabled
    risk_cols = policy.indicators(candles)
    rows = pd.concat([candles.reset_index(drop=True), risk_cols.reset_index(drop=True)], axis=1)
    records = rows.to_dict("records")
    opens = rows["open"].to_numpy(dtype="float64")
    highs = rows["high"].to_numpy(dtype="float64")
    lows = rows["low"].to_numpy(dtype="float64")
    closes = rows["close"].to_numpy(dtype="float64")
    dates = pd.DatetimeIndex(pd.to_datetime(rows["date"], utc=True))
    days = dates.floor("D")
    bps = risk.backtest_slippage_bps if on else 0.0

    trades: list[Trade] = []
    realised = 0.0
    position: dict[str, float] | None = None

    def close(i: int, price: float, reason: str) -> None:
        nonlocal position, realised
        assert position is not None
        amount, entry = position["amount"], position["price"]
        cost = amount * entry * (1 + fee)
        profit = amount * price * (1 - fee) - cost
        trades.append(
            Trade(
                pair=pair,
                open_date=dates[int(position["row"])],
                close_date=dates[i],
                amount=amount,
                open_rate=entry,
                profit_abs=profit,
                profit_ratio=profit / cost,
                entry_fee=amount * entry * fee,
                close_rate=price,
                exit_reason=reason,
            )
        )
        realised += profit
        position = None

    for i in range(1, n):
        prev = records[i - 1]
        if position is None and buys[i - 1]:
            equity = tradable_ratio * (wallet + realised)
            today = [t.profit_abs for t in trades if t.close_date.floor("D") == days[i]]
            context = EntryContext(
                time=pd.Timestamp(rows["date"].iloc[i]).to_pydatetime(),
                equity=equity,
                profits_today=tuple(today),
                candle=prev,
            )
            if policy.entry_refusal(context) is None:
                price = slipped_price(opens[i], "buy", bps, high=highs[i])
                if on:
                    excess = None if score_excess is None else float(score_excess[i - 1])
                    stake = policy.stake(
                        equity=equity,
                        price=price,
                        row=prev,
                        min_stake=None,
                        max_stake=equity,
                        recent_profits=[t.profit_ratio for t in trades],
                        score_excess=excess,
                    )
                else:
                    stake = equity
                if stake > 0 and math.isfinite(price) and price > 0:
                    position = {"row": i, "price": price, "stake": stake, "amount": stake / price}
                    if on and risk.stop is not None:
                        # FreqTrade's static stop first, then the ATR stop once the entry fills.
                        widest = price * (1 - risk.stop.max_distance)
                        d = policy.distance(prev, price) or risk.stop.max_distance
                        position["stop"] = max(widest, price * (1 - d))
                        position["moved"] = float(position["stop"] > widest)
                        position["pct"] = d
        if position is None:
            continue
        held = i - int(position["row"])
        if sells[i - 1] and held > 0 and policy.exit_allowed(held, EXIT_SIGNAL_REASON):
            close(i, slipped_price(opens[i], "sell", bps, low=lows[i]), EXIT_SIGNAL_REASON)
            continue
        if not (on and risk.stop is not None):
            continue
        if risk.stop.trailing:
            trail = policy.distance(prev, highs[i])
            if trail is not None and highs[i] * (1 - trail) > position["stop"]:
                position["stop"] = ratchet(position["stop"], highs[i] * (1 - trail))
                position["moved"], position["pct"] = 1.0, trail
        stop = position["stop"]
        if lows[i] <= stop:
            if stop > highs[i]:
                rate = opens[i]
            elif position["row"] == i and position["moved"]:
                # The stop armed within the entry candle: the price rose just enough, then fell.
                rate = max(lows[i], opens[i] * (1 - position["pct"]))
            else:
                rate = stop
            close(i, rate, "stop_loss")
    if position is not None:
        close(n - 1, closes[n - 1], "force_exit")
    return RiskSimulation(tuple(trades), wallet)


def add_risk_columns(
    table: pd.DataFrame,
    frame: pd.DataFrame,
    score_columns: Sequence[str],
    risk: RiskConfig,
    *,
    fee: float,
    time_column: str,
    wallet: float = 10_000.0,
) -> pd.DataFrame:
    """Each grid row's long trades re-simulated with the risk layer (money, fees, slippage).

    :param table: ranked grid rows with ``buy_signal_threshold``/``sell_signal_threshold``
        (and ``_2`` for ``threshold_rule2``).
    :param frame: the simulated rows: the score columns, ``open``/``high``/``low``/``close`` and
        the time column.
    :return: ``table`` with ``risk_trades``, ``risk_return_%`` and ``risk_max_drawdown_%``.
    """
    candles = frame.rename(columns={time_column: "date"}) if time_column != "date" else frame
    if "date" not in candles.columns and isinstance(frame.index, pd.DatetimeIndex):
        candles = candles.assign(date=frame.index)
    scores = [candles[c].to_numpy(dtype="float64") for c in score_columns]
    suffixes = ["", "_2"][: len(scores)]
    out: dict[str, list[float]] = {
        "risk_trades": [],
        "risk_return_%": [],
        "risk_max_drawdown_%": [],
    }
    with np.errstate(invalid="ignore"):
        for _, row in table.iterrows():
            buy = np.ones(len(candles), dtype=bool)
            sell = np.ones(len(candles), dtype=bool)
            for score, suffix in zip(scores, suffixes, strict=True):
                buy &= score >= float(row[f"buy_signal_threshold{suffix}"])
                sell &= score <= float(row[f"sell_signal_threshold{suffix}"])
            result = simulate_with_risk(
                candles.reset_index(drop=True), buy, sell, risk, fee=fee, wallet=wallet
            )
            out["risk_trades"].append(len(result.trades))
            out["risk_return_%"].append(100 * result.total_return)
            out["risk_max_drawdown_%"].append(100 * result.max_drawdown)
    return table.assign(**out)
