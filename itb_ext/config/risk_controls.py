"""Configuration of the kill switch, sliced (TWAP) entries, the model-health halt and the checks
against the exchange.

They are sub-sections of ``itb.risk``: ``kill_switch``, ``twap``, ``model_health`` and
``reconcile``. Each has safe defaults; ``enabled: false`` turns one off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from itb_ext.config.base import FrozenModel


class KillSwitchConfig(FrozenModel):
    """The automatic kill switch: beyond a hard loss limit the bot stops entries and exits all.

    :param enabled: watch the limits (dry-run and live only).
    :param max_daily_loss: loss since the start of the UTC day, as a fraction of the equity at
        that start, that halts the bot (0.05 = 5 %).
    :param max_drawdown: fall of equity from its peak, as a fraction of the peak, that halts it.
    """

    enabled: bool = True
    max_daily_loss: float = Field(default=0.05, gt=0, le=1)
    max_drawdown: float = Field(default=0.25, gt=0, le=1)


class TwapConfig(FrozenModel):
    """Sliced entries: a stake above ``above_stake`` is entered as ``children`` orders.

    :param enabled: slice large entries.
    :param above_stake: stakes (in the stake currency) above this are sliced.
    :param children: number of child orders (the first is the trade's own entry).
    :param candles: the children are spread evenly over this many candles.
    """

    enabled: bool = False
    above_stake: float = Field(default=1000.0, gt=0)
    children: int = Field(default=4, ge=2, le=50)
    candles: int = Field(default=4, ge=1, le=500)

    @model_validator(mode="after")
    def _spread(self) -> TwapConfig:
        if self.candles < self.children - 1:
            raise ValueError(
                f"candles must be at least children - 1 ({self.children - 1}): one child order "
                "per candle at most"
            )
        return self


class ModelHealthConfig(FrozenModel):
    """Live model quality: rolling out-of-sample AUC, hit rate and confidence drift.

    :param enabled: compute the figures and pause entries when quality stays below the floor
        (off by default: the floor is a judgement about the models in use).
    :param window: matured predictions (candles) in each rolling figure.
    :param min_samples: fewer matured predictions of both classes than this give no figure.
    :param min_auc: floor of the models' mean rolling AUC.
    :param min_hit_rate: floor of the models' mean rolling hit rate (0 = not checked).
    :param period: candles the quality must stay below a floor before entries pause.
    """

    enabled: bool = False
    window: int = Field(default=336, ge=5)
    min_samples: int = Field(default=48, ge=4)
    min_auc: float = Field(default=0.5, ge=0, le=1)
    min_hit_rate: float = Field(default=0.0, ge=0, le=1)
    period: int = Field(default=336, ge=1)

    @model_validator(mode="after")
    def _samples_fit(self) -> ModelHealthConfig:
        if self.min_samples > self.window:
            raise ValueError(f"min_samples must not exceed window ({self.window})")
        return self


class ReconcileConfig(FrozenModel):
    """What a live bot checks against the exchange at the start of every loop, and what it does
    when the exchange disagrees with its trades.

    Holdings: the exchange's balance of each traded asset (free and locked) must be what the
    open trades hold, give or take their open orders, plus ``outside_holdings``. A difference
    worth more than ``dust``, or an open order on a traded pair that the bot never placed, is a
    mismatch, e.g. an entry that timed out on the bot but was executed on the exchange: a
    position without a trade record, without a stop and outside the kill switch's count. A
    mismatch pauses entries at once (a global pair lock: FreqTrade would place a lost entry
    again on its next loop); once it has persisted over ``confirm_checks`` checks the bot says
    so on Telegram, and with ``on_mismatch: "flatten"`` it also cancels the unknown orders and
    sells the unexplained holdings at market (at most once per ``flatten_wait_seconds`` per
    asset: an order that timed out may still be executed). Entries resume by themselves once
    the holdings agree again.

    Lost entries: an entry order whose request failed (a timeout, a 500) may still be executed
    on the exchange, and FreqTrade would place the entry again on its next loop. After a failed
    entry the bot places no other entry on that pair for ``lost_order_wait_seconds`` (real
    seconds: a network delay), long enough for the holdings check to see the lost order.

    Stops: with the stop on the exchange (``order_types.stoploss_on_exchange``), an open trade
    must have a stop order covering its amount; FreqTrade re-places a missing one on every
    loop. A trade still without one after ``stop_grace_seconds`` is exited
    (``on_unprotected: "exit"``, exit reason ``unprotected``) or entries pause (``"pause"``)
    until its stop is back; either way the bot says so on Telegram.

    :param enabled: run the checks (live mode only; dry-run has no exchange account).
    :param on_mismatch: ``pause`` (entries only) or ``flatten`` (pause, cancel, sell).
    :param dust: value in the stake currency below which a difference is ignored; None: the
        market's smallest order value (the exchange's minimum notional), since a difference
        smaller than any order cannot come from a lost order.
    :param outside_holdings: per asset, an amount held on the account besides the bot's
        trades (e.g. ``{"BNB": 0.5}``); the bot never sells it.
    :param confirm_checks: consecutive checks a mismatch must persist before it counts, so an
        order filled between the bot's reads is not taken for a lost one.
    :param flatten_wait_seconds: real seconds between two flattening orders for one asset.
    :param lost_order_wait_seconds: real seconds without a new entry on a pair after an entry
        order on it that did not become a trade.
    :param stop_grace_seconds: how long an open trade may go without its stop on the exchange.
    :param on_unprotected: ``exit`` the trade or ``pause`` entries.
    """

    enabled: bool = True
    on_mismatch: Literal["pause", "flatten"] = "pause"
    dust: float | None = Field(default=None, gt=0)
    outside_holdings: dict[str, float] = Field(default_factory=dict)
    confirm_checks: int = Field(default=2, ge=1, le=100)
    flatten_wait_seconds: float = Field(default=30.0, ge=0)
    lost_order_wait_seconds: float = Field(default=60.0, ge=0)
    stop_grace_seconds: float = Field(default=120.0, ge=0)
    on_unprotected: Literal["exit", "pause"] = "exit"

    @model_validator(mode="after")
    def _holdings(self) -> ReconcileConfig:
        negative = sorted(asset for asset, amount in self.outside_holdings.items() if amount < 0)
        if negative:
            raise ValueError(f"outside_holdings must not be negative: {', '.join(negative)}")
        return self
