"""What ITBStrategy sets from the ``itb`` section at start, without FreqTrade
(``itb_ext.strategy.parameters``)."""

from __future__ import annotations

import atexit
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from itb_ext.errors import ConfigError
from itb_ext.risk.policy import RiskPolicy
from itb_ext.strategy.hyperopt_binding import config_fingerprint, write_binding
from itb_ext.strategy.parameters import (
    hyperopt_defaults,
    start_decision,
    strategy_attributes,
    walk_forward_source,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())
CONFIG = {"freqai": {"identifier": "m1"}, "exchange": {"pair_whitelist": ["BTC/USD"]}}


def setup(**changes: Any) -> ITBSetup:
    section = copy.deepcopy(SAMPLE["itb"])
    section.update(changes)
    return ITBSetup.from_freqtrade_config({"itb": section})


def test_hyperopt_defaults_are_the_configured_signal_stage() -> None:
    buy, sell = hyperopt_defaults(setup())
    assert buy == {"buy_threshold": 0.08, "smoothing_window": 1, "combine_mode": "difference"}
    assert sell == {"sell_threshold": -0.08}


def test_strategy_attributes_follow_the_risk_section_and_the_bot_role() -> None:
    plain = setup()
    spot = strategy_attributes(plain, RiskPolicy(plain.raw.risk), {})
    # the default volatility regime needs 24 + 720 candles, more than the features' 168
    assert spot["startup_candle_count"] == 744
    assert plain.startup_candles() == 168
    assert spot["can_short"] is False and spot["position_adjustment_enable"] is False
    assert spot["use_custom_stoploss"] is True and spot["stoploss"] == -0.2
    assert "process_only_new_candles" not in spot
    sliced = setup(risk={"enabled": False, "twap": {"enabled": True, "children": 4}})
    assert (
        strategy_attributes(sliced, RiskPolicy(sliced.raw.risk), {})["startup_candle_count"] == 168
    )
    consumer = {
        "trading_mode": "futures",
        "external_message_consumer": {"enabled": True, "producers": [{"name": "p"}]},
    }
    futures = strategy_attributes(sliced, RiskPolicy(sliced.raw.risk), consumer)
    assert futures["can_short"] is True
    assert futures["max_entry_position_adjustment"] == 3
    assert futures["process_only_new_candles"] is False
    assert futures["use_custom_stoploss"] is False and "stoploss" not in futures


def test_walk_forward_levels_are_named_as_the_start_up_log_says() -> None:
    assert walk_forward_source(setup().raw.thresholds) is None
    walk_forward = setup(thresholds={"mode": "walk_forward", "buy_quantile": 0.8}).raw.thresholds
    assert walk_forward_source(walk_forward) == (
        "walk-forward: quantiles 0.8/0.1 of each training window's trade_score"
    )


def test_a_result_of_this_config_is_used_and_one_of_another_config_refused(
    tmp_path: Path,
) -> None:
    params = tmp_path / "ITBStrategy.json"
    params.write_text("{}")
    write_binding(params, config_fingerprint(CONFIG))
    found = {"buy": {"buy_threshold": 0.12}}
    decision = start_decision(setup(), CONFIG, found, params)
    assert decision.use_file and decision.values["buy_threshold"] == 0.12
    assert decision.summary.startswith("ITB parameters in force: buy_threshold=0.12 (hyperopt")
    other = {**CONFIG, "freqai": {"identifier": "m2"}}
    with pytest.raises(ConfigError, match="was searched on identifier 'm1'"):
        start_decision(setup(), other, found, params)


def test_a_hyperopt_run_binds_its_result_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[tuple[Any, ...]] = []
    monkeypatch.setattr(atexit, "register", lambda *call: registered.append(call))
    params = tmp_path / "ITBStrategy.json"
    hyperopt = {**CONFIG, "runmode": "hyperopt"}
    decision = start_decision(setup(), hyperopt, {}, params)
    assert not decision.use_file
    assert len(registered) == 1 and registered[0][1:3] == (params, config_fingerprint(CONFIG))
    start_decision(setup(), {**hyperopt, "disableparamexport": True}, {}, params)
    start_decision(setup(), CONFIG, {}, params)
    assert len(registered) == 1
