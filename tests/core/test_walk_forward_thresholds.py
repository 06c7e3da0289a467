"""Walk-forward levels, their config, and the binding of hyperopt results to their config."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.base import validate
from itb_ext.config.thresholds import ThresholdsConfig
from itb_ext.errors import ConfigError
from itb_ext.signals.levels import quantile_levels, signals_at_levels
from itb_ext.strategy.hyperopt_binding import (
    Fingerprint,
    bind_if_written_since,
    binding_path,
    bound_to,
    check_hyperopt_result,
    config_fingerprint,
    decide_at_start,
    describe_parameters,
    write_binding,
)
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]


def test_quantile_levels_of_the_training_scores() -> None:
    cfg = ThresholdsConfig(mode="walk_forward", buy_quantile=0.75, sell_quantile=0.25)
    assert quantile_levels([0.0, 1.0, 2.0, 3.0, 4.0, np.nan], cfg) == (3.0, 1.0)
    buy, sell = quantile_levels([np.nan], cfg)
    assert math.isnan(buy) and math.isnan(sell)


def test_signals_at_per_candle_levels_and_no_signal_without_a_level() -> None:
    score = pd.Series([0.5, 0.1, -0.3, 0.2, np.nan])
    buy = pd.Series([0.4, 0.4, 0.4, np.nan, 0.0])
    sell = pd.Series([-0.2, -0.2, -0.2, np.nan, 0.0])
    out = signals_at_levels(score, buy, sell)
    assert out["buy"].tolist() == [True, False, False, False, False]
    assert out["sell"].tolist() == [False, False, True, False, False]


def test_thresholds_config_rejects_crossed_quantiles_and_unknown_keys() -> None:
    with pytest.raises(ConfigError, match=r"sell_quantile: must be below buy_quantile \(0.6\)"):
        validate(ThresholdsConfig, {"buy_quantile": 0.6, "sell_quantile": 0.7}, "itb.thresholds")
    with pytest.raises(ConfigError, match="unknown key 'level'"):
        validate(ThresholdsConfig, {"level": 1}, "itb.thresholds")
    section = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    section["thresholds"] = {"mode": "sometimes"}
    with pytest.raises(ConfigError, match=r"itb: thresholds.mode: Input should be 'fixed'"):
        ITBSetup.from_freqtrade_config({"itb": section})


def _config(identifier: str = "a", pairs: tuple[str, ...] = ("BTC/USD",)) -> dict:
    return {
        "freqai": {"identifier": identifier},
        "exchange": {"pair_whitelist": list(pairs)},
        "timeframe": "1h",
    }


def test_a_result_is_bound_to_its_config_and_content(tmp_path: Path) -> None:
    params = tmp_path / "ITBStrategy.json"
    params.write_text('{"params": {"buy": {"buy_threshold": 0.1}}}')
    mine = config_fingerprint(_config(pairs=("ETH/USD", "BTC/USD")))
    assert mine == Fingerprint("a", ("BTC/USD", "ETH/USD"), "1h")
    assert bound_to(params) is None
    write_binding(params, mine)
    assert binding_path(params).name == "ITBStrategy.itb-binding.json"
    assert bound_to(params) == mine
    assert check_hyperopt_result(params, mine, allow_other=False)
    other = config_fingerprint(_config(identifier="live"))
    with pytest.raises(ConfigError) as refused:
        check_hyperopt_result(params, other, allow_other=False)
    message = str(refused.value)
    assert "\n" not in message
    assert "was searched on identifier 'a', pairs BTC/USD, ETH/USD, 1h" in message
    assert "itb.accept_hyperopt_from_other_config: true" in message
    assert check_hyperopt_result(params, other, allow_other=True)
    # an edited file is no longer the bound result
    params.write_text('{"params": {"buy": {"buy_threshold": 0.2}}}')
    assert bound_to(params) is None
    with pytest.raises(ConfigError, match="has no binding"):
        check_hyperopt_result(params, mine, allow_other=False)


def test_only_a_file_written_by_this_run_is_bound(tmp_path: Path) -> None:
    params = tmp_path / "ITBStrategy.json"
    params.write_text("{}")
    os.utime(params, (1000.0, 1000.0))
    mine = config_fingerprint(_config())
    assert not bind_if_written_since(params, mine, since=2000.0)
    assert not binding_path(params).exists()
    assert bind_if_written_since(params, mine, since=1000.0)
    assert bound_to(params) == mine


def test_start_decision_names_every_source(tmp_path: Path) -> None:
    params = tmp_path / "ITBStrategy.json"
    params.write_text("{}")
    mine = config_fingerprint(_config())
    write_binding(params, mine)
    defaults = {"buy_threshold": 0.08, "smoothing_window": 1, "sell_threshold": -0.08}
    found = {"buy": {"buy_threshold": 0.12}, "sell": {"sell_threshold": -0.1}}
    decision = decide_at_start(defaults, found, params, mine, False, False, None)
    assert decision.use_file
    assert decision.values == {"buy_threshold": 0.12, "smoothing_window": 1, "sell_threshold": -0.1}
    line = describe_parameters(decision.values, decision.sources)
    assert line == (
        f"ITB parameters in force: buy_threshold=0.12 (hyperopt file {params}), "
        "smoothing_window=1 (config signal_sets), "
        f"sell_threshold=-0.1 (hyperopt file {params})"
    )
    other = config_fingerprint(_config(identifier="b"))
    with pytest.raises(ConfigError):
        decide_at_start(defaults, found, params, other, False, False, None)
    during_hyperopt = decide_at_start(defaults, found, params, other, False, True, None)
    assert not during_hyperopt.use_file
    assert during_hyperopt.values == defaults
    assert "ignored during this hyperopt run" in during_hyperopt.warnings[0]
    walk = decide_at_start(defaults, found, params, mine, False, False, "walk-forward: q")
    assert not walk.use_file
    assert walk.sources["buy_threshold"] == "walk-forward: q"
    assert walk.values["smoothing_window"] == 1
    assert decide_at_start(defaults, {}, None, mine, False, False, None).values == defaults
