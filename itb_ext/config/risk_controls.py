"""Configuration of the kill switch, sliced (TWAP) entries and the model-health halt.

They are sub-sections of ``itb.risk``: ``kill_switch``, ``twap`` and ``model_health``. Each has
safe defaults; ``enabled: false`` turns one off.
"""

from __future__ import annotations

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
