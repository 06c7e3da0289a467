"""The shipped configs load through FreqTrade and ITBStrategy as a new user would use them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("freqtrade")

from freqtrade.configuration import setup_utils_configuration
from freqtrade.enums import RunMode
from freqtrade.resolvers import StrategyResolver

ROOT = Path(__file__).resolve().parents[2]
USER_DATA = ROOT / "user_data"

CREDENTIALS = {
    "FREQTRADE__API_SERVER__ENABLED": "true",
    "FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS": "127.0.0.1",
    "FREQTRADE__API_SERVER__LISTEN_PORT": "8080",
    "FREQTRADE__API_SERVER__USERNAME": "trader",
    "FREQTRADE__API_SERVER__PASSWORD": "a-long-password",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "0123456789abcdef0123456789abcdef",
    "FREQTRADE__API_SERVER__WS_TOKEN": "websocket-token",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No FREQTRADE__ variables: what a fresh shell has."""
    for name in list(os.environ):
        if name.startswith("FREQTRADE__"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)
    return monkeypatch


def load(config: Path, runmode: RunMode, **args: Any) -> tuple[dict[str, Any], Any]:
    """Resolve a config and ITBStrategy exactly as ``freqtrade <runmode>`` does before it runs."""
    resolved = setup_utils_configuration(
        {
            "config": [str(config)],
            "timerange": "20190101-20190201",
            "user_data_dir": str(USER_DATA),
            **args,
        },
        runmode,
    )
    return resolved, StrategyResolver.load_strategy(resolved)


@pytest.mark.parametrize("runmode", [RunMode.BACKTEST, RunMode.HYPEROPT])
@pytest.mark.parametrize("name", sorted(p.name for p in USER_DATA.glob("config*.json")))
def test_shipped_configs_need_no_credentials_for_research(
    clean_env: pytest.MonkeyPatch, name: str, runmode: RunMode
) -> None:
    config, strategy = load(USER_DATA / name, runmode)
    if config["strategy"] == "ITBStrategy":
        assert strategy.itb.score_columns  # the itb section was read
    else:  # the comparison's FreqAI example strategy
        assert type(strategy).__name__ == config["strategy"]
    assert not config.get("api_server", {}).get("enabled", False)


def test_the_environment_switches_the_api_server_on(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        clean_env.setenv(name, value)
    config, _ = load(USER_DATA / "config.json", RunMode.BACKTEST)
    api = config["api_server"]
    assert api["enabled"] is True
    assert api["listen_port"] == 8080
    assert (
        api["username"] == "trader"
        and api["jwt_secret_key"] == CREDENTIALS["FREQTRADE__API_SERVER__JWT_SECRET_KEY"]
    )


def test_futures_example_shorts_on_the_sell_level(clean_env: pytest.MonkeyPatch) -> None:
    import numpy as np
    import pandas as pd

    config, strategy = load(USER_DATA / "config.futures.example.json", RunMode.BACKTEST)
    assert config["trading_mode"] == "futures" and config["margin_mode"] == "isolated"
    assert config["exchange"]["pair_whitelist"] == ["BTC/USDT:USDT"]
    assert config["freqai"]["identifier"] == "itb-sample-1h-futures"
    assert config["freqai"]["train_period_days"] == 365  # the rest comes from config.json
    assert strategy.can_short is True
    # up/down scores of every algorithm: +0.5, 0 and -0.5 around the +-0.08 levels
    up = np.array([0.75, 0.5, 0.25])
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2025-01-01", periods=3, freq="1h", tz="UTC"),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "volume": 1.0,
            "do_predict": 1,
            **{c: up if c.startswith("high") else 1 - up for c in strategy.itb.score_columns},
        }
    )
    from freqtrade.data.dataprovider import DataProvider

    strategy.dp = DataProvider(config, None)  # as the backtest wires it
    entries = strategy.populate_entry_trend(frame.copy(), {"pair": "BTC/USDT:USDT"})
    assert entries["enter_long"].fillna(0).tolist() == [1, 0, 0]
    assert entries["enter_short"].fillna(0).tolist() == [0, 0, 1]
