"""The offline walk-forward demo: a FreqTrade backtest of ITBStrategy with the default preset on
the embedded candles, then the edge per pair: the strategy beside buy-and-hold, the trend gate
alone and the reversal rule inside the gate, the luck tests, a verdict, a conclusion and the
yardsticks (:mod:`itb_ext.evaluation.edge`, the figures the walk-forward report shows too).

Run with ``make demo`` (or ``python -m itb_ext.demo.run``). The first run trains the models of
every walk-forward window; a second run reads FreqAI's stored predictions back and prints the
same results. The demo keeps to its own FreqAI identifier and its own folder (``demo_output``):
another backtest or a hyperopt run of the README's examples leaves its results alone, and a
hyperopt result beside the strategy is ignored unless ``--use-hyperopt-result`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from itb_ext.adapters.backtest_command import offline_backtest_argv
from itb_ext.config.files import load_with_included
from itb_ext.data.files import write_atomically
from itb_ext.demo.progress import ProgressDisplay, follow
from itb_ext.errors import ConfigError, DataError, ITBError
from itb_ext.evaluation.edge import edge_settings, edge_text, wrapped
from itb_ext.evaluation.metrics import buy_and_hold
from itb_ext.evaluation.report import NA, Report
from itb_ext.evaluation.stored import fill_missing_candles, read_backtest_result
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.hyperopt_binding import binding_path
from itb_ext.strategy.parameters import start_decision
from itb_ext.strategy.setup import ITBSetup
from itb_ext.strategy.signals import signal_parameters

ROOT = Path(__file__).resolve().parents[2]
USER_DATA = ROOT / "user_data"
CONFIG = USER_DATA / "config.demo.json"
DATADIR = USER_DATA / "data" / "bitfinex"
OUTPUT = ROOT / "demo_output"
DEFAULT_TIMERANGE = "20181001-20191001"
STRATEGY = "ITBStrategy"
#: What a signal parameter's value comes from when no hyperopt result is used.
FROM_CONFIG = "the config's signal_sets"


def _load_config(path: Path) -> dict[str, Any]:
    config: dict[str, Any] = load_with_included(path)
    return config


class _Below:
    """A path of :class:`DemoPaths` that lies below one of its folders: read-only, derived."""

    def __init__(self, folder: str, name: str) -> None:
        self.folder = folder
        self.name = name

    def __get__(self, paths: object, owner: type | None = None) -> Path:
        return Path(getattr(paths, self.folder)) / self.name


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo reads and writes.

    :param config: the FreqTrade config it backtests.
    :param userdir: FreqTrade's user-data folder (models, the strategy, FreqUI's results).
    :param datadir: the candles.
    :param output: the demo's own folder.
    """

    config: Path = CONFIG
    userdir: Path = USER_DATA
    datadir: Path = DATADIR
    output: Path = OUTPUT

    @property
    def strategy_source(self) -> Path:
        """The strategy the demo runs a copy of."""
        own = self.userdir / "strategies" / f"{STRATEGY}.py"
        return own if own.is_file() else USER_DATA / "strategies" / f"{STRATEGY}.py"

    #: The demo's copy of the strategy (and of a hyperopt result, when asked).
    strategy_dir = _Below("output", "strategy")
    #: FreqTrade's export of the demo's backtest.
    results_dir = _Below("output", "backtest_results")
    #: FreqTrade's log of the backtest.
    log_file = _Below("output", "freqtrade.log")
    #: FreqTrade's full printed report.
    freqtrade_report = _Below("output", "freqtrade-report.txt")
    #: What FreqTrade wrote on stderr.
    stderr_file = _Below("output", "freqtrade-stderr.txt")
    #: The per-pair figures, as JSON.
    results_json = _Below("output", "results.json")
    #: The walk-forward report (HTML and text).
    report_dir = _Below("output", "report")
    #: Where FreqUI's "Load Results" lists backtests.
    frequi_dir = _Below("userdir", "backtest_results")


