"""The ``itb-ext`` command: outputs, exit codes and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itb_ext.cli import main

SIGNALS_ONLY = {
    "signal_sets": [
        {
            "generator": "combine",
            "config": {"columns": ["up", "down"], "names": "trade_score", "combine": "difference"},
        },
        {
            "generator": "threshold_rule",
            "config": {
                "columns": "trade_score",
                "names": ["buy", "sell"],
                "parameters": {"buy_signal_threshold": 0.125, "sell_signal_threshold": -0.125},
            },
        },
    ]
}


@dataclass(frozen=True)
class CliRun:
    """What one ``itb-ext`` call ended with: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., CliRun]


def exit_status(code: object) -> int:
    """The process exit status ``SystemExit(code)`` stands for (``None`` is success)."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``itb-ext <args>`` in this process: :func:`itb_ext.cli.main` and what it printed.

    argparse ends ``--help``, ``--version`` and usage errors with ``SystemExit``; its code is the
    exit status the installed command would return.
    """

    def run(*args: str | Path) -> CliRun:
        capsys.readouterr()  # only this call's output
        try:
            status = main([str(a) for a in args])
        except SystemExit as stop:
            status = exit_status(stop.code)
        out, err = capsys.readouterr()
        return CliRun(status, out, err)

    return run


@pytest.fixture
def scored_candles(tmp_path: Path) -> Path:
    n = 6
    df = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": np.linspace(100, 105, n),
            "high": np.linspace(101, 106, n),
            "low": np.linspace(99, 104, n),
            "close": np.linspace(100.5, 105.5, n),
            "volume": np.ones(n),
            "up": [0.5, 0.75, 0.25, 0.625, 0.375, 0.375],
            "down": [0.5, 0.25, 0.625, 0.5, 0.5, 0.25],
        }
    )
    path = tmp_path / "candles.feather"
    df.to_feather(path)
    return path


