"""``itb-ext diagram``: ITB's score diagram of a candle file, written as a PNG.

The score comes from a table (``compute``'s output, or any file with a time column and the
score), or from the predictions a FreqAI backtest stored, turned into ``trade_score`` by the
config's signal stage. A backtest result adds the strategy's entries and exits as markers.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itb_ext.data.files import check_output_path, write_atomically
from itb_ext.errors import DataError

if TYPE_CHECKING:
    # imported where used: every ``itb-ext`` command builds this parser
    import pandas as pd

    from itb_ext.config.diagram import DiagramConfig

_FREQTRADE_FILE = re.compile(
    r"^(?P<base>[A-Za-z0-9]+)_(?P<quote>[A-Za-z0-9]+)(_(?P<settle>\w+?))?-"
)


_SCORES_HELP = (
    "a table with date|timestamp and the score column (e.g. the output of 'compute'; may be the "
    "candle file), or a FreqAI model folder user_data/models/<identifier> with stored "
    "backtesting_predictions (needs --config)"
)
_CONFIG_HELP = (
    "ITB config or FreqTrade config with an 'itb' section: its 'diagram' section sets the "
    "diagram; its signal_sets turn stored predictions into the score"
)


def add_diagram_command(sub: Any) -> None:
    """Register ``diagram`` on the ``itb-ext`` sub-command parsers.

    :param sub: what ``ArgumentParser.add_subparsers`` returned.
    """
    diagram = sub.add_parser(
        "diagram",
        help="ITB's score diagram of a candle file as a PNG",
        description="Draw ITB's daily diagram (high-low band, close, score with its thresholds, "
        "trade markers) from candles and a score, resampled as the config's 'diagram' section "
        "says, and write it as a PNG.",
    )
    diagram.add_argument("--data", required=True, type=Path, help="candles (feather/parquet/csv)")
    diagram.add_argument("--scores", required=True, type=Path, help=_SCORES_HELP)
    diagram.add_argument("--out", required=True, type=Path, help="output .png")
    diagram.add_argument("--config", type=Path, help=_CONFIG_HELP)
    diagram.add_argument(
        "--pair",
        default=None,
        help="pair for the title, the stored predictions and the trades (default: from a "
        "FreqTrade candle file name such as BTC_USD-1h.feather)",
    )
    diagram.add_argument(
        "--trades",
        type=Path,
        default=None,
        help="FreqTrade backtest result (.zip, or its folder): the pair's entries and exits",
    )
    diagram.add_argument(
        "--strategy", default="ITBStrategy", help="strategy in the backtest result"
    )
    diagram.add_argument(
        "--score-column", default=None, help="score to draw (default: the config's, trade_score)"
    )
    diagram.set_defaults(func=cmd_diagram)


def pair_of_candle_file(path: Path) -> str | None:
    """The pair of a FreqTrade candle file (``BTC_USDT_USDT-1h-futures`` -> ``BTC/USDT:USDT``)."""
    found = _FREQTRADE_FILE.match(path.name)
    if found is None:
        return None
    pair = f"{found['base']}/{found['quote']}"
    return f"{pair}:{found['settle']}" if found["settle"] else pair


def _diagram_config(config: Path | None, score_column: str | None) -> DiagramConfig:
    """The config's ``diagram`` section (the defaults without a config)."""
    from itb_ext.config.base import validate
    from itb_ext.config.diagram import DiagramConfig
    from itb_ext.config.files import is_freqtrade_config, load_itb_document
    from itb_ext.config.jsonc import load_jsonc

    cfg = DiagramConfig()
    if config is not None:
        where = "itb.diagram" if is_freqtrade_config(load_jsonc(config)) else "diagram"
        section = load_itb_document(config).get("diagram", {})
        cfg = validate(DiagramConfig, section, f"{config}: {where}")
    if score_column:
        cfg = cfg.model_copy(update={"score_column": score_column})
    return cfg