# --- the strategy and its parameters ----------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """The signal parameters the demo's backtest runs with.

    :param overrides: their values.
    :param source: where they come from, in words.
    :param ignored: a hyperopt result beside the strategy that the demo left out.
    """

    overrides: SignalOverrides
    source: str
    ignored: Path | None = None


def _copy_if_changed(source: Path, target: Path) -> None:
    data = source.read_bytes()
    if not target.is_file() or target.read_bytes() != data:
        write_atomically(target, data)


def prepare_strategy(
    paths: DemoPaths, setup: ITBSetup, config: Mapping[str, Any], use_hyperopt_result: bool
) -> Parameters:
    """Put a copy of the strategy in the demo's own folder, so that FreqTrade loads no
    hyperopt result beside the original, and say which parameters the backtest uses.

    With ``use_hyperopt_result`` the result (``ITBStrategy.json``) and its binding are copied
    too and used as the strategy uses them (refused when another config produced it).

    :raises ConfigError: a hyperopt result of another configuration, or an unreadable one.
    """
    source = paths.strategy_source
    folder = paths.strategy_dir
    folder.mkdir(parents=True, exist_ok=True)
    _copy_if_changed(source, folder / source.name)
    params, copied = source.with_suffix(".json"), folder / f"{STRATEGY}.json"
    for stale in (copied, binding_path(copied)):
        stale.unlink(missing_ok=True)
    defaults = setup.default_overrides()
    if not params.is_file():
        return Parameters(defaults, FROM_CONFIG)
    if not use_hyperopt_result:
        return Parameters(defaults, FROM_CONFIG, ignored=params)
    try:
        found = json.loads(params.read_text()).get("params", {})
    except ValueError as exc:
        raise ConfigError(f"{params}: not a hyperopt result ({exc})") from None
    _copy_if_changed(params, copied)
    if binding_path(params).is_file():
        _copy_if_changed(binding_path(params), binding_path(copied))
    decision = start_decision(setup, config, found, copied)
    if not decision.use_file:
        return Parameters(defaults, FROM_CONFIG)
    values = decision.values
    overrides = signal_parameters(
        setup,
        float(values["buy_threshold"]),  # type: ignore[arg-type]
        float(values["sell_threshold"]),  # type: ignore[arg-type]
        int(values["smoothing_window"]),  # type: ignore[call-overload]
        str(values["combine_mode"]),
    )
    return Parameters(overrides, f"hyperopt result {params}")


# --- the backtest -----------------------------------------------------------------------------


def backtest_argv(paths: DemoPaths, timerange: str, own_strategy: bool = True) -> list[str]:
    """FreqTrade's backtest of the demo, offline.

    :param own_strategy: run the demo's copy of the strategy (else the config's strategy path).
    """
    return offline_backtest_argv(
        paths.config,
        paths.userdir,
        paths.datadir,
        timerange,
        paths.results_dir,
        paths.log_file,
        strategy_path=paths.strategy_dir if own_strategy else None,
        # a result FreqTrade reused would not be exported to the demo's own folder
        reuse_cached=False,
    )


def run_backtest(paths: DemoPaths, timerange: str, quiet: bool) -> tuple[int, float]:
    """Run the backtest in a child process with progress read from its log; FreqTrade's report
    goes to :attr:`DemoPaths.freqtrade_report`. Return the exit code and the seconds taken."""
    paths.results_dir.mkdir(parents=True, exist_ok=True)
    paths.log_file.unlink(missing_ok=True)
    began = time.perf_counter()
    with (
        paths.freqtrade_report.open("w") as report,
        paths.stderr_file.open("w") as errors,
        ProgressDisplay(quiet) as display,
    ):
        process = subprocess.Popen(
            backtest_argv(paths, timerange), cwd=ROOT, stdout=report, stderr=errors
        )
        for batch in follow(paths.log_file, lambda: process.poll() is None):
            display.lines(batch)
        code = process.wait()
        display.finished(_trade_count(paths) if code == 0 else None)
    return code, time.perf_counter() - began


def latest_result(paths: DemoPaths) -> str | None:
    """The file name of the newest result in the demo's folder (None: none yet)."""
    last = paths.results_dir / ".last_result.json"
    if not last.is_file():
        return None
    name: str = json.loads(last.read_text())["latest_backtest"]
    return name


