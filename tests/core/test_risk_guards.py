"""Start-up guards: dangerous settings refused unless ``itb.risk.i_accept`` names them, and the
REST API refused without credentials (``itb_ext.risk.guards``, ``strategy.parameters``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from itb_ext.config.base import validate
from itb_ext.config.risk import RiskConfig
from itb_ext.errors import ConfigError
from itb_ext.risk.guards import (
    Danger,
    accepted,
    api_server_refusal,
    dangers,
    refuse_dangers,
    unaccepted_dangers,
)
from itb_ext.strategy.parameters import check_start_up
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SECTION = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]


def risk(**raw: Any) -> RiskConfig:
    return validate(RiskConfig, raw, "itb.risk")


def test_the_defaults_are_not_dangerous() -> None:
    assert dangers(RiskConfig(), stoploss=-0.2) == ()
    # FreqTrade's own stake when the risk layer is off: a fixed amount is no danger
    off = risk(enabled=False)
    assert dangers(off, stoploss=-0.2, stake_amount=100, max_open_trades=1) == ()
    assert dangers(off, stoploss=-0.2, stake_amount="unlimited", max_open_trades=2) == ()


def test_each_dangerous_setting_names_its_key_and_its_acknowledgement() -> None:
    cases = [
        (
            risk(sizing={"fraction": 1.0, "max_fraction": 1.0}),
            -0.2,
            Danger(
                "whole_balance",
                "itb.risk.sizing.max_fraction",
                "1 lets one trade stake the whole balance",
            ),
        ),
        (
            risk(sizing={"max_fraction": 0.6}),
            -0.2,
            Danger(
                "large_stakes",
                "itb.risk.sizing.max_fraction",
                "0.6 lets one trade stake more than half of equity",
            ),
        ),
        (
            risk(kill_switch={"max_daily_loss": 1.0}),
            -0.2,
            Danger(
                "no_daily_loss_limit",
                "itb.risk.kill_switch.max_daily_loss",
                "1 can never trigger: the daily loss limit is off",
            ),
        ),
        (
            risk(kill_switch={"max_drawdown": 1.0}),
            -0.2,
            Danger(
                "no_drawdown_limit",
                "itb.risk.kill_switch.max_drawdown",
                "1 can never trigger: the drawdown limit is off",
            ),
        ),
        (
            risk(stop={"max_distance": 0.99}),
            -0.99,
            Danger(
                "wide_stop",
                "itb.risk.stop.max_distance",
                "0.99 lets a position lose 99% before its stop",
            ),
        ),
        (
            risk(stop=None),
            -1.0,
            Danger(
                "wide_stop",
                "stoploss",
                "-1 without the ATR stop (itb.risk.stop) leaves positions without a stop",
            ),
        ),
        (
            risk(stop=None),
            -0.6,
            Danger(
                "wide_stop",
                "stoploss",
                "-0.6 without the ATR stop (itb.risk.stop) lets a position lose 60% before its "
                "stop",
            ),
        ),
    ]
    for section, stoploss, danger in cases:
        assert dangers(section, stoploss=stoploss) == (danger,), danger.key
    message = cases[0][2].message
    assert message == (
        "itb.risk.sizing.max_fraction: 1 lets one trade stake the whole balance; change it, or "
        'list "whole_balance" in itb.risk.i_accept to mean it'
    )


def test_the_limits_just_inside_the_lines_pass() -> None:
    edge = risk(
        sizing={"max_fraction": 0.5},
        kill_switch={"max_daily_loss": 0.99, "max_drawdown": 0.99},
        stop={"max_distance": 0.49},
    )
    assert dangers(edge, stoploss=-0.49) == ()
    assert dangers(risk(stop=None), stoploss=-0.49) == ()
    # the ATR stop bounds the loss: FreqTrade's wider static stop is then only its fallback
    assert dangers(RiskConfig(), stoploss=-1.0) == ()
    # a kill switch that is off is off in so many words
    assert dangers(risk(kill_switch={"enabled": False, "max_daily_loss": 1.0}), stoploss=-0.2) == ()


def test_all_in_with_the_risk_layer_off_is_the_whole_balance() -> None:
    off = risk(enabled=False)
    found = dangers(off, stoploss=-0.2, stake_amount="unlimited", max_open_trades=1)
    assert found == (
        Danger(
            "whole_balance",
            "stake_amount",
            '"unlimited" with max_open_trades 1 stakes the whole balance on one trade '
            "(itb.risk is off)",
        ),
    )
    # the risk layer's sizing is off too: its own cap does not count then
    off_all_in = risk(enabled=False, sizing={"fraction": 1.0, "max_fraction": 1.0})
    assert dangers(off_all_in, stoploss=-0.2, stake_amount=100, max_open_trades=1) == ()


def test_i_accept_acknowledges_exactly_the_named_risks() -> None:
    wild = {
        "sizing": {"fraction": 1.0, "max_fraction": 1.0},
        "kill_switch": {"max_daily_loss": 1.0},
        "stop": {"max_distance": 0.9},
    }
    everything = risk(**wild)
    assert [d.risk for d in unaccepted_dangers(everything, dangers(everything, stoploss=-0.9))] == [
        "whole_balance",
        "no_daily_loss_limit",
        "wide_stop",
    ]
    some = risk(**wild, i_accept=["whole_balance", "wide_stop"])
    assert [d.risk for d in unaccepted_dangers(some, dangers(some, stoploss=-0.9))] == [
        "no_daily_loss_limit"
    ]
    with pytest.raises(ConfigError) as error:
        refuse_dangers(some, dangers(some, stoploss=-0.9))
    assert str(error.value) == (
        "itb.risk.kill_switch.max_daily_loss: 1 can never trigger: the daily loss limit is off; "
        'change it, or list "no_daily_loss_limit" in itb.risk.i_accept to mean it'
    )
    all_named = risk(**wild, i_accept=["whole_balance", "wide_stop", "no_daily_loss_limit"])
    refuse_dangers(all_named, dangers(all_named, stoploss=-0.9))  # nothing left to refuse
    # all-in covers the smaller stake risk; the smaller does not cover all-in
    assert accepted(risk(i_accept=["whole_balance"])) == {"whole_balance", "large_stakes"}
    large = risk(sizing={"max_fraction": 0.8}, i_accept=["whole_balance"])
    assert unaccepted_dangers(large, dangers(large, stoploss=-0.2)) == ()
    all_in = risk(sizing={"max_fraction": 1.0}, i_accept=["large_stakes"])
    assert [d.risk for d in unaccepted_dangers(all_in, dangers(all_in, stoploss=-0.2))] == [
        "whole_balance"
    ]


API = {
    "enabled": True,
    "listen_ip_address": "127.0.0.1",
    "username": "trader",
    "password": "a-long-password",
    "jwt_secret_key": "0123456789abcdef",
}


@pytest.mark.parametrize("key", ["username", "password", "jwt_secret_key"])
def test_an_enabled_api_with_a_blank_credential_is_refused_naming_it(key: str) -> None:
    for blank in ("", "   ", None):
        reason = api_server_refusal({"api_server": {**API, key: blank}})
        assert reason is not None and reason.startswith(f"api_server.{key}: blank while "), blank
        assert "\n" not in reason
    missing = {k: v for k, v in API.items() if k != key}
    assert str(api_server_refusal({"api_server": missing})).startswith(f"api_server.{key}: ")


def test_the_api_with_credentials_or_switched_off_passes() -> None:
    assert api_server_refusal({"api_server": API}) is None
    assert api_server_refusal({"api_server": {**API, "enabled": False, "password": ""}}) is None
    assert api_server_refusal({}) is None


def freqtrade_config(risk_section: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {"itb": {**SECTION, "risk": risk_section}, **keys}


def start(config: dict[str, Any], class_stoploss: float = -0.2) -> None:
    check_start_up(ITBSetup.from_freqtrade_config(config), config, class_stoploss)


def test_the_strategy_start_up_refuses_a_danger_in_any_run_mode() -> None:
    all_in = {"sizing": {"fraction": 1.0, "max_fraction": 1.0}}
    for runmode in ("backtest", "hyperopt", "dry_run", "live"):
        with pytest.raises(ConfigError, match=r"^itb\.risk\.sizing\.max_fraction: 1 lets"):
            start(freqtrade_config(all_in, runmode=runmode))
    start(freqtrade_config({**all_in, "i_accept": ["whole_balance"]}, runmode="live"))


def test_the_stop_in_force_is_the_configs_else_the_atr_cap_else_the_class_stop() -> None:
    no_atr = freqtrade_config({"stop": None}, runmode="backtest")
    start(no_atr)  # the class's -0.20
    with pytest.raises(ConfigError, match=r"^stoploss: -1 without the ATR stop"):
        start(no_atr, class_stoploss=-1.0)
    with pytest.raises(ConfigError, match=r"^stoploss: -0.7 without the ATR stop"):
        start({**no_atr, "stoploss": -0.7})
    start(
        {
            **no_atr,
            "stoploss": -0.7,
            "itb": {**SECTION, "risk": {"stop": None, "i_accept": ["wide_stop"]}},
        }
    )
    # with the ATR stop, its cap is the stop in force
    start(freqtrade_config({}, runmode="backtest", stoploss=-1.0))
    with pytest.raises(ConfigError, match=r"^itb\.risk\.stop\.max_distance: 0.6 lets"):
        start(freqtrade_config({"stop": {"max_distance": 0.6}}, runmode="backtest"))


def test_the_api_check_applies_when_the_bot_trades() -> None:
    open_api = {"api_server": {**API, "password": ""}}
    with pytest.raises(ConfigError, match=r"^api_server\.password: blank while"):
        start(freqtrade_config({}, runmode="dry_run", **open_api))
    with pytest.raises(ConfigError, match=r"^api_server\.password: blank while"):
        start(freqtrade_config({}, runmode="live", **open_api))
    start(freqtrade_config({}, runmode="backtest", **open_api))  # a backtest serves no API
    start(freqtrade_config({}, runmode="live", api_server=API))
