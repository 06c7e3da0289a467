"""``itb-ext report``: read a FreqTrade config and what its walk-forward backtest stored, then
write the report (``itb_ext.evaluation``). FreqTrade is used only to load the config files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation.edge import CONFIGURATIONS_TRIED, edge_settings
from itb_ext.evaluation.report import PairData, Report, build_report
from itb_ext.evaluation.report_html import ReportFiles, write_report
from itb_ext.evaluation.stored import (
    backtest_windows,
    fill_missing_candles,
    read_backtest_result,
    read_stored_models,
    read_window_predictions,
    write_importance_cache,
)
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.setup import ITBSetup


def load_freqtrade_config(path: Path) -> dict[str, Any]:
    """A FreqTrade config with its ``add_config_files`` merged, as FreqTrade reads it."""
    from freqtrade.configuration.load_config import load_from_files
    from freqtrade.exceptions import OperationalException

    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        config: dict[str, Any] = load_from_files([str(path)])
    except OperationalException as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    return config


def _candles(datadir: Path, pair: str, timeframe: str) -> pd.DataFrame:
    path = datadir / f"{pair.replace('/', '_')}-{timeframe}.feather"
    if not path.is_file():
        raise DataError(f"{path}: no candles for {pair} {timeframe}")
    return fill_missing_candles(pd.read_feather(path), timeframe)


def _keep_importance(report: Report, data: Sequence[PairData], seed: int) -> None:
    # Permuting every feature of every window costs a minute on a year of 1h candles; the
    # numbers of a model never change, so the next report reads them back.
    for pair_data in data:
        for model in pair_data.models:
            if model.importance is not None or model.folder is None:
                continue
            rows = report.importance[
                (report.importance["pair"] == pair_data.pair)
                & (report.importance["window"] == model.window.strftime("%Y-%m-%d"))
            ]
            if not rows.empty:
                drops = pd.Series(rows["auc_drop"].to_numpy(), index=rows["model_feature"])
                write_importance_cache(model.folder, drops, seed)


def timerange_of(period: tuple[pd.Timestamp, pd.Timestamp]) -> str:
    """FreqTrade's ``--timerange`` of a backtest period (``20181001-20191001``)."""
    return f"{period[0]:%Y%m%d}-{period[1]:%Y%m%d}"


def period_of(timerange: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, stop)`` of a ``YYYYMMDD-YYYYMMDD`` timerange.

    :raises ConfigError: another form.
    """
    start, _, stop = timerange.partition("-")
    problem = ConfigError(f"timerange '{timerange}': expected YYYYMMDD-YYYYMMDD")
    if len(start) != 8 or len(stop) != 8 or not (start + stop).isdigit():
        raise problem
    try:
        return pd.Timestamp(start, tz="UTC"), pd.Timestamp(stop, tz="UTC")
    except ValueError:
        raise problem from None


def report_header(
    config_path: Path, identifier: str, timerange: str, overrides: SignalOverrides, source: str
) -> tuple[str, ...]:
    """The lines that say what a report covers: the timerange, the config and the identifier,
    and the signal parameters the figures use."""
    return (
        f"timerange {timerange}; config {config_path}; FreqAI identifier '{identifier}' "
        "(only the predictions of this backtest's windows)",
        f"signal parameters: buy_threshold={overrides.buy_threshold:g}, "
        f"sell_threshold={overrides.sell_threshold:g}, "
        f"smoothing_window={overrides.smoothing_window}, "
        f"combine_mode={overrides.combine_mode} ({source})",
    )


def walk_forward_report(
    config_path: Path,
    userdir: Path,
    out: Path,
    datadir: Path | None = None,
    backtest_results: Path | None = None,
    pairs: Sequence[str] | None = None,
    *,
    timerange: str | None = None,
    overrides: SignalOverrides | None = None,
    overrides_source: str = "the config's signal_sets",
    trials: int = CONFIGURATIONS_TRIED,
) -> tuple[Report, ReportFiles]:
    """Build and write the walk-forward report of the backtest ``config_path`` ran.

    It covers exactly that backtest: the stored predictions of its windows (FreqAI's windows of
    its timerange; windows another backtest with the same identifier left are not read) and its
    trades; its header names the timerange, the config and the identifier.

    :param config_path: the FreqTrade config of the backtest (with its ``itb`` section).
    :param userdir: FreqTrade's user-data folder (``models/<identifier>`` is read).
    :param out: folder for ``report.html`` and ``report.txt``.
    :param datadir: candle folder (default ``<userdir>/data/<exchange>``).
    :param backtest_results: a backtest ``.zip`` or its folder (default
        ``<userdir>/backtest_results``); without one, no trading section.
    :param pairs: pairs to report (default: those of the backtest result, else the config's
        whitelist).
    :param timerange: the backtest's ``--timerange`` (default: the backtest result's period);
        needed without a backtest result to choose the windows (else every stored window).
    :param overrides: the signal parameters the backtest used (default: the config's).
    :param overrides_source: where they come from, for the header.
    :param trials: N of the deflated Sharpe ratio.
    """
    config = load_freqtrade_config(config_path)
    try:
        setup = ITBSetup.from_freqtrade_config(config)
        identifier = config["freqai"]["identifier"]
        window_days = float(config["freqai"]["backtest_period_days"])
        timeframe = config["timeframe"]
        exchange = config["exchange"]["name"]
        whitelist = list(pairs or config["exchange"]["pair_whitelist"])
    except KeyError as exc:
        raise ConfigError(f"{config_path}: missing key {exc}") from None
    model_dir = userdir / "models" / identifier
    if not model_dir.is_dir():
        raise DataError(f"{model_dir}: no FreqAI models for identifier '{identifier}'")
    datadir = datadir or userdir / "data" / exchange
    results = backtest_results or userdir / "backtest_results"
    backtest = read_backtest_result(results) if results.exists() else None
    if backtest is not None and backtest.pairs and pairs is None:
        # the pairs the backtest ran, even if the config's whitelist changed since
        whitelist = list(backtest.pairs)
    period = backtest.period if backtest is not None else None
    if timerange is not None:
        period = period_of(timerange)
    windows = backtest_windows(period, window_days) if period is not None else None
    data = [
        PairData(
            pair=pair,
            candles=_candles(datadir, pair, timeframe),
            predictions=read_window_predictions(model_dir, pair, windows),
            models=[
                m
                for m in read_stored_models(model_dir, pair, setup.seed)
                if windows is None or m.window in windows
            ],
        )
        for pair in whitelist
    ]
    fee = float(config.get("fee") or (backtest.fee if backtest and backtest.fee else 0.001))
    overrides = overrides or setup.default_overrides()
    settings = edge_settings(setup, config, overrides, trials)
    shown = timerange or (timerange_of(period) if period is not None else "every stored window")
    report = build_report(
        setup,
        data,
        backtest,
        fee,
        settings=settings,
        header=report_header(config_path, identifier, shown, overrides, overrides_source),
        currency=str(config.get("stake_currency", "")),
    )
    _keep_importance(report, data, setup.seed)
    title = f"Walk-forward report: {identifier}, {', '.join(whitelist)} {timeframe}, {shown}"
    return report, write_report(report, out, title)