def _trade_count(paths: DemoPaths) -> int | None:
    try:
        return len(read_backtest_result(paths.results_dir, strategy=None).trades)
    except ITBError:
        return None


def publish_for_frequi(paths: DemoPaths, identifier: str) -> Path | None:
    """Copy the demo's newest backtest result where FreqUI's "Load Results" lists it (the
    user-data folder's ``backtest_results``, FreqTrade's file names and ``.last_result.json``);
    the demo's own folder keeps its copy. Return the copied result."""
    name = latest_result(paths)
    if name is None:
        return None
    result = paths.results_dir / name
    meta = result.with_name(f"{result.stem}.meta.json")
    target = paths.frequi_dir
    target.mkdir(parents=True, exist_ok=True)
    _copy_if_changed(result, target / name)
    if meta.is_file():
        info = json.loads(meta.read_text())
        for entry in info.values():  # FreqUI shows the notes beside the result
            if isinstance(entry, dict):
                entry["notes"] = f"make demo, walk-forward, FreqAI identifier {identifier}"
        write_atomically(target / meta.name, json.dumps(info, indent=2))
    write_atomically(target / ".last_result.json", json.dumps({"latest_backtest": name}))
    return target / name


# --- the results ------------------------------------------------------------------------------


def _candles(pair: str, timeframe: str, datadir: Path = DATADIR) -> pd.DataFrame:
    # as FreqTrade hands them to the strategy, like the report reads them
    frame = pd.read_feather(datadir / f"{pair.replace('/', '_')}-{timeframe}.feather")
    return fill_missing_candles(frame, timeframe)


#: the row of all pairs together in the buy-and-hold table
ALL_PAIRS = "all, equal stakes"
#: the buy-and-hold figures of :func:`buy_and_hold_table`
BUY_AND_HOLD_FIGURES = ("return_%", "sharpe", "sortino", "calmar", "max_drawdown_%")


def buy_and_hold_table(
    candles: Mapping[str, pd.DataFrame],
    period: tuple[pd.Timestamp, pd.Timestamp],
    fee: float,
    starting_balance: float = 10_000.0,
    slippage: float = 0.0,
) -> pd.DataFrame:
    """Buy-and-hold after fees (and slippage) over ``period``: each pair alone, then all of them
    with equal stakes (see :func:`itb_ext.evaluation.metrics.buy_and_hold`).

    :param candles: per pair, its candles.
    :param period: ``[start, stop)`` of the backtest.
    :param fee: fee per side.
    :param slippage: price moved against each fill.
    """
    groups = {pair: {pair: frame} for pair, frame in candles.items()}
    if len(candles) > 1:
        groups[ALL_PAIRS] = dict(candles)
    rows = []
    for name, group in groups.items():
        figures = buy_and_hold(group, period, starting_balance, fee, slippage).metrics()
        rows.append({"pairs": name, **{key: figures[key] for key in BUY_AND_HOLD_FIGURES}})
    return pd.DataFrame(rows)


def buy_and_hold_heading(fee: float) -> str:
    """The line above every buy-and-hold figure: after fees, and which."""
    return (
        f"Buy and hold over the same period, after fees ({fee:.2%} per side): bought at the "
        "first open, sold at the last close, equity marked daily"
    )


