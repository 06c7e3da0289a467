"""The ``itb-ext`` command: argument parsing and error reporting around the library.

User mistakes (bad files, columns, config keys or values) end with one line on stderr and exit
status 2; no partial output file is left behind.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from itb_ext.data.files import check_output_path
from itb_ext.errors import ConfigError, DataError, ITBError

EXIT_USAGE = 2
STAGES = ("features", "labels", "signals")
RESULT_FORMATS = (".csv", ".json", ".md")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _progress_bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="step",
        disable=not (enabled and sys.stderr.isatty()),
        leave=False,
        file=sys.stderr,
    )


def _parse_only(value: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    for p in parts:
        if p not in STAGES:
            raise argparse.ArgumentTypeError(f"unknown stage '{p}' (use {', '.join(STAGES)})")
    return parts


def cmd_compute(args: argparse.Namespace) -> int:
    """Run the feature_sets, then label_sets, then signal_sets of an ITB config over a candle file
    and write every input and generated column."""
    from itb_ext.config.files import load_itb_document
    from itb_ext.data.candles import read_table, validate_candles, write_table
    from itb_ext.pipeline.steps import ITBPipeline, run_steps

    check_output_path(args.out, (".parquet", ".feather", ".csv"), (args.data, args.config))
    pipeline = ITBPipeline.from_config(load_itb_document(args.config))
    frame = validate_candles(read_table(args.data), str(args.data))
    stages = pipeline.stages(args.only)
    total = sum(len(steps) for _, steps in stages)
    with _progress_bar(total, "compute", not args.quiet) as bar:
        for stage, steps in stages:
            try:
                frame = run_steps(frame, steps, progress=lambda where: bar.update(1))
            except DataError as exc:
                if stage == "signals" and "missing input column" in str(exc):
                    # FreqTrade configs read model scores that only FreqAI produces.
                    raise DataError(
                        f"{exc} (model scores come from the trained models; "
                        "add them to the data or use --only features,labels)"
                    ) from None
                raise
    write_table(frame, args.out)
    if not args.quiet:
        added = len(frame.columns)
        print(f"wrote {args.out}: {len(frame)} rows, {added} columns", file=sys.stderr)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate trades for every threshold combination of the config's simulate_model grid and
    write the ranked table."""
    from itb_ext.config.files import load_itb_document
    from itb_ext.data.candles import read_table, time_column_of, validate_candles
    from itb_ext.pipeline.steps import ITBPipeline, run_steps
    from itb_ext.simulate import grid_search
    from itb_ext.simulate.setup import simulation_inputs

    check_output_path(args.out, RESULT_FORMATS, (args.data, args.config))
    document = load_itb_document(args.config)
    pipeline = ITBPipeline.from_config(document)
    setup = simulation_inputs(document, pipeline)
    raw = read_table(args.data)
    frame = validate_candles(
        raw, str(args.data), price_columns=(setup.price_column,), volume_column=None
    )
    missing = [c for c in setup.score_columns if c not in frame.columns]
    if missing:
        # The scores are derived by the signal steps before the rule (smoothen/combine).
        frame = run_steps(frame, setup.score_steps)
    with _progress_bar(1, "grid", not args.quiet) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        table = grid_search(
            frame,
            setup.score_columns,
            setup.rule,
            setup.config,
            time_column=time_column_of(frame, str(args.data)),
            progress=progress,
            base_parameters=setup.base_parameters,
        )
    if setup.config.risk is not None:
        from itb_ext.simulate.grid import select_rows
        from itb_ext.simulate.risk import add_risk_columns

        time_column = time_column_of(frame, str(args.data))
        table = add_risk_columns(
            table,
            select_rows(frame, setup.config, time_column),
            setup.score_columns,
            setup.config.risk,
            fee=setup.config.fee,
            time_column=time_column,
        )
    from itb_ext.simulate.table import rounded, table_notes

    _write_result(table, Path(args.out), setup.config)
    print("\n".join(table_notes(setup.config)))
    print(rounded(table.head(args.top)).to_string(index=False))
    return 0


