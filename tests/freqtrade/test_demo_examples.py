"""The README's offline examples never change the demo's results.

The demo (its command line, on a small set-up: BTC/USD, three months, models trained on 60 days)
runs first. Then the README's offline hyperopt example (a few epochs) and a sub-range backtest
example run in the same user-data folder, under their own FreqAI identifier: the hyperopt writes
its result beside the strategy, the backtest its result into FreqTrade's results folder. The
demo then runs again (FreqTrade's backtest on its stored predictions, then its reporting step),
and its reporting step alone once more: every figure it prints and writes is as before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from itb_ext.evaluation.edge import CONFIGURATIONS_TRIED
from tests.freqtrade.conftest import CANDLES, ROOT, USER_DATA, Run, make_userdir, run_offline
from tests.support import warm

TIMERANGE = "20190101-20190402"  # 91 days: long enough for the luck tests
SETTINGS = {
    "exchange": {"pair_whitelist": ["BTC/USD"]},
    "max_open_trades": 1,
    "freqai": {"identifier": "itb-demo-e2e", "train_period_days": 60, "backtest_period_days": 30},
}


def demo(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m itb_ext.demo.run`` on the small set-up (not a terminal: quiet)."""
    return warm.run(
        [
            sys.executable,
            "-m",
            "itb_ext.demo.run",
            "--config",
            str(folder / "config.json"),
            "--userdir",
            str(folder / "user_data"),
            "--datadir",
            str(CANDLES),
            "--output",
            str(folder / "demo_output"),
            "--timerange",
            TIMERANGE,
            *extra,
        ],
        cwd=ROOT,
        # FreqTrade configures no log file under pytest: the demo reads its progress there
        env={k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"},
        timeout=900,
    )


def figures(stdout: str) -> str:
    """What the demo printed about the results: from the per-pair table to the file list."""
    return stdout.split("Walk-forward, out of sample", 1)[1].split("== Files", 1)[0]


def results(folder: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((folder / "demo_output" / "results.json").read_text())
    return record


@pytest.fixture(scope="module")
def first(
    tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("demo-examples")
    userdir = make_userdir(folder)
    shutil.copytree(USER_DATA / "freqaimodels", userdir / "freqaimodels")
    config = {"add_config_files": [str(USER_DATA / "config.demo.json")], **SETTINGS}
    (folder / "config.json").write_text(json.dumps(config))
    done = demo(folder)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return folder, done


def test_the_demo_prints_each_pairs_figures_and_the_luck_tests(
    first: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, done = first
    lines = done.stdout.splitlines()
    # (a line naming a file of the test's temporary folder may be longer)
    assert max(len(line) for line in figures(done.stdout).splitlines()) <= 100
    assert len(lines) < 100
    assert lines[0].startswith("== ITBStrategy walk-forward backtest, offline: BTC/USD 1h")
    # quiet without a terminal: one line per stage
    assert any(
        line.startswith("training and predicting: 1 pair, 4 windows: 4 trained") for line in lines
    )
    assert any(line.startswith("FreqTrade backtest: ") for line in lines)
    text = figures(done.stdout)
    assert "fee 0.10 % and slippage 0.05 % per fill" in text
    record = results(folder)
    (pair,) = record["pairs"]
    assert pair["luck"]["placebo_shifts"] == 200
    assert pair["luck"]["trials"] == CONFIGURATIONS_TRIED
    assert f"BTC/USD: {pair['verdict']}" in " ".join(text.split())
    assert "== Yardsticks" in text and "== Conclusion" in text


def test_readme_examples_leave_the_demo_results_as_they_were(
    first: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, done = first
    before = results(folder)
    userdir = folder / "user_data"
    # the documented examples' config: the demo's, under its own FreqAI identifier
    # (user_data/config.examples.json)
    shipped = json.loads((ROOT / "user_data" / "config.examples.json").read_text())
    assert (
        shipped["freqai"]["identifier"]
        != json.loads((ROOT / "user_data" / "config.demo.json").read_text())["freqai"]["identifier"]
    )
    config = folder / "config.examples.json"
    config.write_text(json.dumps({**shipped, "add_config_files": ["config.json"]}))
    hyperopt: Run = run_offline(
        "hyperopt",
        config,
        userdir,
        "--timerange",
        "20190101-20190401",
        "--spaces",
        "buy",
        "sell",
        "--hyperopt-loss",
        "SharpeHyperOptLoss",
        "--epochs",
        "5",
        "-j",
        "1",
        "--random-state",
        "3",
        "--min-trades",
        "1",
    )
    assert hyperopt.returncode == 0, hyperopt.output[-3000:]
    written = userdir / "strategies" / "ITBStrategy.json"
    assert written.is_file(), "the hyperopt example wrote no result beside the strategy"
    backtest = run_offline(
        "backtesting", config, userdir, "--timerange", "20190201-20190401", "--export", "trades"
    )
    assert backtest.returncode == 0, backtest.output[-3000:]
    assert (userdir / "models" / shipped["freqai"]["identifier"]).is_dir()

    again = demo(folder)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"the hyperopt result {written} is not used" in " ".join(again.stdout.split())
    assert "0 trained" in again.stdout  # the stored predictions were read back
    assert figures(again.stdout) == figures(done.stdout)
    assert results(folder) == before
    assert not (folder / "demo_output" / "strategy" / "ITBStrategy.json").exists()

    reported = demo(folder, "--report-only")
    assert reported.returncode == 0, reported.stderr[-3000:]
    assert figures(reported.stdout) == figures(done.stdout)
    assert results(folder) == before


def test_frequi_lists_the_demos_result_beside_the_examples(
    first: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = first
    own = folder / "demo_output" / "backtest_results"
    latest = json.loads((own / ".last_result.json").read_text())["latest_backtest"]
    shown = folder / "user_data" / "backtest_results"
    assert (shown / latest).read_bytes() == (own / latest).read_bytes()
    meta = json.loads((shown / latest.replace(".zip", ".meta.json")).read_text())
    assert "itb-demo-e2e" in meta["ITBStrategy"]["notes"]