def _figure(value: float, digits: int, sign: bool = False) -> str:
    if pd.isna(value):
        return NA
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def all_pairs_lines(report: Report) -> list[str]:
    """The whole wallet: FreqTrade's trades against buy-and-hold of every pair, equal stakes,
    same fee and slippage (the report's trading table)."""
    rows = report.trading.set_index("curve")
    costs = report.edge_context.settings.costs_text() if report.edge_context else ""

    def said(curve: str) -> str:
        row = rows.loc[curve]
        return (
            f"return {_figure(row['return_%'], 1, True)} %, Sharpe {_figure(row['sharpe'], 2)}, "
            f"max drawdown {_figure(row['max_drawdown_%'], 1)} %"
        )

    return [
        f"== All pairs on the whole wallet, walk-forward, after {costs}",
        f"strategy (FreqTrade's trades): {said('strategy')}",
        f"buy-and-hold, equal stakes:    {said('buy_and_hold')}",
    ]


def results_record(
    report: Report, paths: DemoPaths, timerange: str, parameters: Parameters, identifier: str
) -> dict[str, Any]:
    """What :attr:`DemoPaths.results_json` holds: the run's settings and every figure (no
    times or file dates, so that the same backtest gives the same record)."""
    context = report.edge_context
    costs = context.settings.costs if context else None
    overrides = parameters.overrides
    return {
        "timerange": timerange,
        "config": str(paths.config),
        "identifier": identifier,
        "parameters": {
            "buy_threshold": overrides.buy_threshold,
            "sell_threshold": overrides.sell_threshold,
            "smoothing_window": overrides.smoothing_window,
            "combine_mode": overrides.combine_mode,
            "source": parameters.source,
        },
        "costs": {"fee": costs.fee, "slippage": costs.slippage} if costs else None,
        "pairs": [edge.row() for edge in report.edges],
        "all_pairs": {
            str(row["curve"]): {k: _plain(v) for k, v in row.items() if k != "curve"}
            for row in report.trading.to_dict("records")
        },
    }


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and not pd.notna(value) else value


def demo_results(
    paths: DemoPaths, timerange: str, parameters: Parameters
) -> tuple[Report, dict[str, Any]]:
    """The reporting step: the walk-forward report of the demo's backtest (written to
    :attr:`DemoPaths.report_dir`) and the results record (written to
    :attr:`DemoPaths.results_json`), from the stored predictions and the demo's own result."""
    from itb_ext.adapters.report import walk_forward_report

    report, _ = walk_forward_report(
        paths.config,
        paths.userdir,
        paths.report_dir,
        datadir=paths.datadir,
        backtest_results=paths.results_dir,
        timerange=timerange,
        overrides=parameters.overrides,
        overrides_source=parameters.source,
    )
    identifier = str(_load_config(paths.config)["freqai"]["identifier"])
    record = results_record(report, paths, timerange, parameters, identifier)
    write_atomically(paths.results_json, json.dumps(record, indent=1, sort_keys=True))
    return report, record


# --- printing ---------------------------------------------------------------------------------


def _wrapped(text: str, indent: str = "   ") -> list[str]:
    return wrapped(text, indent)


