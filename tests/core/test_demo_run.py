"""The demo's own steps without FreqTrade: progress read from FreqTrade's log, the strategy copy
that keeps a hyperopt result out, FreqUI's copy of the result, the windows a report reads."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from itb_ext.demo import progress
from itb_ext.demo import run as demo
from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation.stored import backtest_windows, read_window_predictions
from itb_ext.strategy.hyperopt_binding import config_fingerprint, write_binding
from itb_ext.strategy.setup import ITBSetup

ROOT = Path(__file__).resolve().parents[2]

LOG = """\
2026-12-01 22:21:54,653 - freqtrade.freqai.freqai_interface - INFO - Training BTC/USD, 1/2 \
pairs from 2018-04-04 00:00:00 to 2018-10-01 00:00:00, 1/3 trains
2026-12-01 22:21:57,675 - freqtrade.freqai.base_models.BaseClassifierModel - INFO - \
-------------------- Done training BTC/USD (2.68 secs) --------------------
2026-12-01 22:21:57,813 - freqtrade.freqai.freqai_interface - INFO - Training BTC/USD, 1/2 \
pairs from 2018-05-04 00:00:00 to 2018-10-31 00:00:00, 2/3 trains
2026-12-01 22:21:57,900 - freqtrade.freqai.data_kitchen - INFO - Found backtesting prediction \
file at /x/backtesting_predictions/cb_btc_1540944000_prediction.feather
2026-12-01 22:21:58,000 - freqtrade.freqai.freqai_interface - INFO - Training BTC/USD, 1/2 \
pairs from 2018-06-03 00:00:00 to 2018-11-30 00:00:00, 3/3 trains
2026-12-01 22:22:00,693 - freqtrade.freqai.base_models.BaseClassifierModel - INFO - \
-------------------- Done training BTC/USD (1.32 secs) --------------------
2026-12-01 22:22:27,817 - freqtrade.freqai.freqai_interface - INFO - Training ETH/USD, 2/2 \
pairs from 2018-04-04 00:00:00 to 2018-10-01 00:00:00, 1/3 trains
"""


def test_progress_counts_windows_per_pair_from_the_log() -> None:
    state = progress.BacktestProgress()
    for line in LOG.splitlines():
        state.read(line)
    btc, eth = state.pairs["BTC/USD"], state.pairs["ETH/USD"]
    assert (btc.total, btc.done, btc.reused) == (3, 3, 1)
    assert btc.seconds == pytest.approx(2.68 + 1.32)
    assert (eth.total, eth.done) == (3, 0)  # its first window is being trained
    assert state.stage == progress.TRAINING and state.windows == 6
    state.read("... - INFO - Backtesting with data from 2018-10-01 00:00:00 up to ...")
    assert state.stage == progress.BACKTESTING and eth.done == 3


def test_quiet_progress_prints_one_line_per_stage() -> None:
    out = io.StringIO()
    with progress.ProgressDisplay(quiet=True, out=out) as display:
        display.lines(LOG.splitlines())
        assert out.getvalue() == ""
        display.lines(["x - Backtesting with data from 2018-10-01 00:00:00 up to 2019-01-01"])
        display.finished(12)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("training and predicting: 2 pairs, 6 windows: 5 trained, 1 read")
    assert lines[1].startswith("FreqTrade backtest: 12 trades (")


def test_the_log_is_followed_line_by_line_as_it_grows(tmp_path: Path) -> None:
    log = tmp_path / "freqtrade.log"
    assert progress.new_lines(log, 0) == ([], 0)
    log.write_text("one\ntwo\nthr")
    lines, offset = progress.new_lines(log, 0)
    assert lines == ["one", "two"]  # the third is still being written
    with log.open("a") as handle:
        handle.write("ee\n")
    assert progress.new_lines(log, offset) == (["three"], len("one\ntwo\nthree\n"))


# --- the strategy copy ------------------------------------------------------------------------


def demo_config() -> dict[str, object]:
    config: dict[str, object] = demo._load_config(ROOT / "user_data" / "config.demo.json")
    return config


def userdir_with_result(tmp_path: Path, buy: float, bound: bool) -> demo.DemoPaths:
    userdir = tmp_path / "user_data"
    strategies = userdir / "strategies"
    strategies.mkdir(parents=True)
    (strategies / "ITBStrategy.py").write_text("# the strategy\n")
    params = strategies / "ITBStrategy.json"
    params.write_text(
        json.dumps(
            {
                "strategy_name": "ITBStrategy",
                "params": {"buy": {"buy_threshold": buy}, "sell": {"sell_threshold": -0.05}},
            }
        )
    )
    config = demo_config()
    if bound:
        write_binding(params, config_fingerprint(config))
    return demo.DemoPaths(userdir=userdir, output=tmp_path / "out")


def test_the_demo_runs_a_copy_without_the_hyperopt_result(tmp_path: Path) -> None:
    paths = userdir_with_result(tmp_path, 0.07, bound=True)
    config = demo_config()
    setup = ITBSetup.from_freqtrade_config(config)
    parameters = demo.prepare_strategy(paths, setup, config, use_hyperopt_result=False)
    copied = sorted(p.name for p in paths.strategy_dir.iterdir())
    assert copied == ["ITBStrategy.py"]
    assert parameters.ignored == paths.userdir / "strategies" / "ITBStrategy.json"
    assert parameters.overrides == setup.default_overrides()
    assert parameters.source == demo.FROM_CONFIG
    heading = "\n".join(demo.heading_lines(paths, config, "20181001-20191001", parameters))
    assert "is not used (--use-hyperopt-result uses it)" in " ".join(heading.split())
    # only a word longer than a line (the temporary folder's path) is longer
    assert all(len(line) <= 100 or len(line.split()) == 1 for line in heading.splitlines())


def test_asked_to_the_demo_uses_a_hyperopt_result_of_its_config(tmp_path: Path) -> None:
    paths = userdir_with_result(tmp_path, 0.07, bound=True)
    config = demo_config()
    setup = ITBSetup.from_freqtrade_config(config)
    parameters = demo.prepare_strategy(paths, setup, config, use_hyperopt_result=True)
    assert (parameters.overrides.buy_threshold, parameters.overrides.sell_threshold) == (
        0.07,
        -0.05,
    )
    assert parameters.source.startswith("hyperopt result ")
    assert (paths.strategy_dir / "ITBStrategy.json").is_file()
    # and without the flag the next run removes the copy again
    demo.prepare_strategy(paths, setup, config, use_hyperopt_result=False)
    assert not (paths.strategy_dir / "ITBStrategy.json").exists()


def test_a_hyperopt_result_of_another_config_is_refused_in_one_line(tmp_path: Path) -> None:
    paths = userdir_with_result(tmp_path, 0.07, bound=False)
    config = demo_config()
    setup = ITBSetup.from_freqtrade_config(config)
    with pytest.raises(ConfigError, match=r"has no binding .* not on this config"):
        demo.prepare_strategy(paths, setup, config, use_hyperopt_result=True)


# --- FreqUI's copy ----------------------------------------------------------------------------


def test_the_result_is_copied_where_frequi_lists_it(tmp_path: Path) -> None:
    paths = demo.DemoPaths(userdir=tmp_path / "user_data", output=tmp_path / "out")
    paths.results_dir.mkdir(parents=True)
    name = "backtest-result-2026-12-01_22-23-01"
    with zipfile.ZipFile(paths.results_dir / f"{name}.zip", "w") as bundle:
        bundle.writestr(f"{name}.json", "{}")
    meta = {"ITBStrategy": {"run_id": "x", "backtest_start_time": 1, "notes": ""}}
    (paths.results_dir / f"{name}.meta.json").write_text(json.dumps(meta))
    last = json.dumps({"latest_backtest": f"{name}.zip"})
    (paths.results_dir / ".last_result.json").write_text(last)
    copied = demo.publish_for_frequi(paths, "itb-demo-trend")
    target = tmp_path / "user_data" / "backtest_results"
    assert copied == target / f"{name}.zip"
    assert (target / f"{name}.zip").read_bytes() == (paths.results_dir / f"{name}.zip").read_bytes()
    assert json.loads((target / ".last_result.json").read_text()) == json.loads(last)
    notes = json.loads((target / f"{name}.meta.json").read_text())["ITBStrategy"]["notes"]
    assert "itb-demo-trend" in notes
    # the demo's own folder is as FreqTrade left it
    assert json.loads((paths.results_dir / f"{name}.meta.json").read_text()) == meta
    assert (paths.results_dir / ".last_result.json").read_text() == last


# --- the windows of one backtest --------------------------------------------------------------


def test_the_windows_of_a_backtest_are_freqais_splits() -> None:
    period = (pd.Timestamp("2019-01-01", tz="UTC"), pd.Timestamp("2019-03-01", tz="UTC"))
    assert backtest_windows(period, 30) == [
        pd.Timestamp("2019-01-01", tz="UTC"),
        pd.Timestamp("2019-01-31", tz="UTC"),
    ]
    with pytest.raises(DataError):
        backtest_windows(period, 0)


def write_window(folder: Path, start: str, days: int, value: float) -> None:
    begins = pd.Timestamp(start, tz="UTC")
    dates = pd.date_range(begins, periods=days * 24, freq="1h")
    frame = pd.DataFrame({"date": dates, "up_3_lc": value, "do_predict": 1})
    frame.to_feather(folder / f"cb_btc_{int(begins.timestamp())}_prediction.feather")


def test_a_report_reads_only_its_backtests_windows(tmp_path: Path) -> None:
    folder = tmp_path / "backtesting_predictions"
    folder.mkdir()
    write_window(folder, "2019-01-01", 30, 0.1)  # the demo's windows
    write_window(folder, "2019-01-31", 29, 0.2)
    write_window(folder, "2019-01-15", 30, 0.9)  # another backtest's, same identifier
    mine = backtest_windows(
        (pd.Timestamp("2019-01-01", tz="UTC"), pd.Timestamp("2019-03-01", tz="UTC")), 30
    )
    frame = read_window_predictions(tmp_path, "BTC/USD", mine)
    assert len(frame) == 59 * 24
    assert set(frame["up_3_lc"]) == {0.1, 0.2}
    assert (frame.loc[frame["date"] < pd.Timestamp("2019-01-31", tz="UTC"), "up_3_lc"] == 0.1).all()
    # every stored window: the later window wins where they overlap
    everything = read_window_predictions(tmp_path, "BTC/USD")
    assert 0.9 in set(everything["up_3_lc"])
    with pytest.raises(DataError, match="in the backtest's windows"):
        read_window_predictions(tmp_path, "BTC/USD", [pd.Timestamp("2018-01-01", tz="UTC")])
