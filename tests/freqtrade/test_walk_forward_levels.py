"""Walk-forward thresholds and hyperopt results bound to their config, through FreqTrade."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.evaluation.stored import read_window_predictions
from itb_ext.strategy.hyperopt_binding import bound_to, config_fingerprint
from tests.freqtrade.conftest import (
    CANDLES,
    ROOT,
    Run,
    latest_backtest,
    make_userdir,
    run_offline,
    write_config,
)

TIMERANGE = "20190101-20190301"
SECOND_WINDOW = pd.Timestamp("2019-01-31", tz="UTC")


def sample_section(**extra: object) -> dict:
    section = json.loads((ROOT / "user_data" / "itb-sample-1h.json").read_text())["itb"]
    return {**section, **extra}


def small(identifier: str, pairs: tuple[str, ...] = ("BTC/USD",), **itb: object) -> dict:
    return {
        "exchange": {"pair_whitelist": list(pairs)},
        "max_open_trades": 1,
        "freqai": {"identifier": identifier, "train_period_days": 60, "backtest_period_days": 30},
        "itb": sample_section(**itb),
    }


WALK_FORWARD = {"mode": "walk_forward", "buy_quantile": 0.9, "sell_quantile": 0.2}


def backtest_on(folder: Path, datadir: Path) -> Run:
    userdir = make_userdir(folder)
    config = write_config(folder, **small("itb-wf", thresholds=WALK_FORWARD))
    return run_offline(
        "backtesting",
        config,
        userdir,
        "--timerange",
        TIMERANGE,
        "--export",
        "trades",
        "--datadir",
        str(datadir),
    )


@pytest.fixture(scope="module")
def walk_forward(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    run = backtest_on(tmp_path_factory.mktemp("wf"), CANDLES)
    assert run.returncode == 0, run.output[-3000:]
    return run


@pytest.fixture(scope="module")
def walk_forward_perturbed(
    tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None
) -> Run:
    """The same backtest on candles changed from the second window's start on."""
    folder = tmp_path_factory.mktemp("wf-perturbed")
    datadir = folder / "candles"
    datadir.mkdir()
    candles = pd.read_feather(CANDLES / "BTC_USD-1h.feather")
    later = candles["date"] >= SECOND_WINDOW
    wave = 1.0 + 0.08 * np.sin(np.arange(int(later.sum())) / 7.0)
    for column in ("open", "high", "low", "close"):
        candles.loc[later, column] = candles.loc[later, column] * wave
    candles.to_feather(datadir / "BTC_USD-1h.feather")
    run = backtest_on(folder, datadir)
    assert run.returncode == 0, run.output[-3000:]
    return run


def levels(run: Run, identifier: str = "itb-wf") -> pd.DataFrame:
    return read_window_predictions(run.userdir / "models" / identifier, "BTC/USD")


def test_each_window_trades_on_levels_set_by_its_training_period(walk_forward: Run) -> None:
    preds = levels(walk_forward)
    per_window = preds.groupby("window")[["buy_threshold", "sell_threshold"]].nunique()
    assert len(per_window) == 2
    assert (per_window == 1).all().all()  # one level per window
    first = preds.groupby("window")[["buy_threshold", "sell_threshold"]].first()
    assert (first["buy_threshold"] > first["sell_threshold"]).all()
    assert first["buy_threshold"].nunique() == 2  # each window set its own
    assert "buy_threshold=per window (walk-forward: quantiles 0.9/0.2" in walk_forward.log
    assert "hyperopt file" not in walk_forward.log
    trades = latest_backtest(walk_forward.userdir / "backtest_results")["strategy"]["ITBStrategy"]
    assert trades["total_trades"] > 0


