"""Helpers to drive FreqTrade with ITBStrategy offline, in child processes, on real candles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from itb_ext.evaluation.stored import read_backtest_stats

ROOT = Path(__file__).resolve().parents[2]
USER_DATA = ROOT / "user_data"
CANDLES = USER_DATA / "data" / "bitfinex"


@dataclass
class Run:
    """A finished FreqTrade command: exit code, output and where it wrote."""

    returncode: int
    stdout: str
    stderr: str
    log: str
    userdir: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr + self.log


def write_config(folder: Path, **overrides: Any) -> Path:
    """A config that extends the stationary preset's demo config (bitfinex, 1h) with
    ``overrides`` merged on top."""
    config = {"add_config_files": [str(USER_DATA / "config.demo-stationary.json")], **overrides}
    path = folder / "config.json"
    path.write_text(json.dumps(config, indent=1))
    return path


def make_userdir(folder: Path) -> Path:
    """A FreqTrade user-data folder with its own copy of the strategy.

    The copy keeps a hyperopt parameter file (``ITBStrategy.json``) a developer may have beside
    the repository's strategy from changing what the tests run.
    """
    userdir = folder / "user_data"
    for sub in ("models", "backtest_results", "hyperopt_results", "logs", "plot", "strategies"):
        (userdir / sub).mkdir(parents=True, exist_ok=True)
    for source in (USER_DATA / "strategies").glob("*.py"):
        shutil.copy(source, userdir / "strategies" / source.name)
    return userdir


def run_offline(command: str, config: Path, userdir: Path, *extra: str, timeout: int = 1200) -> Run:
    """Run ``itb-ext freqtrade <command>`` for ITBStrategy in a child process."""
    log = userdir / "logs" / f"{command}.log"
    log.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "itb_ext.adapters.offline",
        command,
        "--config",
        str(config),
        "--userdir",
        str(userdir),
        "--datadir",
        str(CANDLES),
        "--strategy-path",
        str(userdir / "strategies"),
        "--freqaimodel-path",
        str(USER_DATA / "freqaimodels"),
        "--logfile",
        str(log),
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    text = log.read_text(errors="replace") if log.exists() else ""
    return Run(done.returncode, done.stdout, done.stderr, text, userdir)


def latest_backtest(results: Path) -> dict[str, Any]:
    """Statistics of the newest backtest exported into ``results``."""
    return read_backtest_stats(results)


@pytest.fixture(scope="session")
def freqtrade_installed() -> None:
    pytest.importorskip("freqtrade")
