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
            "itb: risk.sizing.mode: Input should be 'fixed', 'volatility', 'kelly' or "
            "'volatility_target' (got 'martingale')",
        ),
        (
            {"sizing": {"fraction": 0.5}},
            "itb: risk.sizing: fraction must not exceed max_fraction",
        ),
        (
            {"sizing": {"max_fraction": 0.6, "accept_large_stakes": True}},
            'itb: risk.sizing: accept_large_stakes is gone: list "large_stakes" (or '
            '"whole_balance") in itb.risk.i_accept instead',
        ),
        (
            {"i_accept": ["all_of_it"]},
            "itb: risk.i_accept[0]: Input should be 'large_stakes', 'whole_balance', "
            "'no_daily_loss_limit', 'no_drawdown_limit' or 'wide_stop' (got 'all_of_it')",
        ),
        (
            {"sizing": {"mode": "volatility_target", "target_volatility": 0}},
            "itb: risk.sizing.target_volatility: Input should be greater than 0 (got 0)",
        ),
        (
            {"sizing": {"mode": "volatility_target", "volatility_window": 1}},
            "itb: risk.sizing.volatility_window: Input should be greater than or equal to 2",
        ),
        (
            {"min_hold_candles": -1},
            "itb: risk.min_hold_candles: Input should be greater than or equal to 0 (got -1)",
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


def test_volatility_target_defaults_and_the_large_stake_acknowledgement() -> None:
    risk = ITBSetup.from_freqtrade_config(
        with_risk({"sizing": {"mode": "volatility_target"}})
    ).raw.risk
    assert risk.sizing.target_volatility == 0.15
    assert risk.sizing.volatility_window == 720
    assert risk.sizing.max_fraction == 0.25
    assert risk.min_hold_candles == 0
    # the section itself takes an all-in cap; the start-up guards (itb_ext.risk.guards) ask
    # for its acknowledgement
    all_in = {"sizing": {"fraction": 1.0, "max_fraction": 1.0}, "i_accept": ["whole_balance"]}
    risk = ITBSetup.from_freqtrade_config(with_risk(all_in)).raw.risk
    assert risk.sizing.max_fraction == 1.0 and risk.i_accept == ("whole_balance",)
