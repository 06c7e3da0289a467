"""A new user's path: ``freqtrade create-userdir``, ``itb-ext init``, then an offline backtest.

Nothing is copied by hand but the candles (there is no network to download them): the strategy,
the model, the preset and the config all come from ``itb-ext init``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from itb_ext.adapters.shipped import SHIPPED_PATTERNS
from itb_ext.evaluation.stored import read_backtest_stats, read_window_predictions
from tests.support import warm

ROOT = Path(__file__).resolve().parents[2]
CANDLES = ROOT / "user_data" / "data" / "bitfinex"
TIMERANGE = "20190101-20190131"  # one 30-day FreqAI window: one training


def run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in (env or os.environ).items() if k != "PYTEST_VERSION"}
    return warm.run([sys.executable, *argv], cwd=cwd, env=environment, timeout=1200)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Path:
    """A user-data folder made by FreqTrade and set up by ``itb-ext init``, with candles."""
    folder = tmp_path_factory.mktemp("newuser")
    made = run("-m", "freqtrade", "create-userdir", "--userdir", "ud", cwd=folder)
    assert made.returncode == 0, made.stderr[-2000:]
    done = run(
        "-m", "itb_ext.cli", "init", "--userdir", "ud", "--exchange", "bitfinex",
        "--pair", "BTC/USD", cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    userdir = folder / "ud"
    (userdir / "data" / "bitfinex").mkdir(parents=True, exist_ok=True)
    shutil.copy(CANDLES / "BTC_USD-1h.feather", userdir / "data" / "bitfinex")
    return userdir


def test_offline_backtest_of_the_starter_config_trains_predicts_and_trades(
    initialised: Path,
) -> None:
    folder = initialised.parent
    done = run(
        "-m", "itb_ext.cli", "freqtrade", "backtesting", "--config", "ud/config-itb.json",
        "--userdir", "ud", "--timerange", TIMERANGE, "--export", "trades", cwd=folder,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert output.count("Done training BTC/USD") == 1
    # the starter config's identifier names the preset it includes
    predictions = read_window_predictions(initialised / "models" / "itb-stationary-1h", "BTC/USD")
    # every hourly candle of 2019-01-01 00:00 .. 2019-01-31 00:00, the end candle included
    assert len(predictions) == 30 * 24 + 1
    scores = predictions[["high_30_svc", "high_30_lc", "high_30_gb", "low_30_lc"]].to_numpy()
    assert np.isfinite(scores).all()
    assert ((scores > 0) & (scores < 1)).all()
    stats = read_backtest_stats(initialised / "backtest_results")["strategy"]["ITBStrategy"]
    assert stats["total_trades"] > 0
    assert stats["stake_currency"] == "USD"
    # no single stake came near the wallet: sized at a tenth of equity by itb.risk
    wallet = stats["starting_balance"]
    assert max(t["stake_amount"] for t in stats["trades"]) <= 0.11 * wallet


def test_the_wheel_carries_the_shipped_files_and_init_installs_them_from_it(
    tmp_path: Path, freqtrade_installed: None
) -> None:
    """Built as pip builds it for a user; imported from the unpacked wheel, not the checkout."""
    # a copy of what a source distribution holds, so the build leaves the checkout untouched
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "itb_ext", source / "itb_ext", ignore=shutil.ignore_patterns("__py*"))
    for pattern in SHIPPED_PATTERNS:
        for path in (ROOT / "user_data").glob(pattern):
            relative = path.relative_to(ROOT)
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, source / relative)
    built = run(
        "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
        str(source), cwd=tmp_path,
    )  # fmt: skip
    if built.returncode != 0 and "No matching distribution" in built.stderr:
        pytest.skip("the build backend cannot be installed here (no package index)")
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("itb_freqai-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n for n in names if n.startswith("itb_ext/adapters/shipped/")}
    expected = {
        "itb_ext/adapters/shipped/strategies/ITBStrategy.py",
        "itb_ext/adapters/shipped/freqaimodels/ITBClassifier.py",
        *(f"itb_ext/adapters/shipped/{p.name}" for p in (ROOT / "user_data").glob("itb-*.json")),
    }
    assert shipped == expected
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    userdir = tmp_path / "ud"
    (userdir / "strategies").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = run("-m", "itb_ext.cli", "init", "--userdir", str(userdir), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    target = (userdir / "strategies" / "ITBStrategy.py").resolve()
    assert target == installed / "itb_ext" / "adapters" / "shipped" / "strategies" / target.name
    assert target.read_bytes() == (ROOT / "user_data" / "strategies" / target.name).read_bytes()
    config = json.loads((userdir / "config-itb.json").read_text())
    assert (userdir / config["add_config_files"][0]).resolve().parent == target.parents[1]