def stored_scores(model_dir: Path, config: Path | None, pair: str, column: str) -> pd.DataFrame:
    """``date`` and ``column`` from FreqAI's stored predictions (``trade_score`` derived)."""
    import pandas as pd

    from itb_ext.config.files import load_with_included
    from itb_ext.evaluation.stored import read_window_predictions
    from itb_ext.strategy.setup import ITBSetup

    predictions = read_window_predictions(model_dir, pair)
    if column in predictions.columns:
        return predictions[["date", column]]
    if config is None:
        raise DataError(
            f"{model_dir}: no '{column}' in the stored predictions; give the FreqTrade config "
            "(--config) whose signal_sets derive it"
        )
    setup = ITBSetup.from_freqtrade_config(load_with_included(config))
    missing = [c for c in setup.score_columns if c not in predictions.columns]
    if missing:
        raise DataError(
            f"{model_dir}: stored predictions lack the model column '{missing[0]}' of {config}"
        )
    if column != setup.trade_score_column:
        raise DataError(
            f"{model_dir}: no column '{column}' in the stored predictions (the config derives "
            f"'{setup.trade_score_column}')"
        )
    score = setup.trade_score(predictions[setup.score_columns], setup.default_overrides())
    return pd.DataFrame({"date": predictions["date"], column: score.to_numpy()})


def _table_scores(path: Path, column: str) -> pd.DataFrame:
    """The time column (as ``date``) and ``column`` of a scores table."""
    import pandas as pd

    from itb_ext.data.candles import read_table, time_column_of, validate_candles
    from itb_ext.pipeline.frames import require_columns

    table = validate_candles(read_table(path), str(path), price_columns=(), volume_column=None)
    require_columns(table, [column], str(path))
    time_col = time_column_of(table, str(path))
    return pd.DataFrame({"date": table[time_col], column: table[column]})


def _aligned_score(
    candles: pd.DataFrame, scores: pd.DataFrame, column: str, source: str
) -> tuple[pd.DataFrame, pd.Series]:
    """Candles up to the last scored one, and their scores (missing where none was stored)."""
    import pandas as pd

    from itb_ext.data.candles import time_column_of

    times = pd.to_datetime(candles[time_column_of(candles, source)], utc=True)
    by_time = pd.Series(
        pd.to_numeric(scores[column], errors="coerce").to_numpy("float64"),
        index=pd.to_datetime(scores["date"], utc=True),
    )
    score = by_time.reindex(times.to_numpy()).to_numpy()
    known = pd.notna(score).nonzero()[0]
    if len(known) == 0:
        raise DataError(f"{source}: no '{column}' value at any time of the candles")
    # the diagram shows the bot's view on the last scored candle, not the candles after it
    end = int(known[-1]) + 1
    return candles.iloc[:end].reset_index(drop=True), pd.Series(score[:end])


def _transactions(path: Path, strategy: str, pair: str) -> pd.DataFrame:
    from itb_ext.evaluation.stored import read_backtest_result
    from itb_ext.strategy.diagram import transactions_from_trades

    trades = read_backtest_result(path, strategy).trades
    if "pair" in trades.columns:
        trades = trades[trades["pair"] == pair]
    return transactions_from_trades(trades.reset_index(drop=True))


def cmd_diagram(args: argparse.Namespace) -> int:
    """Draw the diagram of ``--data`` with the score of ``--scores`` into ``--out``."""
    from itb_ext.data.candles import read_table, validate_candles
    from itb_ext.strategy.diagram import diagram_frame, diagram_title, render_diagram

    out: Path = args.out
    check_output_path(out, (".png",), (args.data, args.scores))
    cfg = _diagram_config(args.config, args.score_column)
    named = args.pair or pair_of_candle_file(args.data)
    candles = validate_candles(read_table(args.data), str(args.data), volume_column=None)
    if args.scores.is_dir():
        pair = _known_pair(named, args.data)
        scores = stored_scores(args.scores, args.config, pair, cfg.score_column)
    else:
        scores = _table_scores(args.scores, cfg.score_column)
    candles, score = _aligned_score(candles, scores, cfg.score_column, str(args.scores))
    transactions = None
    if args.trades is not None:
        pair = _known_pair(named, args.data)
        transactions = _transactions(args.trades, args.strategy, pair)
    frame = diagram_frame(candles, score, transactions, cfg)
    title = diagram_title(named or args.data.stem, cfg.description)
    write_atomically(out, render_diagram(frame, cfg, title))
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    summary = f"{len(frame)} bars of {cfg.resampling_freq}, {first} to {last}"
    print(f"wrote {out}: {summary}", file=sys.stderr)
    return 0


def _known_pair(pair: str | None, data: Path) -> str:
    if pair is None:
        raise DataError(f"{data}: cannot tell the pair from the file name; give --pair")
    return pair
