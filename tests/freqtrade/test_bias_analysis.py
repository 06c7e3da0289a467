"""FreqTrade's own bias checks on ITBStrategy with the ITBClassifier FreqAI model, run offline.

``lookahead-analysis`` backtests the strategy once over the whole timerange, then again for every
trade with the timerange cut right after its entry and right after its exit; a signal that moves
or an indicator whose value changes when the future is cut away is reported as biased.
``recursive-analysis`` compares the last candle of the full run with runs that load only a few
hundred candles of history before it; an indicator that changes with the history is reported with
its relative difference per startup-candle count.

Both run on the small walk-forward set-up of ``test_itb_freqai`` (BTC/USD 1h, 60 training days,
retraining every 30 days) with two of the three sample algorithms (``lc`` and ``gb``) for speed.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.freqtrade.conftest import USER_DATA, Run, make_userdir, run_offline, write_config

TIMERANGE = "20190101-20190301"
# The recursive runs load one candle before the end of the timerange, so FreqAI trains their model
# on the 60 days before that candle. Ending the timerange one candle after a retraining (2019-01-31
# 00:00) makes that the model the full run uses at the end too: the comparison is like for like.
RECURSIVE_TIMERANGE = "20190101-20190131T0100"
STARTUP_CANDLES = ("199", "499", "999", "1999")
ALGORITHMS = ("lc", "gb")


def itb_section(algorithms: tuple[str, ...]) -> dict:
    """The sample ``itb`` section restricted to ``algorithms``."""
    section = json.loads((USER_DATA / "itb-sample-1h.json").read_text())["itb"]
    section["algorithms"] = [a for a in section["algorithms"] if a["name"] in algorithms]
    for entry in section["signal_sets"]:
        columns = entry["config"]["columns"]
        if entry["generator"] == "smoothen":
            entry["config"]["columns"] = [c for c in columns if c.rsplit("_", 1)[1] in algorithms]
    return section


SMALL = {
    "exchange": {"pair_whitelist": ["BTC/USD"]},
    "max_open_trades": 1,
    "freqai": {"identifier": "itb-bias", "train_period_days": 60, "backtest_period_days": 30},
    "itb": itb_section(ALGORITHMS),
}
SCORES = [f"{label}_{algo}" for label in ("high_30", "low_30") for algo in ALGORITHMS]


@pytest.fixture(scope="module")
def lookahead(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    folder = tmp_path_factory.mktemp("lookahead")
    userdir = make_userdir(folder)
    config = write_config(folder, **SMALL)
    return run_offline(
        "lookahead-analysis",
        config,
        userdir,
        "--strategy",
        "ITBStrategy",
        "--timerange",
        TIMERANGE,
        "--minimum-trade-amount",
        "3",
        "--targeted-trade-amount",
        "20",
        "--lookahead-analysis-exportfilename",
        str(folder / "lookahead.csv"),
    )


def lookahead_result(run: Run) -> dict[str, str]:
    """The exported row of ITBStrategy (FreqTrade writes it only for a completed analysis)."""
    path = run.userdir.parent / "lookahead.csv"
    assert path.exists(), run.output[-3000:]
    with path.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["strategy"] == "ITBStrategy"]
    assert len(rows) == 1, rows
    return rows[0]


def test_lookahead_analysis_checks_trades_and_finds_no_biased_signal(lookahead: Run) -> None:
    assert lookahead.returncode == 0, lookahead.output[-3000:]
    assert "Traceback" not in lookahead.output
    result = lookahead_result(lookahead)
    assert int(result["total_signals"]) >= 5, result
    assert int(result["biased_entry_signals"]) == 0, result
    assert int(result["biased_exit_signals"]) == 0, result
    assert "found lookahead-bias in trade" not in lookahead.log


def test_lookahead_analysis_finds_no_biased_column_but_freqai_targets(lookahead: Run) -> None:
    result = lookahead_result(lookahead)
    flagged = [c for c in result["biased_indicators"].split(",") if c]
    # FreqTrade's caption: columns made in set_freqai_targets (``&-...``) may be ignored
    assert [c for c in flagged if not c.startswith("&")] == [], result
    assert result["has_bias"] == str(bool(flagged)), result
    assert not re.search(r"found look ahead bias in column (?!&)", lookahead.log)


@pytest.fixture(scope="module")
def recursive(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    folder = tmp_path_factory.mktemp("recursive")
    userdir = make_userdir(folder)
    config = write_config(folder, **SMALL)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "250")  # one table row per line
        return run_offline(
            "recursive-analysis",
            config,
            userdir,
            "--strategy",
            "ITBStrategy",
            "--timerange",
            RECURSIVE_TIMERANGE,
            "--startup-candle",
            *STARTUP_CANDLES,
        )


def recursive_table(run: Run) -> dict[str, dict[str, float]]:
    """Rows of the printed table: indicator -> {startup candles: relative difference in %}.

    An empty dict when FreqTrade found no difference at all (it then prints no table).
    """
    lines = run.stdout.splitlines()
    header = next((ln for ln in lines if "┃ Indicators" in ln), None)
    if header is None:
        assert "No variance on indicator(s) found" in run.log, run.output[-3000:]
        return {}
    startups = re.findall(r"┃\s*(\d+)", header)
    table = {}
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) != len(startups) + 1 or not any(c.endswith("%") for c in cells[1:]):
            continue
        table[cells[0]] = {
            s: float(v.rstrip("%")) for s, v in zip(startups, cells[1:], strict=True) if v != "-"
        }
    return table


def beyond_tolerance(table: dict[str, dict[str, float]], columns: list[str]) -> dict:
    # FreqTrade rounds the relative difference to 12 decimals and prints it with three: a value
    # printed as (-)0.000% is floating-point noise of the model's arithmetic
    return {
        c: v for c, v in table.items() if c in columns and any(abs(x) >= 0.0005 for x in v.values())
    }


def test_recursive_analysis_runs_every_startup_and_finds_no_future_in_indicators(
    recursive: Run,
) -> None:
    assert recursive.returncode == 0, recursive.output[-3000:]
    assert "Traceback" not in recursive.output
    for startup in STARTUP_CANDLES:
        assert f"Calculating indicators using startup candle of {startup}." in recursive.log
    assert "No lookahead bias on indicators found." in recursive.log
    table = recursive_table(recursive)
    assert set(table) <= set(SCORES), table  # signals, do_predict, targets: never different


def test_recursive_analysis_finds_no_history_dependence_in_linear_scores(
    recursive: Run,
) -> None:
    table = recursive_table(recursive)
    assert beyond_tolerance(table, ["high_30_lc", "low_30_lc"]) == {}, table


def test_recursive_analysis_finds_no_history_dependence_in_gb_scores(recursive: Run) -> None:
    table = recursive_table(recursive)
    assert beyond_tolerance(table, ["high_30_gb", "low_30_gb"]) == {}, table
