"""Offline runs whose candles cannot serve them stop before FreqTrade starts, with one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.freqtrade.conftest import CANDLES, USER_DATA, make_userdir, run_offline

DEMO = USER_DATA / "config.demo-stationary.json"
SPAN = "candles 2017-10-01 00:00 .. 2019-09-30 23:00"


@pytest.fixture
def userdir(tmp_path: Path, freqtrade_installed: None) -> Path:
    return make_userdir(tmp_path)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_training_window_before_the_data_stops_before_any_training(userdir: Path) -> None:
    run = run_offline("backtesting", DEMO, userdir, "--timerange", "20171101-20171201")
    assert run.returncode == 2
    line = one_line(run.stderr)
    # 180 training days (4320 candles) + 169 startup candles (the preset's 168-candle log
    # return) before 2017-11-01 = 2017-04-27 23:00
    assert line.startswith(f"offline mode: BTC/USD 1h in {CANDLES} has {SPAN}, but --timerange")
    assert "needs candles from 2017-04-27 23:00" in line
    assert "a training window of 4320 candles + 169 startup candles" in line
    assert "on or after 20180407" in line and "BTC_USD-1h.feather" in line
    assert not any((userdir / "models").iterdir()), "no model may be trained"
    assert "Starting training" not in run.output


def test_a_missing_pair_names_the_file_to_supply(userdir: Path, tmp_path: Path) -> None:
    candles = tmp_path / "candles"  # BTC/USD and ETH/USD only
    candles.mkdir()
    for name in ("BTC_USD-1h.feather", "ETH_USD-1h.feather"):
        shutil.copy(CANDLES / name, candles / name)
    run = run_offline(
        "backtesting",
        DEMO,
        userdir,
        "--timerange",
        "20190101-20190201",
        "--pairs",
        "LTC/USD",
        "--datadir",
        str(candles),
    )
    assert run.returncode == 2
    line = one_line(run.stderr)
    assert line.startswith(f"offline mode: no candles for LTC/USD 1h in {candles}")
    assert "LTC_USD-1h.feather" in line and "download-data" not in line.split(";")[0]


def test_a_timerange_after_the_data_says_where_the_data_ends(userdir: Path) -> None:
    run = run_offline("hyperopt", DEMO, userdir, "--timerange", "20200101-20200201")
    assert run.returncode == 2
    line = one_line(run.stderr)
    assert f"BTC/USD 1h in {CANDLES} has {SPAN}" in line and "starts after the last one" in line


def test_plot_dataframe_before_any_backtest_suggests_no_trades(userdir: Path) -> None:
    run = run_offline("plot-dataframe", DEMO, userdir, "--timerange", "20190101-20190201")
    assert run.returncode == 2
    line = one_line(run.stderr)
    assert "no backtest result in" in line and "--no-trades" in line
