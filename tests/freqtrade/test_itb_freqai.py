"""ITBStrategy with the ITBClassifier FreqAI model, driven through FreqTrade's CLI offline.

One small walk-forward set-up is shared: BTC/USD 1h, models trained on 60 days and retrained
every 30 days, two months backtested (two trainings). Its backtest is the one of test_report.py:
one FreqTrade run per test session serves both modules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.files import load_with_included
from itb_ext.evaluation.stored import read_window_predictions
from itb_ext.strategy.setup import ITBSetup
from tests.freqtrade.conftest import (
    CANDLES,
    Run,
    latest_backtest,
    make_userdir,
    run_offline,
    shared_backtest,
    write_config,
)

TIMERANGE = "20190101-20190301"
SMALL = {
    "exchange": {"pair_whitelist": ["BTC/USD"]},
    "max_open_trades": 1,
    "freqai": {
        "identifier": "itb-test",
        "train_period_days": 60,
        "backtest_period_days": 30,
        "save_backtest_models": True,
    },
}
SCORES = ["high_30_svc", "high_30_lc", "high_30_gb", "low_30_svc", "low_30_lc", "low_30_gb"]


def trainings(run: Run) -> int:
    return len(re.findall(r"Done training BTC/USD", run.log))


def predictions(userdir: Path) -> pd.DataFrame:
    return read_window_predictions(userdir / "models" / "itb-test", "BTC/USD")


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    return shared_backtest(tmp_path_factory, SMALL, TIMERANGE, "--export", "trades")


def test_walk_forward_backtest_trains_predicts_itb_scores_and_trades(backtest: Run) -> None:
    assert backtest.returncode == 0, backtest.output[-3000:]
    assert trainings(backtest) == 2
    assert "raised exception" not in backtest.log
    assert "Traceback" not in backtest.output
    preds = predictions(backtest.userdir)
    assert len(preds) == 59 * 24 + 1  # every backtested candle, the end candle included
    for column in SCORES:
        values = preds[column].to_numpy()
        assert np.isfinite(values).all(), column
        assert ((values >= 0) & (values <= 1)).all()
        assert values.std() > 0, f"{column} is constant"
    assert (preds["do_predict"] == 1).mean() > 0.95
    stats = latest_backtest(backtest.userdir / "backtest_results")
    strategy = stats["strategy"]["ITBStrategy"]
    assert strategy["total_trades"] > 0
    tags = {t["enter_tag"] for t in strategy["trades"]}
    assert tags == {"itb_buy"}
    assert {t["exit_reason"] for t in strategy["trades"]} <= {
        "itb_sell",
        "force_exit",
        "stop_loss",
        "trailing_stop_loss",
        "roi",
    }


def test_training_windows_never_fit_a_label_that_reads_the_predicted_period(backtest: Run) -> None:
    records = [
        json.loads(p.read_text())
        for p in (backtest.userdir / "models" / "itb-test").glob("sub-train-*/itb_training.json")
    ]
    assert len(records) == 2
    for record in records:
        horizon = record["label_horizon_candles"]
        last = pd.Timestamp(record["last_trained_candle"])
        end = pd.Timestamp(record["window_end"])
        # a label at candle t reads candles t+1..t+H: all of them must precede the window end
        assert last + pd.Timedelta(hours=horizon) < end, record
        # and nothing more than the unknown tail was cut away
        assert last + pd.Timedelta(hours=horizon + 1) == end, record


def test_second_run_reuses_the_stored_predictions(backtest: Run) -> None:
    config = backtest.userdir.parent / "config.json"
    again = run_offline(
        "backtesting", config, backtest.userdir, "--timerange", TIMERANGE, "--export", "none"
    )
    assert again.returncode == 0, again.output[-3000:]
    assert trainings(again) == 0
    assert "Total/Daily Avg Trades" in again.stdout or "TOTAL" in again.stdout


@pytest.fixture(scope="module")
def hyperopt(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    folder = tmp_path_factory.mktemp("hyperopt")
    userdir = make_userdir(folder)
    config = write_config(folder, **SMALL)
    return run_offline(
        "hyperopt",
        config,
        userdir,
        "--timerange",
        TIMERANGE,
        "--spaces",
        "buy",
        "sell",
        "--epochs",
        "16",
        "-j",
        "1",
        "--hyperopt-loss",
        "SharpeHyperOptLoss",
        "--random-state",
        "1",
        "--min-trades",
        "1",
        "--print-json",
        # the parameter file would land beside the repository's strategy and change its defaults
        "--disable-param-export",
    )


def test_hyperopt_explores_thresholds_on_stored_predictions_without_retraining(
    hyperopt: Run,
) -> None:
    assert hyperopt.returncode == 0, hyperopt.output[-3000:]
    assert trainings(hyperopt) == 2  # once per window, not once per epoch
    results = sorted((hyperopt.userdir / "hyperopt_results").glob("*.fthypt"))
    epochs = [json.loads(line) for line in results[-1].read_text().splitlines() if line.strip()]
    assert len(epochs) == 16
    trade_counts = {e["results_metrics"]["total_trades"] for e in epochs}
    assert len(trade_counts) > 3, trade_counts
    params = {tuple(sorted(e["params_dict"].items())) for e in epochs}
    assert len(params) == 16
    assert {"buy_threshold", "sell_threshold", "smoothing_window", "combine_mode"} <= set(
        epochs[0]["params_dict"]
    )


def test_same_data_and_config_give_identical_predictions(backtest: Run, hyperopt: Run) -> None:
    first = predictions(backtest.userdir)
    second = predictions(hyperopt.userdir)
    pd.testing.assert_frame_equal(first[["date", *SCORES]], second[["date", *SCORES]])


def test_broken_itb_config_stops_with_a_clear_error(tmp_path: Path) -> None:
    userdir = make_userdir(tmp_path)
    bad = json.loads(
        (Path(__file__).resolve().parents[2] / "user_data" / "itb-sample-1h.json").read_text()
    )
    bad["itb"]["algorithms"][1]["algo"] = "random_forest"
    config = write_config(tmp_path, **SMALL, itb=bad["itb"])
    run = run_offline("backtesting", config, userdir, "--timerange", TIMERANGE)
    assert run.returncode != 0
    expected = "Input should be 'gb', 'lc', 'svc', 'svc_linear', 'nn' or 'svc_fast'"
    assert f"itb: algorithms[1].algo: {expected}" in run.output
    assert "Traceback" not in run.stderr


def test_a_model_that_cannot_train_fails_the_backtest(tmp_path: Path) -> None:
    userdir = make_userdir(tmp_path)
    section = json.loads(
        (Path(__file__).resolve().parents[2] / "user_data" / "itb-sample-1h.json").read_text()
    )["itb"]
    section["algorithms"] = [{"name": "gb", "algo": "gb", "train": {"num_leaves": -5}}]
    section["signal_sets"][0]["config"]["columns"] = ["high_30_gb"]
    section["signal_sets"][1]["config"]["columns"] = ["low_30_gb"]
    config = write_config(tmp_path, **SMALL, itb=section)
    run = run_offline("backtesting", config, userdir, "--timerange", TIMERANGE)
    assert run.returncode != 0
    assert "ITBClassifier: training for BTC/USD failed" in run.output
    assert not list((userdir / "backtest_results").glob("*.zip"))


def test_freqai_expansion_multiplies_the_itb_features(tmp_path: Path) -> None:
    userdir = make_userdir(tmp_path)
    section = json.loads(
        (Path(__file__).resolve().parents[2] / "user_data" / "itb-sample-1h.json").read_text()
    )["itb"]
    section["freqai_expansion"] = True
    expanded = {
        **SMALL,
        "itb": section,
        "freqai": {
            **SMALL["freqai"],
            "identifier": "itb-expansion",
            "feature_parameters": {
                "include_timeframes": ["1h", "4h"],
                "include_shifted_candles": 1,
            },
        },
    }
    config = write_config(tmp_path, **expanded)
    # January: one training window of 30 days
    run = run_offline(
        "backtesting", config, userdir, "--timerange", "20190101-20190131", "--export", "trades"
    )
    assert run.returncode == 0, run.output[-3000:]
    # 16 ITB features x 2 timeframes x (the candle + 1 shifted candle)
    assert set(re.findall(r"Training model on (\d+) features", run.log)) == {"64"}
    assert (
        latest_backtest(userdir / "backtest_results")["strategy"]["ITBStrategy"]["total_trades"] > 0
    )


def test_demo_figures_come_from_freqtrades_trades_and_the_stored_predictions(
    backtest: Run,
) -> None:
    from itb_ext.demo import run as demo
    from itb_ext.evaluation.stored import read_backtest_result

    config_file = backtest.userdir.parent / "config.json"
    # the demo's reporting step on this backtest: its result folder is the userdir's
    paths = demo.DemoPaths(config_file, backtest.userdir, CANDLES, output=backtest.userdir)
    setup = ITBSetup.from_freqtrade_config(load_with_included(config_file))
    parameters = demo.Parameters(setup.default_overrides(), demo.FROM_CONFIG)
    report, record = demo.demo_results(paths, TIMERANGE, parameters)
    assert json.loads(paths.results_json.read_text()) == json.loads(json.dumps(record))
    (edge,) = report.edges
    stats = latest_backtest(backtest.userdir / "backtest_results")["strategy"]["ITBStrategy"]
    result = read_backtest_result(paths.results_dir)
    # one pair: its share is the whole wallet, and the account ends at FreqTrade's final balance
    assert edge.strategy["return_%"] == pytest.approx(
        100 * (stats["final_balance"] / stats["starting_balance"] - 1), abs=1e-9
    )
    assert edge.strategy["trades"] == stats["total_trades"] > 0
    days = (result.period[1] - result.period[0]) / pd.Timedelta(days=1)
    assert edge.strategy["trades_per_year"] == pytest.approx(stats["total_trades"] * 365 / days)
    held = sum(
        (pd.Timestamp(t["close_date"]) - pd.Timestamp(t["open_date"])) / pd.Timedelta(hours=1)
        for t in stats["trades"]
    )
    assert edge.strategy["exposure_%"] == pytest.approx(100 * held / (days * 24))
    wins = sum(t["profit_ratio"] > 0 for t in stats["trades"])
    assert edge.strategy["win_rate_%"] == pytest.approx(100 * wins / stats["total_trades"])
    assert record["pairs"][0]["luck"] is None  # 59 days: too few for the placebo's shifts
    assert edge.verdict.endswith("no luck tests (they need 60 days or more)")
    assert record["timerange"] == TIMERANGE and record["identifier"] == "itb-test"
