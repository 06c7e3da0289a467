"""Helpers to drive FreqTrade with ITBStrategy offline, in child processes, on real candles."""

from __future__ import annotations

import copy
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from itb_ext.evaluation.stored import read_backtest_stats
from tests.support import warm

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
    done = warm.run(argv, cwd=ROOT, env=env, timeout=timeout)
    text = log.read_text(errors="replace") if log.exists() else ""
    return Run(done.returncode, done.stdout, done.stderr, text, userdir)


def latest_backtest(results: Path) -> dict[str, Any]:
    """Statistics of the newest backtest exported into ``results``."""
    return read_backtest_stats(results)


# ---- runs shared by the modules of a test session ---------------------------------------------

#: FreqAI identifier of a shared run; each copy renames it to the identifier its caller asked for.
SHARED_IDENTIFIER = "itb-shared"
RUN_RECORD = "run.json"


def session_folder(factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session that every pytest-xdist worker sees.

    Each worker's base folder lies inside the session's; a serial run has only its own.
    """
    base = factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


def shared_run(factory: pytest.TempPathFactory, key: str, make: Callable[[Path], Run]) -> Run:
    """``make(folder)`` once per test session, by whichever worker asks first.

    The others wait for it (a lock file) and then read the same folder; nobody may change it.
    A run that raised is made again by the next caller.
    """
    root = session_folder(factory) / "shared-runs"
    root.mkdir(exist_ok=True)
    folder = root / key
    record = folder / RUN_RECORD
    with (root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            run = make(folder)
            fields = dataclasses.asdict(run)
            fields["userdir"] = str(run.userdir.relative_to(folder))
            record.write_text(json.dumps(fields))
    fields = json.loads(record.read_text())
    return Run(**{**fields, "userdir": folder / fields["userdir"]})


def shared_backtest(
    factory: pytest.TempPathFactory, settings: dict[str, Any], timerange: str, *extra: str
) -> Run:
    """A private copy of ``backtesting`` run with ``settings`` (see :func:`write_config`).

    Modules that ask for the same settings, timerange and arguments share one FreqTrade run per
    test session; the FreqAI identifier is not part of that: each copy is the caller's own
    folder, with its config and model folder under ``settings['freqai']['identifier']``, to
    change (run again, plant values) without touching another module's.
    """
    identifier = settings["freqai"]["identifier"]
    same = copy.deepcopy(settings)
    same["freqai"]["identifier"] = SHARED_IDENTIFIER
    text = json.dumps([same, timerange, extra], sort_keys=True)
    key = "backtest-" + hashlib.sha256(text.encode()).hexdigest()[:12]

    def backtest(folder: Path) -> Run:
        config = write_config(folder, **same)
        return run_offline(
            "backtesting", config, make_userdir(folder), "--timerange", timerange, *extra
        )

    shared = shared_run(factory, key, backtest)
    mine = factory.mktemp(identifier)
    shutil.copytree(shared.userdir, mine / "user_data")
    models = mine / "user_data" / "models"
    if (models / SHARED_IDENTIFIER).exists():  # not after a run that failed before training
        (models / SHARED_IDENTIFIER).rename(models / identifier)
    write_config(mine, **settings)
    return dataclasses.replace(shared, userdir=mine / "user_data")