def write_config(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "itb.jsonc"
    path.write_text("// an ITB config\n" + json.dumps(doc))
    return path


def test_compute_writes_inputs_and_signals(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    out = tmp_path / "out.parquet"
    result = run_cli(
        "compute",
        "--config",
        write_config(tmp_path, SIGNALS_ONLY),
        "--data",
        scored_candles,
        "--out",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    df = pd.read_parquet(out)
    assert list(df.columns) == [
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "up",
        "down",
        "trade_score",
        "buy",
        "sell",
    ]
    assert df["buy"].tolist() == [False, True, False, True, False, True]
    assert df["sell"].tolist() == [False, False, True, False, True, False]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns="volume"), "missing column 'volume'"),
        (lambda d: d.assign(close=d["close"].where(d.index != 3)), r"'close'.*NaN at row 3"),
        (lambda d: d.assign(high=-d["high"]), r"'high'.*non-positive"),
        (lambda d: d.iloc[[0, 2, 1, 3, 4, 5]], "unsorted time"),
        (lambda d: d.iloc[[0, 1, 1, 3, 4, 5]], "duplicated time"),
        (
            lambda d: d.drop(columns="down"),
            r"signal_sets\[0\] \(combine\): missing input column 'down'",
        ),
    ],
)
def test_compute_bad_data_exits_2_with_one_line_and_no_output(
    run_cli: Cli, tmp_path: Path, scored_candles: Path, mutate, message: str
) -> None:
    bad = tmp_path / "bad.parquet"
    mutate(pd.read_feather(scored_candles)).reset_index(drop=True).to_parquet(bad)
    out = tmp_path / "out.parquet"
    result = run_cli(
        "compute",
        "--config",
        write_config(tmp_path, SIGNALS_ONLY),
        "--data",
        bad,
        "--out",
        out,
        "--quiet",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert pytest.importorskip("re").search(message, result.stderr), result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.parquet",
        "candles.feather",
        "itb.jsonc",
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"signal_sets": [{"generator": "wobble", "config": {}}]}, "unknown generator 'wobble'"),
        (
            {
                "signal_sets": [
                    {
                        "generator": "combine",
                        "config": {"columns": ["up", "down"], "names": "s", "window": 3},
                    }
                ]
            },
            r"signal_sets\[0\] \(combine\): config: unknown key 'window'",
        ),
        (
            {
                "signal_sets": [
                    {
                        "generator": "threshold_rule",
                        "config": {
                            "columns": "s",
                            "names": ["b", "s2"],
                            "parameters": {"buy_signal_threshold": "high"},
                        },
                    }
                ]
            },
            "parameters.buy_signal_threshold",
        ),
    ],
)
def test_compute_bad_config_exits_2_naming_entry_and_key(
    run_cli: Cli, tmp_path: Path, scored_candles: Path, doc: dict, message: str
) -> None:
    out = tmp_path / "out.parquet"
    result = run_cli(
        "compute", "--config", write_config(tmp_path, doc), "--data", scored_candles, "--out", out
    )
    assert result.returncode == 2
    assert pytest.importorskip("re").search(message, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_files_are_named(run_cli: Cli, tmp_path: Path, scored_candles: Path) -> None:
    result = run_cli(
        "compute",
        "--config",
        tmp_path / "none.jsonc",
        "--data",
        scored_candles,
        "--out",
        tmp_path / "o.parquet",
    )
    assert result.returncode == 2
    assert "none.jsonc: config file not found" in result.stderr
    result = run_cli(
        "compute",
        "--config",
        write_config(tmp_path, SIGNALS_ONLY),
        "--data",
        tmp_path / "none.feather",
        "--out",
        tmp_path / "o.parquet",
    )
    assert result.returncode == 2
    assert "none.feather: file not found" in result.stderr


def test_unknown_output_type_and_usage_errors_exit_2(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    cfg = write_config(tmp_path, SIGNALS_ONLY)
    result = run_cli(
        "compute", "--config", cfg, "--data", scored_candles, "--out", tmp_path / "o.xls"
    )
    assert result.returncode == 2
    assert "unsupported output type '.xls'" in result.stderr
    result = run_cli("compute", "--config", cfg)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_cli(
        "compute",
        "--config",
        cfg,
        "--data",
        scored_candles,
        "--out",
        tmp_path / "o.parquet",
        "--only",
        "feature",
    )
    assert result.returncode == 2 and "unknown stage 'feature'" in result.stderr


@pytest.mark.parametrize("command", [[], ["compute"], ["simulate"], ["freqtrade"]])
def test_every_command_has_help(run_cli: Cli, command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage" in result.stdout.lower()


SIMULATE = {
    **SIGNALS_ONLY,
    "simulate_model": {
        "direction": "long",
        "topn_to_store": 3,
        "fee": 0.0,
        "grid": {"buy_signal_threshold": [0.125, 0.5], "sell_signal_threshold": [-0.125]},
    },
}


def test_simulate_ranks_the_threshold_grid(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    out = tmp_path / "ranked.csv"
    result = run_cli(
        "simulate",
        "--config",
        write_config(tmp_path, SIMULATE),
        "--data",
        scored_candles,
        "--out",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert table["buy_signal_threshold"].tolist() == [0.125, 0.5]
    # buy 0.125: BUY row 1 (close 101.5), SELL row 2 (102.5), BUY row 3 (103.5), SELL row 4 (104.5)
    first = table.iloc[0]
    assert first["#transactions"] == 2
    assert first["profit"] == pytest.approx(2.0)
    assert first["%profit"] == pytest.approx(100 / 101.5 + 100 / 103.5)
    # buy 0.5: BUY row 1, SELL row 2: one trade
    assert table.iloc[1]["#transactions"] == 1
    assert "buy_signal_threshold" in result.stdout


@pytest.mark.parametrize("suffix", [".json", ".md"])
def test_simulate_writes_json_and_markdown(
    run_cli: Cli, tmp_path: Path, scored_candles: Path, suffix: str
) -> None:
    out = tmp_path / f"ranked{suffix}"
    result = run_cli(
        "simulate",
        "--config",
        write_config(tmp_path, SIMULATE),
        "--data",
        scored_candles,
        "--out",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    if suffix == ".json":
        rows = json.loads(text)
        assert rows[0]["%profit/M"] >= rows[1]["%profit/M"]
    else:
        header = next(line for line in text.splitlines() if line.startswith("|"))
        assert header.startswith("| buy_signal_threshold |")
        assert "%profit/M" in header


def test_simulate_rejects_a_grid_expression_it_cannot_parse(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    doc = json.loads(json.dumps(SIMULATE))
    doc["simulate_model"]["grid"]["buy_signal_threshold"] = "__import__('os').system('true')"
    out = tmp_path / "ranked.csv"
    result = run_cli(
        "simulate", "--config", write_config(tmp_path, doc), "--data", scored_candles, "--out", out
    )
    assert result.returncode == 2
    assert "simulate_model" in result.stderr and "buy_signal_threshold" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


# ---- first use: FreqTrade configs, empty files, version, usage, readable tables -----------------

REPO = Path(__file__).resolve().parents[2]


def test_compute_uses_the_itb_section_of_a_freqtrade_config(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    (tmp_path / "pipeline.json").write_text(json.dumps({"itb": SIGNALS_ONLY}))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"add_config_files": ["pipeline.json"], "timeframe": "1h"}))
    out = tmp_path / "out.parquet"
    result = run_cli("compute", "--config", config, "--data", scored_candles, "--out", out)
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out)
    # difference of up and down, then the 0.125 / -0.125 levels
    np.testing.assert_allclose(table["trade_score"], [0.0, 0.5, -0.375, 0.125, -0.125, 0.125])
    assert table["buy"].tolist() == [False, True, False, True, False, True]
    assert table["sell"].tolist() == [False, False, True, False, True, False]


def test_compute_on_the_shipped_freqtrade_config_computes_its_features_and_labels(
    run_cli: Cli, tmp_path: Path
) -> None:
    candles = pd.read_feather(REPO / "user_data/data/bitfinex/BTC_USD-1h.feather").iloc[:400]
    data = tmp_path / "btc.feather"
    candles.to_feather(data)
    out = tmp_path / "out.parquet"
    config = REPO / "user_data/config.json"
    result = run_cli(
        "compute", "--config", config, "--data", data, "--out", out, "--only", "features,labels"
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out)
    expected_sma = candles["close"].rolling(24).mean().to_numpy()
    np.testing.assert_allclose(table["close_SMA_24"], expected_sma, rtol=1e-12)
    assert {"close_LINEARREG_SLOPE_168", "high_30", "low_30"} <= set(table.columns)
    # the signals read model scores FreqAI makes: a clear refusal, not an empty success
    result = run_cli("compute", "--config", config, "--data", data, "--out", out, "--quiet")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "high_30_svc" in result.stderr and "--only features,labels" in result.stderr


def test_compute_refuses_a_config_with_nothing_to_compute(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    out = tmp_path / "out.parquet"
    for name, doc in (
        ("freqtrade.json", {"strategy": "ITBStrategy", "add_config_files": []}),
        ("other.json", {"timeframe": "1h"}),
    ):
        config = tmp_path / name
        config.write_text(json.dumps(doc))
        result = run_cli("compute", "--config", config, "--data", scored_candles, "--out", out)
        assert result.returncode == 2, name
        assert result.stderr.count("\n") == 1 and name in result.stderr
        assert not out.exists()


def test_compute_refuses_an_empty_candle_file(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    empty = tmp_path / "empty.feather"
    pd.read_feather(scored_candles).iloc[:0].reset_index(drop=True).to_feather(empty)
    out = tmp_path / "out.parquet"
    result = run_cli(
        "compute", "--config", write_config(tmp_path, SIGNALS_ONLY), "--data", empty, "--out", out
    )
    assert result.returncode == 2
    assert result.stderr == f"itb-ext: error: {empty}: no candles (the file has 0 rows)\n"
    assert not out.exists()


def test_version_and_usage_without_a_command(run_cli: Cli) -> None:
    from itb_ext import __version__

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"itb-ext {__version__}"
    result = run_cli()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: itb-ext")
    for command in ("compute", "simulate", "freqtrade"):
        assert command in result.stderr


def test_simulate_markdown_is_rounded_and_says_how_to_read_it(
    run_cli: Cli, tmp_path: Path, scored_candles: Path
) -> None:
    doc = json.loads(json.dumps(SIMULATE))
    doc["simulate_model"]["fee"] = 0.001
    out = tmp_path / "ranked.md"
    result = run_cli(
        "simulate",
        "--config",
        write_config(tmp_path, doc),
        "--data",
        scored_candles,
        "--out",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    notes, _, table = text.partition("\n\n")
    assert "ranked by `%profit/M`" in notes
    assert "quote currency" in notes and "0.1 % per side" in notes and "In-sample" in notes
    header, _, *rows = table.strip().splitlines()
    columns = [c.strip() for c in header.strip("|").split("|")]
    first = dict(zip(columns, (v.strip() for v in rows[0].strip("|").split("|")), strict=True))
    # buy 0.125: long 101.5 -> 102.5 and 103.5 -> 104.5 with 0.1 % per side
    profit = (102.5 * 0.999 - 101.5 * 1.001) + (104.5 * 0.999 - 103.5 * 1.001)
    percent = 100 * (102.5 * 0.999 / (101.5 * 1.001) - 1 + 104.5 * 0.999 / (103.5 * 1.001) - 1)
    assert first["profit"] == f"{round(profit, 2):.10g}"
    assert first["%profit"] == f"{round(percent, 1):.10g}"
    for row in rows:
        for value in row.strip("|").split("|"):
            decimals = value.strip().partition(".")[2]
            assert len(decimals) <= 6, row
    assert "ranked by `%profit/M`" in result.stdout


# ---- the installed command: what only a process of its own shows -------------------------------


def installed(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the ``itb-ext`` console script installed beside this interpreter."""
    script = Path(sys.executable).with_name("itb-ext")
    assert script.is_file(), f"{script} missing: install the project (pip install -e .)"
    return subprocess.run(
        [str(script), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )


def test_the_installed_command_reports_bad_data_in_one_line_without_a_traceback(
    tmp_path: Path, scored_candles: Path
) -> None:
    bad = tmp_path / "bad.parquet"
    pd.read_feather(scored_candles).drop(columns="volume").to_parquet(bad)
    out = tmp_path / "out.parquet"
    config = write_config(tmp_path, SIGNALS_ONLY)
    result = installed("compute", "--config", config, "--data", bad, "--out", out, "--quiet")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.startswith("itb-ext: error: ") and "missing column 'volume'" in result.stderr
    )
    assert not out.exists()


def test_freqtrade_help_explains_offline_mode() -> None:
    # FreqTrade's own parser prints the rest and sets up its logging for the whole process
    result = installed("freqtrade", "--help")
    assert result.returncode == 0
    head, _, rest = result.stdout.partition("usage: freqtrade")
    assert "Offline mode" in head and "download-data" in head and "--no-trades" in head
    assert "ITB_EXT_MARKETS_DIR" in head
    assert rest, "FreqTrade's own help follows"
    result = installed("freqtrade")
    assert result.returncode == 2 and "Offline mode" in result.stdout
