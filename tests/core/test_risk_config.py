"""The ``itb.risk`` section: safe defaults, strict validation, one line naming the key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from itb_ext.config.risk import RiskConfig
from itb_ext.errors import ConfigError
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]


def with_risk(risk: dict) -> dict:
    section = copy.deepcopy(SAMPLE)
    section["risk"] = risk
    return {"itb": section}


def test_defaults_never_stake_more_than_a_quarter_and_switch_every_guard_on() -> None:
    risk = ITBSetup.from_freqtrade_config({"itb": {**SAMPLE, "risk": {}}}).raw.risk
    assert risk == RiskConfig()
    assert risk.enabled
    assert risk.sizing.mode == "fixed"
    assert risk.sizing.fraction <= risk.sizing.max_fraction <= 0.25
    assert risk.stop is not None and risk.regime is not None
    assert risk.protections.max_drawdown is not None
    assert risk.protections.stoploss_guard is not None
    assert risk.protections.daily_loss_limit is not None
    assert risk.protections.cooldown_candles > 0
    assert risk.backtest_slippage_bps > 0


def test_a_section_without_risk_gets_the_defaults() -> None:
    section = {k: v for k, v in SAMPLE.items() if k != "risk"}
    assert ITBSetup.from_freqtrade_config({"itb": section}).raw.risk == RiskConfig()


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        (
            {"sizing": {"fraction": -0.1}},
            "itb: risk.sizing.fraction: Input should be greater than 0 (got -0.1)",
        ),
        (
            {"sizing": {"kelly_fraction": 1.5}},
            "itb: risk.sizing.kelly_fraction: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            {"sizing": {"mode": "martingale"}},
            "itb: risk.sizing.mode: Input should be 'fixed', 'volatility' or 'kelly' "
            "(got 'martingale')",
        ),
        (
            {"sizing": {"fraction": 0.5}},
            "itb: risk.sizing: fraction must not exceed max_fraction",
        ),
        (
            {"protections": {"daily_loss_limit": 0}},
            "itb: risk.protections.daily_loss_limit: Input should be greater than 0 (got 0)",
        ),
        ({"stops": {}}, "itb: unknown key 'risk.stops'"),
        ({"stop": {"atr_multiple": "3"}}, "itb: risk.stop.atr_multiple: Input should be a valid"),
    ],
)
def test_bad_risk_settings_name_the_key(risk: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        ITBSetup.from_freqtrade_config(with_risk(risk))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_every_guard_can_be_switched_off() -> None:
    risk = ITBSetup.from_freqtrade_config(
        with_risk(
            {
                "stop": None,
                "regime": None,
                "backtest_slippage_bps": 0,
                "protections": {
                    "max_drawdown": None,
                    "stoploss_guard": None,
                    "cooldown_candles": 0,
                    "daily_loss_limit": None,
                },
            }
        )
    ).raw.risk
    assert risk.stop is None and risk.regime is None
    assert risk.protections.max_drawdown is None
    assert risk.backtest_slippage_bps == 0