def _write_result(table: Any, path: Path, config: Any) -> None:
    from itb_ext.data.files import write_atomically
    from itb_ext.simulate.table import markdown_report

    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = table.to_csv(index=False)
    elif suffix == ".json":
        text = table.to_json(orient="records", indent=1)
    else:
        text = markdown_report(table, config)
    write_atomically(path, text)


def cmd_freqtrade(args: argparse.Namespace) -> int:
    """Run any freqtrade command with static market definitions instead of loading markets from
    the exchange, e.g. 'itb-ext freqtrade backtesting -c config.json'."""
    from itb_ext.adapters.offline import run_freqtrade_offline

    return run_freqtrade_offline(list(args.freqtrade_args))


def cmd_report(args: argparse.Namespace) -> int:
    """Read FreqAI's stored walk-forward predictions (and models, with save_backtest_models), the
    candles and the backtest result, and write report.html (self-contained, opens offline) and
    report.txt: out-of-sample model quality per window, reliability, trade_score direction,
    feature importance, equity after fees."""
    from itb_ext.adapters.report import walk_forward_report

    _, files = walk_forward_report(
        args.config, args.userdir, args.out, datadir=args.datadir, backtest_results=args.results
    )
    print(files.text.read_text(encoding="utf-8"))
    print(f"wrote {files.html} and {files.text}", file=sys.stderr)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """The counterpart of 'freqtrade create-userdir': links (or copies) the strategy, the FreqAI
    model and the itb-*.json presets into the folder and writes config-itb.json for your exchange
    and pairs (dry-run). A second run changes nothing; a file that differs is kept unless
    --force."""
    from itb_ext.adapters.init_userdir import DEFAULT_PAIR, InitRequest, init_userdir, report_lines

    request = InitRequest(
        userdir=args.userdir,
        exchange=args.exchange,
        pairs=tuple(args.pair or (DEFAULT_PAIR,)),
        timeframe=args.timeframe,
        copy=args.copy,
        force=args.force,
    )
    print("\n".join(report_lines(init_userdir(request))))
    return 0


