"""How the buy and sell levels of the threshold rule are chosen: the ``itb.thresholds`` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from itb_ext.config.base import FrozenModel


class ThresholdsConfig(FrozenModel):
    """Where the threshold rule's buy and sell levels come from.

    :param mode: ``fixed``: the levels of ``signal_sets`` (or a hyperopt result bound to this
        config); ``walk_forward``: each training window sets the levels the next window trades
        with, from that window's training rows only.
    :param method: ``quantile``: the levels are quantiles of ``trade_score`` computed from the
        model's own (in-sample) predictions on its training rows.
    :param buy_quantile: quantile of the training ``trade_score`` used as the buy level.
    :param sell_quantile: quantile used as the sell level (below ``buy_quantile``).
    """

    mode: Literal["fixed", "walk_forward"] = "fixed"
    method: Literal["quantile"] = "quantile"
    buy_quantile: float = Field(default=0.9, gt=0.0, lt=1.0)
    sell_quantile: float = Field(default=0.1, gt=0.0, lt=1.0)

    @field_validator("sell_quantile")
    @classmethod
    def _sell_below_buy(cls, value: float, info: ValidationInfo) -> float:
        buy = info.data.get("buy_quantile")
        if buy is not None and value >= buy:
            raise ValueError(f"must be below buy_quantile ({buy})")
        return value