def test_levels_of_a_window_ignore_every_candle_from_its_start_on(
    walk_forward: Run, walk_forward_perturbed: Run
) -> None:
    original, perturbed = levels(walk_forward), levels(walk_forward_perturbed)
    in_second = original["window"] == SECOND_WINDOW
    # the perturbation reached the second window's predictions ...
    assert not np.allclose(
        original.loc[in_second, "high_30_svc"].to_numpy(),
        perturbed.loc[perturbed["window"] == SECOND_WINDOW, "high_30_svc"].to_numpy(),
    )
    # ... but not the levels it trades with, which its training period alone set
    pd.testing.assert_frame_equal(
        original.groupby("window")[["buy_threshold", "sell_threshold"]].first(),
        perturbed.groupby("window")[["buy_threshold", "sell_threshold"]].first(),
    )


def test_the_report_draws_the_levels_in_force(walk_forward: Run) -> None:
    from itb_ext.adapters.report import walk_forward_report

    report, files = walk_forward_report(
        walk_forward.userdir.parent / "config.json",
        walk_forward.userdir,
        walk_forward.userdir.parent / "report",
        datadir=CANDLES,
    )
    stored = levels(walk_forward)
    drawn = report.levels.set_index("date")
    np.testing.assert_array_equal(
        drawn.loc[stored["date"], "buy_threshold"].to_numpy(), stored["buy_threshold"].to_numpy()
    )
    assert "buy_threshold" in files.html.read_text()


# --- hyperopt results bound to their config -------------------------------------------------


@pytest.fixture(scope="module")
def hyperopt(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    folder = tmp_path_factory.mktemp("bind")
    userdir = make_userdir(folder)
    config = write_config(folder, **small("itb-bind"))
    run = run_offline(
        "hyperopt",
        config,
        userdir,
        "--timerange",
        "20190101-20190201",
        "--spaces",
        "buy",
        "sell",
        "--epochs",
        "4",
        "-j",
        "1",
        "--hyperopt-loss",
        "SharpeHyperOptLoss",
        "--random-state",
        "1",
        "--min-trades",
        "1",
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


def backtest_with(run: Run, name: str, **overrides: object) -> Run:
    folder = run.userdir.parent / name
    folder.mkdir()
    config = write_config(folder, **overrides)
    return run_offline("backtesting", config, run.userdir, "--timerange", "20190101-20190201")


def test_hyperopt_binds_its_result_to_the_config_it_searched(hyperopt: Run) -> None:
    params = hyperopt.userdir / "strategies" / "ITBStrategy.json"
    assert params.is_file()
    config = json.loads((hyperopt.userdir.parent / "config.json").read_text())
    assert bound_to(params) == config_fingerprint(
        {**config, "timeframe": "1h"}  # the timeframe comes from the demo config it extends
    )


def test_the_same_config_uses_the_result_and_says_so(hyperopt: Run) -> None:
    run = backtest_with(hyperopt, "same", **small("itb-bind"))
    assert run.returncode == 0, run.output[-3000:]
    params = json.loads((hyperopt.userdir / "strategies" / "ITBStrategy.json").read_text())
    buy = params["params"]["buy"]["buy_threshold"]
    shown = re.search(r"ITB parameters in force: (.*)", run.log)
    assert shown is not None
    assert f"buy_threshold={buy} (hyperopt file " in shown.group(1)
    assert "ITBStrategy.json)" in shown.group(1)


def test_a_result_from_another_config_is_refused(hyperopt: Run) -> None:
    run = backtest_with(hyperopt, "other", **small("itb-live", pairs=("ETH/USD",)))
    assert run.returncode != 0
    assert (
        "was searched on identifier 'itb-bind', pairs BTC/USD, 1h, not on this config "
        "(identifier 'itb-live', pairs ETH/USD, 1h)" in run.output
    )
    assert "Traceback" not in run.stderr
    assert "Done training" not in run.log  # stopped before any work


def test_a_result_from_another_config_is_used_when_asked_for(hyperopt: Run) -> None:
    run = backtest_with(
        hyperopt,
        "accepted",
        **small("itb-bind-other", accept_hyperopt_from_other_config=True),
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "(hyperopt file " in run.log
