"""FreqUI's chart endpoint in webserver mode: stored predictions shown, others refused clearly."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.freqtrade.conftest import (
    CANDLES,
    ROOT,
    USER_DATA,
    make_userdir,
    run_offline,
    write_config,
)

BACKTESTED = "20190101-20190131"  # one 30-day window: one training
SAMPLE = json.loads((USER_DATA / "itb-sample-1h.json").read_text())["itb"]
USER, PASSWORD = "trader", "chart-password"


def small_itb() -> dict[str, Any]:
    """The sample pipeline with logistic regression only (quick to train)."""
    section = json.loads(json.dumps(SAMPLE))
    section["algorithms"] = [a for a in section["algorithms"] if a["name"] == "lc"]
    for entry in section["signal_sets"][:2]:
        entry["config"]["columns"] = [c for c in entry["config"]["columns"] if c.endswith("_lc")]
    return section


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(
    tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None
) -> Iterator[tuple[int, Path, Path]]:
    folder = tmp_path_factory.mktemp("charts")
    userdir = make_userdir(folder)
    config = write_config(
        folder,
        exchange={"pair_whitelist": ["BTC/USD"]},
        max_open_trades=1,
        freqai={"identifier": "itb-chart", "train_period_days": 60, "backtest_period_days": 30},
        itb=small_itb(),
    )
    backtest = run_offline("backtesting", config, userdir, "--timerange", BACKTESTED)
    assert backtest.returncode == 0, backtest.output[-3000:]
    # the webserver takes no --strategy-path/--freqaimodel-path: both come from the userdir
    shutil.copytree(USER_DATA / "freqaimodels", userdir / "freqaimodels", dirs_exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    env.update(
        {
            "FREQTRADE__API_SERVER__ENABLED": "true",
            "FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS": "127.0.0.1",
            "FREQTRADE__API_SERVER__LISTEN_PORT": str(port),
            "FREQTRADE__API_SERVER__USERNAME": USER,
            "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "0123456789abcdef0123456789abcdef",
            "FREQTRADE__API_SERVER__WS_TOKEN": "chart-token",
        }
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "itb_ext.adapters.offline",
            "webserver",
            "--config",
            str(config),
            "--userdir",
            str(userdir),
            "--datadir",
            str(CANDLES),
            "--logfile",
            str(userdir / "logs" / "webserver.log"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(port, "/api/v1/ping")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, "webserver exited"
                assert time.monotonic() < deadline, "webserver did not answer"
                time.sleep(1)
        yield port, userdir, config
    finally:
        server.terminate()
        server.wait(timeout=30)


def get(port: int, path: str, **query: str) -> Any:
    url = f"http://127.0.0.1:{port}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def chart(port: int, timerange: str) -> Any:
    return get(
        port,
        "/api/v1/pair_history",
        pair="BTC/USD",
        timeframe="1h",
        timerange=timerange,
        strategy="ITBStrategy",
    )


def test_a_backtested_timerange_charts_the_stored_predictions(
    webserver: tuple[int, Path, Path],
) -> None:
    port, _, _ = webserver
    answer = chart(port, BACKTESTED)
    columns = answer["columns"]
    rows = [dict(zip(columns, row, strict=True)) for row in answer["data"]]
    assert rows and rows[0]["date"].startswith("2019-01-01")
    for column in ("trade_score", "high_30", "low_30", "high_30_lc", "low_30_lc"):
        assert column in columns, column
        values = [r[column] for r in rows if r[column] is not None]
        assert len(values) >= 0.95 * len(rows), column


def test_a_timerange_without_stored_predictions_is_refused_clearly(
    webserver: tuple[int, Path, Path],
) -> None:
    port, userdir, _ = webserver
    models = userdir / "models" / "itb-chart"
    trained = sorted(p.name for p in models.glob("sub-train-*"))
    with pytest.raises(urllib.error.HTTPError) as failure:
        chart(port, "20190301-20190401")
    detail = json.loads(failure.value.read())["detail"]
    assert failure.value.code == 502
    assert detail.startswith("ITB chart of BTC/USD 20190301-20190401: no stored predictions")
    assert "run backtesting with --timerange 20190301-20190401 first" in detail
    assert "all training data dropped" not in detail
    # refused before training: no model beyond the backtest's
    assert trained and sorted(p.name for p in models.glob("sub-train-*")) == trained


def test_plot_dataframe_charts_the_backtest_and_refuses_other_timeranges(
    webserver: tuple[int, Path, Path],
) -> None:
    _, userdir, config = webserver
    run = run_offline("plot-dataframe", config, userdir, "--timerange", BACKTESTED)
    assert run.returncode == 0, run.output[-3000:]
    plots = list((userdir / "plot").glob("*BTC_USD*.html"))
    assert plots and "trade_score" in plots[0].read_text()
    run = run_offline("plot-dataframe", config, userdir, "--timerange", "20190301-20190401")
    assert run.returncode != 0
    assert "ITB chart of BTC/USD 20190301-20190401: no stored predictions" in run.output
