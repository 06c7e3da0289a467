"""``itb-ext report`` on a real walk-forward backtest: its figures agree with FreqTrade's and
with the stored predictions, and Chromium draws every plot of the HTML offline."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from itb_ext.adapters.report import load_freqtrade_config
from itb_ext.evaluation.stored import (
    fill_missing_candles,
    read_stored_models,
    read_window_predictions,
)
from itb_ext.strategy.setup import ITBSetup
from tests.freqtrade.conftest import (
    CANDLES,
    ROOT,
    Run,
    latest_backtest,
    make_userdir,
    shared_backtest,
    write_config,
)
from tests.support import warm
from tests.support.browser import rendered_dom

TIMERANGE = "20190101-20190301"
SMALL = {
    "exchange": {"pair_whitelist": ["BTC/USD"]},
    "max_open_trades": 1,
    "freqai": {
        "identifier": "itb-report",
        "train_period_days": 60,
        "backtest_period_days": 30,
        "save_backtest_models": True,
    },
}


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory, freqtrade_installed: None) -> Run:
    # the backtest of test_itb_freqai.py: one FreqTrade run per test session serves both
    run = shared_backtest(tmp_path_factory, SMALL, TIMERANGE, "--export", "trades")
    assert run.returncode == 0, run.output[-3000:]
    return run


def itb_report(config: Path, userdir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return warm.run(
        [
            sys.executable,
            "-m",
            "itb_ext.cli",
            "report",
            "--config",
            str(config),
            "--userdir",
            str(userdir),
            "--datadir",
            str(CANDLES),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        timeout=600,
    )


@pytest.fixture(scope="module")
def report(backtest: Run) -> Path:
    out = backtest.userdir.parent / "report"
    done = itb_report(backtest.userdir.parent / "config.json", backtest.userdir, out)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return out


def setup_of(run: Run) -> ITBSetup:
    """The itb section the backtest ran with (the demo config's preset)."""
    return ITBSetup.from_freqtrade_config(load_freqtrade_config(run.userdir.parent / "config.json"))


def _table(text: str, heading: str) -> list[list[str]]:
    block = text.split(heading, 1)[1].strip().split("\n\n", 1)[0]
    return [line.split() for line in block.splitlines()[1:]]


def test_model_quality_matches_the_stored_out_of_sample_predictions(
    backtest: Run, report: Path
) -> None:
    text = (report / "report.txt").read_text()
    rows = {r[1]: r for r in _table(text, "== Model quality, all windows")}
    setup = setup_of(backtest)
    preds = read_window_predictions(backtest.userdir / "models" / "itb-report", "BTC/USD")
    candles = fill_missing_candles(pd.read_feather(CANDLES / "BTC_USD-1h.feather"), "1h")
    labels = setup.label_frame(candles).assign(date=candles["date"].to_numpy())
    joined = preds.merge(labels, on="date")
    assert set(rows) == set(setup.score_columns)
    for column in setup.score_columns:
        label = column.rsplit("_", 1)[0]
        ok = joined[label].notna() & (joined["do_predict"] == 1)
        y = joined.loc[ok, label].astype(bool)
        p = joined.loc[ok, column]
        _, _, candles_n, _, auc, ap, brier = rows[column]
        assert int(candles_n) == ok.sum()
        assert float(auc) == pytest.approx(roc_auc_score(y, p), abs=5e-4)
        assert float(ap) == pytest.approx(average_precision_score(y, p), abs=5e-4)
        assert float(brier) == pytest.approx(((p - y) ** 2).mean(), abs=5e-4)
    assert re.search(r"mean out-of-sample AUC over 6 models: 0\.\d{3}", text)


def _number(cell: str) -> float:
    return float("nan") if cell == "n/a" else float(cell)


def daily_drawdown(stats: dict[str, Any], candles: pd.DataFrame) -> float:
    """Largest fall from its peak of the account marked at every midnight of the backtest: the
    closed trades' profits plus each open trade's value at the close of the candle that ends
    at midnight, less its entry fee."""
    close = candles.set_index("date")["close"]
    start = pd.Timestamp(stats["backtest_start"], tz="UTC")
    end = pd.Timestamp(stats["backtest_end"], tz="UTC") + pd.Timedelta(hours=1)
    values = [float(stats["starting_balance"])]
    for midnight in pd.date_range(start + pd.Timedelta(days=1), end.ceil("D"), freq="D"):
        price = close[close.index < midnight].iloc[-1]
        value = float(stats["starting_balance"])
        for t in stats["trades"]:
            opened, closed = pd.Timestamp(t["open_date"]), pd.Timestamp(t["close_date"])
            if closed <= midnight:
                value += t["profit_abs"]
            elif opened <= midnight:
                value += t["amount"] * (price - t["open_rate"]) - t["stake_amount"] * t["fee_open"]
        values.append(value)
    peak, worst = values[0], 0.0
    for value in values:
        peak = max(peak, value)
        worst = max(worst, 1 - value / peak)
    return worst


def test_trading_figures_match_freqtrade_after_fees(backtest: Run, report: Path) -> None:
    stats = latest_backtest(backtest.userdir / "backtest_results")["strategy"]["ITBStrategy"]
    assert stats["total_trades"] > 0
    text = (report / "report.txt").read_text()
    rows = {r[0]: r for r in _table(text, "== Trading, after fees")}
    # return, Sharpe, Sortino, Calmar, max drawdown, trades, win rate, profit factor, average
    strategy = [_number(v) for v in rows["strategy"][1:]]
    assert strategy[0] == pytest.approx(100 * stats["profit_total"], abs=0.01)
    candles = fill_missing_candles(pd.read_feather(CANDLES / "BTC_USD-1h.feather"), "1h")
    assert strategy[4] == pytest.approx(100 * daily_drawdown(stats, candles), abs=0.01)
    assert strategy[5] == stats["total_trades"]
    wins = sum(t["profit_ratio"] > 0 for t in stats["trades"])
    assert strategy[6] == pytest.approx(100 * wins / stats["total_trades"], abs=0.01)
    # bought at the open of the first backtested candle, sold at the close of the last one
    indexed = candles.set_index("date")
    first = indexed.loc[pd.Timestamp(stats["backtest_start"], tz="UTC"), "open"]
    last = indexed.loc[pd.Timestamp(stats["backtest_end"], tz="UTC"), "close"]
    assert pd.Timestamp(stats["backtest_end"], tz="UTC") == pd.Timestamp("2019-03-01", tz="UTC")
    # paying the backtest's slippage (5 bps) on both fills, as the strategy's fills do
    hold = 100 * (last * 0.9995 / (first * 1.0005) * 0.999 / 1.001 - 1)
    assert float(rows["buy_and_hold"][1]) == pytest.approx(hold, abs=0.01)
    assert "buy_and_hold after fees of 0.10% per side and slippage 0.05% per fill" in text


def test_header_names_the_timerange_config_and_identifier(report: Path) -> None:
    text = (report / "report.txt").read_text()
    header = text.splitlines()[1]
    assert header.startswith("timerange 20190101-20190301; config ")
    assert "config.json; FreqAI identifier 'itb-report'" in header
    assert (
        "<title>Walk-forward report: itb-report, BTC/USD 1h, 20190101-20190301</title>"
        in (report / "report.html").read_text()
    )


def test_edge_section_shows_freqtrades_figures_and_the_luck_tests(
    backtest: Run, report: Path
) -> None:
    text = (report / "report.txt").read_text()
    edge = text.split("== Edge per pair", 1)[1].split("== Model quality", 1)[0]
    assert "Walk-forward, out of sample" in edge
    assert "fee 0.10 % and slippage 0.05 % per fill" in edge
    stats = latest_backtest(backtest.userdir / "backtest_results")["strategy"]["ITBStrategy"]
    returned = re.search(r"^  return %\s+(\S+)$", edge, re.MULTILINE)
    assert returned is not None
    assert float(returned.group(1)) == pytest.approx(100 * stats["profit_total"], abs=0.05)
    # 59 days: too short for the placebo's 30-day shifts each way, said in the verdict
    assert re.search(r"^  placebo percentile \(200 shifts\)\s+n/a$", edge, re.MULTILINE)
    flat = " ".join(edge.split())
    assert re.search(r"BTC/USD: \S[^:]*; no luck tests \(they need 60 days or more\)", flat)
    assert re.search(r"^  buy-and-hold\s+-?\d+\.\d\d / [+-]\d+ / \d+$", edge, re.MULTILINE)
    assert all(len(line) <= 100 for line in edge.splitlines())
    # the HTML shows the very same text
    assert html.escape(edge.strip()).splitlines()[0] in (report / "report.html").read_text()


def test_a_report_reads_only_the_windows_of_its_backtest(backtest: Run, report: Path) -> None:
    """Another backtest with the same identifier left a window of its own (overlapping dates):
    the report's figures stay those of its own backtest."""
    folder = backtest.userdir / "models" / "itb-report" / "backtesting_predictions"
    first = sorted(folder.glob("cb_btc_*_prediction.feather"))[0]
    stray = pd.read_feather(first)
    stray["high_30_lc"] = 1 - stray["high_30_lc"]  # a model that would read very differently
    later = int(first.name.split("_")[2]) + 15 * 86400
    stray.to_feather(folder / f"cb_btc_{later}_prediction.feather")
    again = backtest.userdir.parent / "report-stray"
    done = itb_report(backtest.userdir.parent / "config.json", backtest.userdir, again)
    (folder / f"cb_btc_{later}_prediction.feather").unlink()
    assert done.returncode == 0, done.stderr[-3000:]
    before = _table((report / "report.txt").read_text(), "== Model quality, all windows")
    after = _table((again / "report.txt").read_text(), "== Model quality, all windows")
    assert after == before


def test_stored_models_recomputed_features_reproduce_the_predictions(backtest: Run) -> None:
    model_dir = backtest.userdir / "models" / "itb-report"
    models = read_stored_models(model_dir, "BTC/USD")
    assert len(models) == 2
    setup = setup_of(backtest)
    candles = fill_missing_candles(pd.read_feather(CANDLES / "BTC_USD-1h.feather"), "1h")
    features = setup.feature_frame(candles).set_index(candles["date"])
    preds = read_window_predictions(model_dir, "BTC/USD")
    for model in models:
        window = preds[preds["window"] == model.window].iloc[:256]
        again = model.predict(features.reindex(pd.DatetimeIndex(window["date"])))
        for column in setup.score_columns:
            np.testing.assert_allclose(
                again[column].to_numpy(), window[column].to_numpy(), atol=1e-9
            )


def test_report_lists_importance_per_window(report: Path) -> None:
    text = (report / "report.txt").read_text()
    assert "== Permutation importance" in text
    assert "no stored models" not in text


def test_a_second_report_reads_the_kept_importance_back(backtest: Run, report: Path) -> None:
    kept = sorted((backtest.userdir / "models" / "itb-report").glob("*/itb_importance.json"))
    assert len(kept) == 2
    for path in kept:
        path.write_text(path.read_text().replace('"auc_drop": {', '"auc_drop": {"%-x": 9.5,', 1))
    again = backtest.userdir.parent / "report-again"
    done = itb_report(backtest.userdir.parent / "config.json", backtest.userdir, again)
    assert done.returncode == 0, done.stderr[-3000:]
    # the planted value can only come from the kept files
    assert re.search(r"^x\s+9\.500$", (again / "report.txt").read_text(), re.MULTILINE)


def test_chromium_draws_every_figure_offline(report: Path) -> None:
    page = report / "report.html"
    source = page.read_text()
    assert "<script src=" not in source  # nothing fetched: plotly's JS is inside the page
    figures = len(re.findall(r'<div id="figure-\d+"', source))
    # quality, reliability, direction, equity, levels and importance of the one pair
    assert figures == 6
    dom = rendered_dom(page)
    drawn = set(re.findall(r'id="(figure-\d+)"[^>]*class="[^"]*js-plotly-plot', dom))
    drawn |= set(re.findall(r'class="[^"]*js-plotly-plot[^"]*"[^>]*id="(figure-\d+)"', dom))
    assert len(drawn) == figures, drawn
    assert dom.count('class="main-svg"') >= figures
    assert dom.count('class="scatterlayer') >= 4  # the line plots have traces
    assert "heatmaplayer" in dom or "hm" in dom


def test_report_of_a_missing_backtest_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, **SMALL)
    out = tmp_path / "out"
    done = itb_report(config, make_userdir(tmp_path), out)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "no FreqAI models for identifier 'itb-report'" in done.stderr
    assert not out.exists()
