"""The ``itb.risk`` section: position sizing, stops, volatility regime, protections, slippage.

Every default is deliberately conservative and independent of any particular market: a tenth of
equity per trade, never more than a quarter, a stop three ATRs away, entries halted after a
15 % drawdown or a 3 % losing day. Each part can be switched off (see the README's "Risk").
Settings that are legal but dangerous (a stake cap above half of equity, a loss limit that can
never trigger, a stop too far away to act) are refused when the strategy starts unless
``i_accept`` names the risk (see :mod:`itb_ext.risk.guards`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from itb_ext.config.base import FrozenModel
from itb_ext.config.risk_controls import (
    KillSwitchConfig,
    ModelHealthConfig,
    ReconcileConfig,
    TwapConfig,
)

SizingMode = Literal["fixed", "volatility", "kelly", "volatility_target"]
SIZING_MODES: tuple[SizingMode, ...] = ("fixed", "volatility", "kelly", "volatility_target")

AcceptedRisk = Literal[
    "large_stakes", "whole_balance", "no_daily_loss_limit", "no_drawdown_limit", "wide_stop"
]
"""The dangerous settings ``itb.risk.i_accept`` can acknowledge (see :mod:`itb_ext.risk.guards`)."""


class SignalStrengthConfig(FrozenModel):
    """Scale the stake by how far ``trade_score`` is beyond its entry threshold.

    :param full_at: distance beyond the threshold at which the full stake is used.
    :param floor: smallest multiplier, used for a score just at the threshold.
    """

    full_at: float = Field(default=0.2, gt=0)
    floor: float = Field(default=0.25, ge=0, le=1)


class SizingConfig(FrozenModel):
    """How much of equity one trade stakes.

    :param mode: ``fixed`` (``fraction`` of equity), ``volatility`` (lose ``risk_per_trade`` of
        equity if the ATR stop is hit), ``kelly`` (fractional Kelly from recent closed trades),
        ``volatility_target`` (``target_volatility`` over the pair's realised annualised
        volatility, so a calm market gets a larger stake and a wild one a smaller).
    :param fraction: stake of ``fixed`` as a fraction of equity.
    :param risk_per_trade: equity lost at the stop, ``volatility`` mode.
    :param kelly_fraction: share of the full Kelly stake, ``kelly`` mode (1 = full Kelly).
    :param kelly_trades: closed trades the Kelly estimate uses; fewer give ``min_fraction``.
    :param target_volatility: annualised volatility one position aims at, ``volatility_target``
        mode (0.15 = 15 % a year). It is per position: N positions that move together add up to
        about N times it, so for a portfolio target T with N correlated positions use about T/N.
    :param volatility_window: candles of 1-candle log returns whose standard deviation is the
        realised volatility, ``volatility_target`` mode. It is annualised with the square root of
        the candles in a 365-day year of the timeframe. The default 720 is 30 days at 1h (5 days
        at 10m, 120 days at 4h); fewer candles give ``min_fraction``.
    :param min_fraction: stake when there is no estimate yet (no Kelly trades, no ATR stop, no
        volatility), and the smallest Kelly stake.
    :param max_fraction: no single stake ever exceeds this fraction of equity, in any mode; above
        0.5 it needs ``large_stakes`` in ``itb.risk.i_accept``, at 1 ``whole_balance``.
    :param signal_strength: optional scaling by the score's distance beyond its threshold.
    """

    mode: SizingMode = "fixed"
    fraction: float = Field(default=0.10, gt=0, le=1)
    risk_per_trade: float = Field(default=0.01, gt=0, le=1)
    kelly_fraction: float = Field(default=0.5, gt=0, le=1)
    kelly_trades: int = Field(default=30, ge=2)
    target_volatility: float = Field(default=0.15, gt=0, le=5)
    volatility_window: int = Field(default=720, ge=2)
    min_fraction: float = Field(default=0.02, gt=0, le=1)
    max_fraction: float = Field(default=0.25, gt=0, le=1)
    signal_strength: SignalStrengthConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "accept_large_stakes" in data:
            raise ValueError(
                'accept_large_stakes is gone: list "large_stakes" (or "whole_balance") in '
                "itb.risk.i_accept instead"
            )
        return data

    @model_validator(mode="after")
    def _bounds(self) -> SizingConfig:
        if self.min_fraction > self.max_fraction:
            raise ValueError("min_fraction must not exceed max_fraction")
        if self.fraction > self.max_fraction:
            raise ValueError("fraction must not exceed max_fraction")
        return self


class StopConfig(FrozenModel):
    """ATR-based initial and trailing stop.

    :param atr_window: candles of the average true range.
    :param atr_multiple: stop distance in ATRs (from the entry, then from the best price).
    :param trailing: follow the best price since entry; off keeps the initial stop.
    :param max_distance: the stop is never further than this fraction of the price.
    """

    atr_window: int = Field(default=14, ge=1)
    atr_multiple: float = Field(default=3.0, gt=0)
    trailing: bool = True
    max_distance: float = Field(default=0.20, gt=0, lt=1)


class RegimeConfig(FrozenModel):
    """High-volatility regime: smaller stakes and wider stops while realised volatility is high.

    :param vol_window: candles of the realised volatility (std of log returns).
    :param history: candles of volatility history the percentile is taken in.
    :param high_percentile: the regime is high when volatility's percentile rank is at or above it.
    :param size_factor: stake multiplier in the high regime.
    :param stop_factor: stop distance multiplier in the high regime.
    """

    vol_window: int = Field(default=24, ge=2)
    history: int = Field(default=720, ge=10)
    high_percentile: float = Field(default=0.8, gt=0, lt=1)
    size_factor: float = Field(default=0.5, gt=0, le=1)
    stop_factor: float = Field(default=1.5, ge=1)


class MaxDrawdownConfig(FrozenModel):
    """FreqTrade's MaxDrawdown protection: no entries after a drawdown of closed trades.

    :param limit: drawdown (fraction) that halts entries.
    :param lookback_candles: candles of closed trades considered.
    :param stop_candles: how long entries stay halted.
    :param trade_limit: closed trades needed before the protection judges.
    """

    limit: float = Field(default=0.15, gt=0, lt=1)
    lookback_candles: int = Field(default=720, ge=1)
    stop_candles: int = Field(default=72, ge=1)
    trade_limit: int = Field(default=3, ge=1)


class StoplossGuardConfig(FrozenModel):
    """FreqTrade's StoplossGuard: pause entries after several stop-outs in a short time.

    :param trade_limit: stop-outs that trigger the pause.
    :param lookback_candles: the window they are counted in.
    :param stop_candles: how long entries pause.
    """

    trade_limit: int = Field(default=3, ge=1)
    lookback_candles: int = Field(default=48, ge=1)
    stop_candles: int = Field(default=24, ge=1)


class ProtectionsConfig(FrozenModel):
    """Entry halts; ``null`` or 0 switches one off.

    :param max_drawdown: drawdown halt, or None.
    :param stoploss_guard: stop-out guard, or None.
    :param cooldown_candles: candles without a new entry on a pair after an exit (0 = off).
    :param daily_loss_limit: closed-trade loss of the UTC day, as a fraction of equity, that
        stops entries until the next UTC day (None = off).
    """

    max_drawdown: MaxDrawdownConfig | None = Field(default_factory=MaxDrawdownConfig)
    stoploss_guard: StoplossGuardConfig | None = Field(default_factory=StoplossGuardConfig)
    cooldown_candles: int = Field(default=2, ge=0)
    daily_loss_limit: float | None = Field(default=0.03, gt=0, lt=1)


class RiskConfig(FrozenModel):
    """The ``itb.risk`` section.

    :param enabled: off leaves sizing, stops, protections and slippage to FreqTrade's config.
    :param sizing: position sizing.
    :param stop: ATR stop, or None for the strategy's fixed safety stop only.
    :param regime: volatility regime scaling, or None.
    :param protections: entry halts.
    :param backtest_slippage_bps: price moved against every backtested fill, in basis points
        (live fills have their own slippage, so it applies to backtests and hyperopt only).
    :param kill_switch: automatic halt beyond hard loss limits (dry-run and live).
    :param twap: sliced entries of large stakes.
    :param model_health: rolling out-of-sample model quality and the entry pause.
    :param reconcile: the live checks of the exchange's holdings and stops against the trades.
    :param min_hold_candles: an exit signal is not followed before the trade has been open this
        many candles (0 = off), so a score hovering at the sell level does not churn fees; stops,
        the kill switch, ROI and forced exits are always followed.
    :param i_accept: the dangerous settings this config means (``large_stakes``,
        ``whole_balance``, ``no_daily_loss_limit``, ``no_drawdown_limit``, ``wide_stop``); any
        other such setting stops the strategy at start-up (see :mod:`itb_ext.risk.guards`).
    """

    enabled: bool = True
    sizing: SizingConfig = Field(default_factory=SizingConfig)
    stop: StopConfig | None = Field(default_factory=StopConfig)
    regime: RegimeConfig | None = Field(default_factory=RegimeConfig)
    protections: ProtectionsConfig = Field(default_factory=ProtectionsConfig)
    backtest_slippage_bps: float = Field(default=5.0, ge=0, le=1000)
    kill_switch: KillSwitchConfig = Field(default_factory=KillSwitchConfig)
    twap: TwapConfig = Field(default_factory=TwapConfig)
    model_health: ModelHealthConfig = Field(default_factory=ModelHealthConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    min_hold_candles: int = Field(default=0, ge=0)
    i_accept: tuple[AcceptedRisk, ...] = ()
