"""One entry point per FreqTrade callback: the strategy passes what FreqTrade gives it and the
newest closed candle's risk columns, and gets back FreqTrade's answer.

Nothing here imports FreqTrade; trades arrive as plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from itb_ext.config.risk import RiskConfig
from itb_ext.risk.indicators import (
    ANNUALISED_VOL_COLUMN,
    ATR_COLUMN,
    HIGH_VOL_COLUMN,
    annualised_volatility,
    risk_indicators,
)
from itb_ext.risk.limits import protection_list
from itb_ext.risk.rules import EntryContext, entry_refusal
from itb_ext.risk.sizing import stake_amount, stake_fraction
from itb_ext.risk.slippage import Side, slipped_price
from itb_ext.risk.stops import regime_factors, stop_distance, stop_price
from itb_ext.risk.timeframes import candle_length, candles_per_year, typical_candle_length
from itb_ext.risk.turnover import exit_allowed


def _number(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


@dataclass(frozen=True)
class RiskPolicy:
    """The risk rules of one ``itb.risk`` section.

    :param cfg: the validated section.
    :param timeframe: the candles' timeframe (``1h``), which annualises the volatility of
        ``volatility_target`` sizing; None takes the median step of the candles' ``date``.
    """

    cfg: RiskConfig
    timeframe: str | None = None

    def __post_init__(self) -> None:
        if self.timeframe is not None:
            candle_length(self.timeframe)  # a bad timeframe fails here, once, with its name

    @property
    def atr_window(self) -> int:
        return self.cfg.stop.atr_window if self.cfg.stop is not None else 14

    def lookback(self) -> int:
        """Candles of history the risk columns need before their first full value (0 when off).

        The strategy's ``startup_candle_count`` covers it, so a row's ATR and volatility rank do
        not depend on how much history happened to be loaded.
        """
        if not self.cfg.enabled:
            return 0
        need = self.atr_window + 1  # the true range reads the previous close
        if self.cfg.regime is not None:
            need = max(need, self.cfg.regime.vol_window + self.cfg.regime.history)
        if self.cfg.sizing.mode == "volatility_target":
            need = max(need, self.cfg.sizing.volatility_window + 1)  # returns need a prior close
        return need

    def candles_per_year(self, candles: pd.DataFrame) -> float:
        """Candles of the timeframe in a 365-day year; NaN when neither the timeframe nor the
        candles' dates tell the candle length."""
        if self.timeframe is not None:
            return candles_per_year(candle_length(self.timeframe))
        if "date" not in candles.columns:
            return math.nan
        step = typical_candle_length(candles["date"])
        return math.nan if step is None else candles_per_year(step)

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """The risk columns (ATR, volatility regime, the sizing mode's volatility) of
        ``candles``; empty when switched off."""
        if not self.cfg.enabled:
            return pd.DataFrame(index=candles.index)
        out = risk_indicators(candles, self.atr_window, self.cfg.regime)
        sizing = self.cfg.sizing
        if sizing.mode == "volatility_target":
            out[ANNUALISED_VOL_COLUMN] = annualised_volatility(
                candles["close"], sizing.volatility_window, self.candles_per_year(candles)
            )
        return out

    #: The candle columns :meth:`stoploss` and :meth:`distance` read.
    stop_columns: tuple[str, ...] = (ATR_COLUMN, HIGH_VOL_COLUMN)

    def _factors(self, row: Mapping[str, Any]) -> tuple[float, float]:
        return regime_factors(bool(row.get(HIGH_VOL_COLUMN, False)), self.cfg.regime)

    def distance(self, row: Mapping[str, Any], price: float) -> float | None:
        """The ATR stop distance for a position at ``price`` (None without an ATR stop)."""
        if self.cfg.stop is None:
            return None
        _, stop_factor = self._factors(row)
        return stop_distance(_number(row, ATR_COLUMN), price, self.cfg.stop, stop_factor)

    def stake(
        self,
        *,
        equity: float,
        price: float,
        row: Mapping[str, Any],
        min_stake: float | None,
        max_stake: float,
        recent_profits: Sequence[float] = (),
        score_excess: float | None = None,
    ) -> float:
        """The stake of a new trade (``custom_stake_amount``); 0 means no trade.

        :param equity: the wallet's total value; :param price: the entry price.
        :param row: the newest closed candle with the risk columns.
        """
        size_factor, _ = self._factors(row)
        fraction = stake_fraction(
            self.cfg.sizing,
            stop_distance=self.distance(row, price),
            recent_profits=recent_profits,
            score_excess=None if score_excess is None or math.isnan(score_excess) else score_excess,
            regime_factor=size_factor,
            volatility=_number(row, ANNUALISED_VOL_COLUMN),
        )
        return stake_amount(equity, fraction, min_stake, max_stake)

    def stoploss(
        self,
        *,
        row: Mapping[str, Any],
        current_rate: float,
        open_rate: float,
        entry_row: Mapping[str, Any] | None,
        is_short: bool,
    ) -> float | None:
        """``custom_stoploss``'s answer: the stop as a distance from ``current_rate`` (negative),
        or None to keep the current stop.

        Trailing: ``atr_multiple`` ATRs from the newest price (FreqTrade keeps the tightest stop,
        so it follows the best price). Not trailing: fixed from the entry with the ATR of the
        entry's signal candle (``entry_row``).
        """
        if self.cfg.stop is None or current_rate <= 0:
            return None
        if self.cfg.stop.trailing:
            d = self.distance(row, current_rate)
            return None if d is None else -d
        if entry_row is None:
            return None
        d = self.distance(entry_row, open_rate)
        if d is None:
            return None
        level = stop_price(open_rate, d, is_short)
        # FreqTrade expresses a stop relative to the current rate.
        ratio = level / current_rate - 1 if is_short else 1 - level / current_rate
        return -max(ratio, 0.0)

    def entry_refusal(self, context: EntryContext) -> str | None:
        """Why a new entry is refused by the registered entry rules, or None (allowed)."""
        if not self.cfg.enabled:
            return None
        return entry_refusal(self.cfg, context)

    def exit_allowed(
        self, open_candles: int, reason: str, signal_tags: Collection[str] = ()
    ) -> bool:
        """``confirm_trade_exit``'s answer: False for an exit signal within ``min_hold_candles``
        of the entry (see :func:`itb_ext.risk.turnover.exit_allowed`)."""
        return exit_allowed(open_candles, reason, self.cfg, signal_tags)

    def protections(self) -> list[dict[str, Any]]:
        """FreqTrade protection entries for the strategy's ``protections`` property."""
        return protection_list(self.cfg.protections) if self.cfg.enabled else []

    def fill_price(self, price: float, side: Side) -> float:
        """A backtested fill moved against the trade by the configured slippage."""
        return slipped_price(price, side, self.cfg.backtest_slippage_bps)