def heading_lines(
    paths: DemoPaths, config: Mapping[str, Any], timerange: str, parameters: Parameters
) -> list[str]:
    """What the demo runs: pairs, period, preset, identifier, windows, costs, parameters."""
    freqai = config["freqai"]
    included = json.loads(paths.config.read_text()).get("add_config_files", [])
    presets = ", ".join(str(p) for p in included) or "its own itb section"
    overrides = parameters.overrides
    costs = edge_settings(ITBSetup.from_freqtrade_config(config), config, overrides).costs_text()
    lines = [
        f"== ITBStrategy walk-forward backtest, offline: "
        f"{', '.join(config['exchange']['pair_whitelist'])} {config['timeframe']}, {timerange}",
        *_wrapped(
            f"   preset {presets} (config {_shown(paths.config)}, FreqAI identifier "
            f"'{freqai['identifier']}'); train {freqai['train_period_days']} days, predict the "
            f"next {freqai['backtest_period_days']}, roll; {costs}"
        ),
        *_wrapped(
            f"   signal parameters: buy_threshold={overrides.buy_threshold:g}, "
            f"sell_threshold={overrides.sell_threshold:g}, smoothing_window="
            f"{overrides.smoothing_window}, combine_mode={overrides.combine_mode} "
            f"({parameters.source})"
        ),
    ]
    if parameters.ignored is not None:
        lines += _wrapped(
            f"   the hyperopt result {_shown(parameters.ignored)} is not used "
            "(--use-hyperopt-result uses it)"
        )
    return lines


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def file_lines(paths: DemoPaths, published: Path | None) -> list[str]:
    """Where everything was written."""
    lines = [
        "== Files",
        f"FreqTrade's full report: {_shown(paths.freqtrade_report)}; its log: "
        f"{_shown(paths.log_file)}",
        f"walk-forward report (opens offline): {_shown(paths.report_dir / 'report.html')}",
        f"the figures above as JSON: {_shown(paths.results_json)}",
    ]
    if published is not None:
        lines += _wrapped(f'FreqUI\'s "Load Results": {_shown(published)}')
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timerange", default=DEFAULT_TIMERANGE, help="backtest period")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the FreqTrade config")
    parser.add_argument("--userdir", type=Path, default=USER_DATA, help="FreqTrade's user data")
    parser.add_argument("--datadir", type=Path, default=DATADIR, help="the candles")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the demo's own folder")
    parser.add_argument(
        "--use-hyperopt-result",
        action="store_true",
        help="use the hyperopt result beside the strategy (ignored by default)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="one line per stage (the default without a terminal)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="skip the backtest: report the demo's last one from its stored results",
    )
    args = parser.parse_args(argv)
    paths = DemoPaths(args.config, args.userdir, args.datadir, args.output)
    quiet = args.quiet or not sys.stdout.isatty()
    try:
        return _run(paths, args.timerange, args.use_hyperopt_result, quiet, args.report_only)
    except ITBError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2


def _run(
    paths: DemoPaths, timerange: str, use_hyperopt_result: bool, quiet: bool, report_only: bool
) -> int:
    config = _load_config(paths.config)
    setup = ITBSetup.from_freqtrade_config(config)
    paths.output.mkdir(parents=True, exist_ok=True)
    parameters = prepare_strategy(paths, setup, config, use_hyperopt_result)
    print("\n".join(heading_lines(paths, config, timerange, parameters)), flush=True)
    times: dict[str, float] = {}
    published = None
    if not report_only:
        before = latest_result(paths)
        code, times["FreqTrade backtest process"] = run_backtest(paths, timerange, quiet)
        if code == 0 and latest_result(paths) in (None, before):
            raise DataError(f"{paths.results_dir}: FreqTrade exported no new backtest result")
        if code != 0:
            tail = paths.log_file.read_text(errors="replace").splitlines()[-15:]
            print("\n".join(tail), file=sys.stderr)
            print(
                f"demo: the backtest failed (exit {code}); log: {paths.log_file}", file=sys.stderr
            )
            return code
        published = publish_for_frequi(paths, str(config["freqai"]["identifier"]))
    began = time.perf_counter()
    report, _ = demo_results(paths, timerange, parameters)
    times["luck tests and walk-forward report"] = time.perf_counter() - began
    if quiet:
        print(f"luck tests and walk-forward report ({time.perf_counter() - began:.0f} s)")
    print()
    if report.edge_context is not None:
        print(edge_text(report.edges, report.edge_context))
    print("\n".join(all_pairs_lines(report)))
    print()
    print("\n".join(file_lines(paths, published)))
    print("\n== Stage times")
    for stage, seconds in times.items():
        print(f"{stage}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