def cmd_clear_halt(args: argparse.Namespace) -> int:
    """Clear the automatic kill switch's halt recorded in a bot's trade database (and a halt file
    beside it); losses count from now on. The bot resumes after /reload_config (Telegram or
    FreqUI) or a restart."""
    from itb_ext.adapters.bot_state import clear_halt_command

    print(clear_halt_command(args.db_url, args.userdir))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="itb-ext",
        description="intelligent-trading-bot's signal pipeline: features, labels, signals, "
        "threshold search, and FreqTrade without network.",
    )
    from itb_ext import __version__

    parser.add_argument("--version", action="version", version=f"itb-ext {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    compute = _command(
        sub,
        cmd_compute,
        "run feature_sets, label_sets and signal_sets of an ITB config over candles",
    )
    _config_data_out(
        compute,
        config="ITB config (.json/.jsonc), or a FreqTrade config with an 'itb' section "
        "(add_config_files followed)",
        data="candles: feather, parquet or csv with date|timestamp, open, high, low, close, "
        "volume and any extra columns (e.g. model scores), which are carried through",
        out="output .parquet/.feather/.csv",
    )
    compute.add_argument(
        "--only",
        type=_parse_only,
        default=None,
        metavar="STAGES",
        help="comma-separated stages to run: features, labels, signals (default: all)",
    )
    compute.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    simulate = _command(
        sub, cmd_simulate, "grid-search the thresholds of the config's simulate_model"
    )
    _config_data_out(
        simulate,
        config="ITB config (.json/.jsonc)",
        data="signals file (output of 'compute'): time, close and the rule's score columns",
        out="ranked table: .csv, .json or .md",
    )
    simulate.add_argument("--top", type=int, default=10, help="rows to print (default 10)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")

    report = _command(sub, cmd_report, "walk-forward report of a FreqAI backtest (HTML + text)")
    report.add_argument("--config", required=True, type=Path, help="FreqTrade config")
    report.add_argument("--userdir", required=True, type=Path, help="FreqTrade user-data folder")
    report.add_argument("--out", required=True, type=Path, help="output folder")
    report.add_argument(
        "--datadir", type=Path, default=None, help="candles (default <userdir>/data/<exchange>)"
    )
    report.add_argument(
        "--backtest-results",
        dest="results",
        type=Path,
        default=None,
        help="backtest result .zip or folder (default <userdir>/backtest_results)",
    )

    from itb_ext.adapters.init_userdir import DEFAULT_EXCHANGE, DEFAULT_PAIR, PROFILES

    init = _command(
        sub,
        cmd_init,
        "install ITBStrategy, ITBClassifier, the presets and a starter config into a "
        "FreqTrade user-data folder",
    )
    init.add_argument(
        "--userdir", required=True, type=Path, help="the folder made by freqtrade create-userdir"
    )
    init.add_argument(
        "--exchange",
        default=DEFAULT_EXCHANGE,
        help=f"ccxt exchange id (default {DEFAULT_EXCHANGE}, the embedded candles' exchange)",
    )
    init.add_argument(
        "--pair",
        action="append",
        metavar="PAIR",
        help=f"pair to trade, repeatable (default {DEFAULT_PAIR}); BASE/QUOTE:SETTLE for futures",
    )
    init.add_argument(
        "--timeframe", choices=tuple(PROFILES), default="1h", help="candle timeframe (default 1h)"
    )
    init.add_argument(
        "--copy", action="store_true", help="copy the files instead of linking to the package's"
    )
    init.add_argument("--force", action="store_true", help="replace files that differ")

    from itb_ext.evaluation.diagram_command import add_diagram_command

    add_diagram_command(sub)

    clear = _command(sub, cmd_clear_halt, "clear the kill switch's halt in a bot's trade database")
    clear.add_argument(
        "--db-url",
        required=True,
        help="the bot's db_url, e.g. sqlite:///tradesv3.sqlite or "
        "postgresql+psycopg://user:password@host:5432/trades",
    )
    clear.add_argument(
        "--userdir",
        type=Path,
        default=Path("user_data"),
        help="the bot's user-data folder, where a non-SQLite bot's halt file lies "
        "(default user_data)",
    )

    freqtrade = _command(sub, cmd_freqtrade, "run a freqtrade command offline (static markets)")
    freqtrade.add_argument("freqtrade_args", nargs=argparse.REMAINDER, help="freqtrade arguments")
    return parser


def _command(sub: Any, func: Callable[[argparse.Namespace], int], help: str) -> _Parser:
    """The sub-command that runs ``func``: named after it (``cmd_clear_halt`` is ``clear-halt``)
    and described, in its ``--help``, by its docstring."""
    name = func.__name__.removeprefix("cmd_").replace("_", "-")
    parser: _Parser = sub.add_parser(
        name, help=help, description=inspect.cleandoc(func.__doc__ or "")
    )
    parser.set_defaults(func=func)
    return parser


def _config_data_out(parser: argparse.ArgumentParser, *, config: str, data: str, out: str) -> None:
    """The three required paths every file command takes: what to run, on what, and where to."""
    for flag, text in (("--config", config), ("--data", data), ("--out", out)):
        parser.add_argument(flag, required=True, type=Path, help=text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``itb-ext`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        # No command: show what there is to run rather than argparse's bare complaint.
        build_parser().print_help(sys.stderr)
        return EXIT_USAGE
    # ``freqtrade`` hands everything after it to FreqTrade, including options argparse would eat.
    if args_list[:1] == ["freqtrade"]:
        parsed = argparse.Namespace(func=cmd_freqtrade, freqtrade_args=args_list[1:])
    else:
        parsed = build_parser().parse_args(args_list)
    func: Callable[[argparse.Namespace], int] = parsed.func
    try:
        return func(parsed)
    except (ConfigError, DataError, ITBError) as exc:
        print(f"itb-ext: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("itb-ext: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
