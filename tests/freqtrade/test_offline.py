"""Offline mode: FreqTrade's research commands run on static markets, without any network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from itb_ext.adapters.offline import run_freqtrade_offline, static_markets
from itb_ext.errors import ConfigError
from itb_ext.evaluation.stored import read_backtest_stats

ROOT = Path(__file__).resolve().parents[2]
CANDLES = ROOT / "user_data" / "data" / "bitfinex"

# A throwaway strategy: long on a fast/slow SMA cross up, out on the cross down.
SMA_CROSS = """
from pandas import DataFrame

from freqtrade.strategy import IStrategy


class SmaCross(IStrategy):
    timeframe = "1h"
    minimal_roi = {"0": 10.0}
    stoploss = -0.10
    startup_candle_count = 50

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["fast"] = dataframe["close"].rolling(10).mean()
        dataframe["slow"] = dataframe["close"].rolling(50).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        above = dataframe["fast"] > dataframe["slow"]
        dataframe.loc[above & ~above.shift(1, fill_value=True), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        below = dataframe["fast"] < dataframe["slow"]
        dataframe.loc[below & ~below.shift(1, fill_value=True), "exit_long"] = 1
        return dataframe
"""

# Runs FreqTrade in a child process whose sockets refuse every internet lookup or connection and
# report the attempt on stderr. argv[1] picks offline mode or plain FreqTrade (the control).
GUARDED_RUN = """
import socket, sys

def refuse(what):
    sys.stderr.write(f"NETWORK ATTEMPT: {what}\\n")
    raise OSError("network disabled by the test")

real_connect = socket.socket.connect

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse(f"connect {address}")
    return real_connect(self, address)

socket.getaddrinfo = lambda host, *args, **kwargs: refuse(f"getaddrinfo {host}")
socket.socket.connect = connect

if sys.argv[1] == "offline":
    from itb_ext.adapters.offline import run_freqtrade_offline
    sys.exit(run_freqtrade_offline(sys.argv[2:]))
from freqtrade.main import main
main(sys.argv[2:])
"""


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    """Strategy folder, config (bitfinex, USD, BTC/USD + ETH/USD, 1h) and user-data folder."""
    pytest.importorskip("freqtrade")
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "sma_cross.py").write_text(SMA_CROSS)
    user_data = tmp_path / "user_data"
    user_data.mkdir()
    results = tmp_path / "results"
    results.mkdir()
    config = {
        "max_open_trades": 2,
        "stake_currency": "USD",
        "stake_amount": 1000,
        "dry_run": True,
        "dry_run_wallet": 10000,
        "timeframe": "1h",
        "user_data_dir": str(user_data),
        "dataformat_ohlcv": "feather",
        "exchange": {"name": "bitfinex", "pair_whitelist": ["BTC/USD", "ETH/USD"]},
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same"},
        "exit_pricing": {"price_side": "same"},
    }
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    return {"strategies": strategies, "config": config_file, "results": results, "tmp": tmp_path}


def freqtrade_args(command: str, ws: dict[str, Path], *extra: str) -> list[str]:
    """Arguments shared by the strategy commands; ``--datadir`` because FreqTrade ignores the
    config's ``datadir`` key."""
    return [
        command,
        "--config",
        str(ws["config"]),
        "--strategy",
        "SmaCross",
        "--strategy-path",
        str(ws["strategies"]),
        "--datadir",
        str(CANDLES),
        *extra,
    ]


def guarded_run(mode: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run FreqTrade (``mode`` "offline" or "plain") in a child process without network."""
    # Without PYTEST_VERSION FreqTrade configures its logging as it does for users.
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_VERSION"}
    return subprocess.run(
        [sys.executable, "-c", GUARDED_RUN, mode, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def latest_backtest(results: Path) -> dict[str, Any]:
    """Statistics of the newest backtest FreqTrade exported into ``results``."""
    return read_backtest_stats(results)


def test_bitfinex_static_markets_are_usd_spot_pairs_with_bitfinex_rules() -> None:
    markets = static_markets("Bitfinex")
    assert sorted(markets) == ["BTC/USD", "ETH/USD", "LTC/USD"]
    for symbol, market in markets.items():
        base = symbol.split("/")[0]
        assert market["id"] == f"t{base}USD"
        assert (market["base"], market["quote"]) == (base, "USD")
        assert market["spot"] is True and market["type"] == "spot" and market["active"] is True
        # Bitfinex quotes prices with 5 significant digits (ccxt SIGNIFICANT_DIGITS mode).
        assert market["precision"] == {"amount": 8, "price": 5}
        assert (market["maker"], market["taker"]) == (0.001, 0.002)
        assert 0 < market["limits"]["amount"]["min"] < market["limits"]["amount"]["max"]


def test_unknown_exchange_is_a_one_line_config_error() -> None:
    expected = r"^offline mode: no static markets for exchange 'kraken'"
    with pytest.raises(ConfigError, match=expected):
        static_markets("kraken")
    with pytest.raises(ConfigError, match="invalid exchange name"):
        static_markets("../bitfinex")


def test_markets_folder_from_environment_comes_first_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    swap = {"id": "BTCUSDT", "symbol": "BTC/USDT:USDT", "base": "BTC", "quote": "USDT"}
    (tmp_path / "binance.json").write_text(json.dumps({"markets": {"BTC/USDT:USDT": swap}}))
    (tmp_path / "bitfinex.json").write_text(json.dumps({"markets": {"BTC/USD": swap}}))
    monkeypatch.setenv("ITB_EXT_MARKETS_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="market 'BTC/USDT:USDT' lacks key 'type'"):
        static_markets("binance")
    with pytest.raises(ConfigError, match="market 'BTC/USD' must repeat its symbol"):
        static_markets("bitfinex")
    swap["type"] = "swap"
    (tmp_path / "binance.json").write_text(json.dumps({"markets": {"BTC/USDT:USDT": swap}}))
    assert static_markets("binance") == {"BTC/USDT:USDT": swap}


def test_offline_refuses_commands_that_need_the_exchange(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_freqtrade_offline(["trade", "--config", "x.json"]) == 2
    assert "offline mode cannot run 'freqtrade trade'" in capsys.readouterr().err


def test_offline_exchange_serves_static_markets_and_blocks_http() -> None:
    ccxt = pytest.importorskip("ccxt")
    from freqtrade.enums import RunMode
    from freqtrade.exceptions import OperationalException
    from freqtrade.exchange.exchange import Exchange
    from freqtrade.resolvers import ExchangeResolver

    from itb_ext.adapters.offline import offline_exchange

    config = {
        "dry_run": True,
        "runmode": RunMode.BACKTEST,
        "stake_currency": "USD",
        "timeframe": "1h",
        "exchange": {"name": "bitfinex", "pair_whitelist": ["BTC/USD"]},
        "entry_pricing": {"price_side": "same"},
        "exit_pricing": {"price_side": "same"},
    }
    original = Exchange.__dict__["_init_ccxt"]
    with offline_exchange():
        exchange = ExchangeResolver.load_exchange(config)
    try:
        assert Exchange.__dict__["_init_ccxt"] is original
        assert sorted(exchange.markets) == ["BTC/USD", "ETH/USD", "LTC/USD"]
        assert exchange.get_fee("BTC/USD", taker_or_maker="taker") == 0.002
        # 5 significant digits for prices, 8 for amounts.
        assert exchange.price_to_precision("BTC/USD", 3939.74321) == 3939.7
        assert exchange.amount_to_precision("BTC/USD", 0.123456789123) == 0.12345678
        with pytest.raises(ccxt.BaseError, match="offline mode: bitfinex tried a network request"):
            exchange._api.fetch_ticker("BTC/USD")
        with pytest.raises(OperationalException, match="offline mode"):
            exchange.fetch_ticker("BTC/USD")
        with pytest.raises(ccxt.BaseError, match="offline mode"):
            exchange.loop.run_until_complete(exchange._api_async.fetch_ohlcv("BTC/USD", "1h"))
    finally:
        exchange.close()


def test_offline_backtesting_trades_both_pairs_without_network(
    workspace: dict[str, Path],
) -> None:
    args = freqtrade_args(
        "backtesting",
        workspace,
        "--timerange",
        "20190101-20190301",
        "--export",
        "trades",
        "--backtest-directory",
        str(workspace["results"]),
    )
    run = guarded_run("offline", args, workspace["tmp"])
    assert run.returncode == 0, run.stderr[-3000:]
    assert "NETWORK ATTEMPT" not in run.stderr
    stats = latest_backtest(workspace["results"])["strategy"]["SmaCross"]
    trades_per_pair = {row["key"]: row["trades"] for row in stats["results_per_pair"]}
    assert trades_per_pair["BTC/USD"] > 0 and trades_per_pair["ETH/USD"] > 0
    assert stats["total_trades"] == trades_per_pair["BTC/USD"] + trades_per_pair["ETH/USD"]
    # No fee in the config: FreqTrade took the worst-case (taker) fee of the static market.
    assert {trade["fee_open"] for trade in stats["trades"]} == {0.002}
    assert stats["backtest_start"].startswith("2019-01-01")


def test_plain_freqtrade_reaches_for_the_network_and_fails(workspace: dict[str, Path]) -> None:
    """Control for the test above: the socket guard does catch FreqTrade's market download."""
    args = freqtrade_args("backtesting", workspace, "--timerange", "20190101-20190110")
    run = guarded_run("plain", args, workspace["tmp"])
    assert run.returncode != 0
    assert "NETWORK ATTEMPT" in run.stderr
    assert "Could not load markets" in run.stderr


def test_offline_config_error_exits_non_zero(workspace: dict[str, Path]) -> None:
    # FreqTrade's own main() exits 0 after a ConfigurationError; offline mode reports 2.
    config = json.loads(workspace["config"].read_text())
    config["stake_currency"] = "EUR"
    workspace["config"].write_text(json.dumps(config))
    run = guarded_run("offline", freqtrade_args("backtesting", workspace), workspace["tmp"])
    assert run.returncode == 2
    assert "EUR is not available as stake on Bitfinex" in run.stderr


def test_offline_lookahead_analysis_finds_no_bias_in_sma_cross(
    workspace: dict[str, Path],
) -> None:
    args = freqtrade_args(
        "lookahead-analysis",
        workspace,
        "--timerange",
        "20190101-20190301",
        "--minimum-trade-amount",
        "5",
        "--targeted-trade-amount",
        "8",
        "--backtest-directory",
        str(workspace["results"]),
    )
    run = guarded_run("offline", args, workspace["tmp"])
    assert run.returncode == 0, run.stderr[-3000:]
    assert "NETWORK ATTEMPT" not in run.stderr
    assert "Checking look ahead bias via backtests of" in run.stderr
