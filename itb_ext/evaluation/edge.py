"""The edge of a walk-forward backtest, pair by pair: the strategy's figures from FreqTrade's own
trades beside buy-and-hold, the trend gate alone and the reversal rule inside the gate, the luck
tests and a plain verdict. The demo prints these figures and the walk-forward report shows them,
both through :func:`edge_text`.

Two sources, said where they are shown:

* **FreqTrade's trades** (the strategy's return, Sharpe, drawdown, trade figures): everything
  the backtest did, stops, protections and the risk layer's sizing and slippage included. Each
  pair is accounted on its equal share of the starting wallet, marked daily
  (:func:`itb_ext.evaluation.metrics.account`).
* **The project's own simulation** (:mod:`itb_ext.evaluation.rule_backtest`) of the same entry
  and exit rules on the same stored predictions, for the baselines and the luck tests: hundreds
  of placebo runs cost well under a second each there, not a FreqTrade backtest each. Only the
  signals close its trades: it has no stoploss (static or ATR), protections or ROI table; its
  stakes are the risk layer's sizing of each entry.

The signal stage runs as the strategy runs it in the backtest (:func:`backtested_signals`):
FreqAI hands the strategy zeros instead of scores on the candles before the first predicted
window, so the smoothing starts from zero there; the gate reads the candles before the period.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from itb_ext.config.signals import TrendGateConfig
from itb_ext.errors import DataError
from itb_ext.evaluation import metrics, rule_backtest
from itb_ext.evaluation.baselines import DEFAULT_GATE_WINDOW, Baselines, all_baselines
from itb_ext.evaluation.luck import (
    DEFAULT_LEVEL,
    DEFAULT_MIN_OFFSET_DAYS,
    MIN_SHIFTS,
    LuckFigures,
    luck_report,
    verdict,
)
from itb_ext.risk.policy import RiskPolicy
from itb_ext.signals.tuning import SignalOverrides
from itb_ext.strategy.setup import ITBSetup

#: N of the deflated Sharpe ratio: the configurations tried before the default preset was
#: chosen. The trend study's 5 signal settings (``benchmarks/study_edge.py``, ``CANDIDATES``)
#: plus the 15 feature variants (``VARIANTS``) of ``benchmarks/study_stationary.py``, which
#: chose the stationary features the trend preset builds on. A study that tries more raises it.
CONFIGURATIONS_TRIED = 5 + 15

#: The names of the baselines, as the tables and the verdict say them.
BUY_AND_HOLD = "buy-and-hold"
TREND_GATE = "trend gate alone"
REVERSAL = "reversal rule in the gate"
BASELINES = (BUY_AND_HOLD, TREND_GATE, REVERSAL)

#: How a figure that cannot be computed is shown.
NA = "n/a"
#: Longest line of the printed figures.
LINE_WIDTH = 100


@dataclass(frozen=True)
class Yardstick:
    """A bar the strategy's figures from FreqTrade's trades are held to.

    :param name: how it is printed, e.g. ``Sharpe > 1.5``.
    :param figure: the key in :attr:`PairEdge.strategy`.
    :param level: the bar.
    :param above: met when the figure is above the bar (else below it).
    """

    name: str
    figure: str
    level: float
    above: bool = True

    def met(self, figures: Mapping[str, float]) -> bool:
        """Whether ``figures`` clear the bar; a figure that cannot be computed does not."""
        value = float(figures.get(self.figure, math.nan))
        if math.isnan(value):
            return False
        return value > self.level if self.above else value < self.level


YARDSTICKS = (
    Yardstick("Sharpe > 1.5", "sharpe", 1.5),
    Yardstick("max drawdown < 20 %", "max_drawdown_%", 20.0, above=False),
    Yardstick("win rate > 52 %", "win_rate_%", 52.0),
    Yardstick("profit factor > 1.5", "profit_factor", 1.5),
    Yardstick("average trade > 0.3 %", "average_trade_%", 0.3),
)


@dataclass(frozen=True)
class EdgeSettings:
    """The rules, costs and luck-test settings of one backtest.

    :param overrides: the signal parameters in force (config, or a hyperopt result used).
    :param costs: fee and slippage per fill, as the backtest paid them.
    :param min_hold: candles an exit signal waits after the entry (``itb.risk``).
    :param timeframe: the candles' timeframe (``1h``), for the risk layer's sizing.
    :param horizon: candles of the directional AUC.
    :param gate_window: daily closes in the baselines' trend gate.
    :param trials: N of the deflated Sharpe ratio.
    :param shifts: placebo shifts.
    :param seed: seed of every random draw of the luck tests.
    """

    overrides: SignalOverrides
    costs: rule_backtest.Costs
    min_hold: int
    timeframe: str
    horizon: int = 24
    gate_window: int = DEFAULT_GATE_WINDOW
    trials: int = CONFIGURATIONS_TRIED
    shifts: int = MIN_SHIFTS
    seed: int = 0

    @property
    def levels(self) -> rule_backtest.RuleLevels:
        """The threshold rule's levels."""
        return rule_backtest.RuleLevels(self.overrides.buy_threshold, self.overrides.sell_threshold)

    def costs_text(self) -> str:
        """``fee 0.10 % and slippage 0.05 % per fill``."""
        return (
            f"fee {100 * self.costs.fee:.2f} % and slippage {100 * self.costs.slippage:.2f} % "
            "per fill"
        )


def gate_window(setup: ITBSetup) -> int:
    """Daily closes of the rule's trend gate (a daily ``above_mean`` one), else the default."""
    gate = setup.gate_column
    for step in setup.signal_steps:
        cfg = step.config
        if (
            isinstance(cfg, TrendGateConfig)
            and cfg.names == gate
            and cfg.timeframe == "1d"
            and cfg.comparison == "above_mean"
        ):
            return int(cfg.window)
    return DEFAULT_GATE_WINDOW


def edge_settings(
    setup: ITBSetup,
    config: Mapping[str, Any],
    overrides: SignalOverrides,
    trials: int = CONFIGURATIONS_TRIED,
) -> EdgeSettings:
    """The settings of a backtest of ``config``: its fee (``fee``, default 0.1 %), the risk
    layer's backtest slippage and minimum holding time, the labels' horizon.

    :param overrides: the signal parameters the backtest used.
    """
    risk = setup.raw.risk
    slippage = risk.backtest_slippage_bps / 10_000.0 if risk.enabled else 0.0
    fee = config.get("fee")
    return EdgeSettings(
        overrides=overrides,
        costs=rule_backtest.Costs(fee=0.001 if fee is None else float(fee), slippage=slippage),
        min_hold=risk.min_hold_candles if risk.enabled else 0,
        timeframe=str(config.get("timeframe", "1h")),
        horizon=setup.label_horizon() or 24,
        gate_window=gate_window(setup),
        trials=trials,
        seed=setup.seed,
    )


# --- the signal stage as backtested -----------------------------------------------------------


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class PairSignals:
    """The signal stage of one pair over the backtest period, as the strategy ran it.

    :param candles: the candles of the period (``date`` .. ``volume``).
    :param trade_score: the rule's score at each candle close; NaN where FreqAI did not trust the
        prediction (``do_predict`` not 1), so no entry is simulated there.
    :param gate: True where the rule's gate is open (None: no gate).
    :param stake: the stake of an entry signalled at each candle, as a fraction of the pair's
        share of the account (the risk layer's fraction of equity times the number of pairs, at
        most 1).
    :param score_everywhere: the score over every candle given (NaN outside the period), with
        ``close_everywhere``: for the directional AUC, whose last rows read candles after it.
    :param close_everywhere: the closes of every candle given.
    """

    candles: pd.DataFrame
    trade_score: np.ndarray
    gate: np.ndarray | None
    stake: np.ndarray
    score_everywhere: np.ndarray
    close_everywhere: np.ndarray


def _scored_candles(
    setup: ITBSetup, candles: pd.DataFrame, predictions: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    frame = candles.assign(date=pd.to_datetime(candles["date"], utc=True)).reset_index(drop=True)
    wanted = [c for c in (*setup.score_columns, "do_predict") if c in predictions.columns]
    missing = [c for c in setup.score_columns if c not in predictions.columns]
    if missing:
        raise DataError(f"stored predictions lack the score column '{missing[0]}'")
    joined = frame.merge(predictions[["date", *wanted]], on="date", how="left")
    predicted = joined[setup.score_columns[0]].notna().to_numpy()
    # FreqAI's fill_predictions: zeros on every candle it did not predict (the strategy's view)
    joined[wanted] = joined[wanted].fillna(0.0)
    trusted = predicted & (joined["do_predict"].to_numpy() == 1 if "do_predict" in joined else True)
    return joined, np.asarray(trusted)


def _stakes(
    policy: RiskPolicy, frame: pd.DataFrame, score: np.ndarray, buy: float, pairs: int
) -> np.ndarray:
    if not policy.cfg.enabled:
        return np.ones(len(frame))
    risk = policy.indicators(frame)
    rows = pd.concat([frame[["close"]], risk], axis=1).to_dict("records")
    fractions = np.empty(len(rows))
    for i, row in enumerate(rows):
        excess = score[i] - buy
        fractions[i] = policy.stake(
            equity=1.0,
            price=float(row["close"]),
            row=row,
            min_stake=None,
            max_stake=math.inf,
            score_excess=None if math.isnan(excess) else excess,
        )
    return np.minimum(fractions * pairs, 1.0)


def backtested_signals(
    setup: ITBSetup,
    settings: EdgeSettings,
    candles: pd.DataFrame,
    predictions: pd.DataFrame,
    period: tuple[pd.Timestamp, pd.Timestamp],
    pairs: int,
) -> PairSignals:
    """Run the signal stage over one pair's candles with its stored predictions, as the strategy
    did in the backtest, and keep the backtest's period.

    :param candles: the pair's candles (missing ones filled as FreqTrade fills them), from well
        before the period (the gate's days and the smoothing's start) to its end or beyond.
    :param predictions: FreqAI's stored predictions of the backtest's windows.
    :param period: ``[start, stop)`` of the backtest.
    :param pairs: pairs sharing the account (the stakes' scale).
    :raises DataError: without candles in the period or without the score columns.
    """
    frame, trusted = _scored_candles(setup, candles, predictions)
    signals = setup.signal_frame(setup.signal_inputs(frame), settings.overrides)
    score = signals["trade_score"].to_numpy(dtype="float64").copy()
    score[~trusted] = np.nan
    dates = frame["date"]
    inside = ((dates >= period[0]) & (dates < period[1])).to_numpy()
    if not inside.any():
        raise DataError(f"no candles between {period[0]} and {period[1]}")
    gate_name = setup.gate_column
    gate = signals[gate_name].to_numpy(dtype=bool)[inside] if gate_name else None
    policy = RiskPolicy(setup.raw.risk, settings.timeframe)
    stake = _stakes(policy, frame, score, settings.overrides.buy_threshold, pairs)
    price_columns = [c for c in ("date", "open", "high", "low", "close", "volume") if c in frame]
    return PairSignals(
        candles=frame.loc[inside, price_columns].reset_index(drop=True),
        trade_score=score[inside],
        gate=gate,
        stake=stake[inside],
        score_everywhere=np.where(inside, score, np.nan),
        close_everywhere=frame["close"].to_numpy(dtype="float64"),
    )


# --- the figures of one pair ------------------------------------------------------------------


def exposure(trades: Sequence[metrics.Trade], period: tuple[pd.Timestamp, pd.Timestamp]) -> float:
    """Share of the period spent in a position (trades of one pair do not overlap)."""
    length = period[1] - period[0]
    held = pd.Timedelta(0)
    for trade in trades:
        inside = min(trade.close_date, period[1]) - max(trade.open_date, period[0])
        held += max(inside, pd.Timedelta(0))
    return float(held / length) if length > pd.Timedelta(0) else math.nan


def freqtrade_figures(
    trades: Sequence[metrics.Trade],
    candles: pd.DataFrame,
    period: tuple[pd.Timestamp, pd.Timestamp],
    starting_balance: float,
    pair: str,
) -> dict[str, float]:
    """The strategy's figures from FreqTrade's trades of one pair on ``starting_balance``:
    :func:`~itb_ext.evaluation.metrics.trading_metrics`, ``trades_per_year`` and ``exposure_%``.
    """
    account = metrics.account(trades, {pair: candles}, period, starting_balance)
    figures = account.metrics()
    years = (period[1] - period[0]) / pd.Timedelta(days=metrics.DAYS_PER_YEAR)
    figures["trades_per_year"] = len(trades) / years if years > 0 else math.nan
    figures["exposure_%"] = 100.0 * exposure(trades, period)
    return figures


def simulated_figures(result: rule_backtest.RuleBacktest) -> dict[str, float]:
    """Return, Sharpe and maximum drawdown (of the daily equity) of a simulated run, in %."""
    return {
        "return_%": 100.0 * result.total_return,
        "sharpe": result.sharpe,
        "max_drawdown_%": 100.0 * metrics.max_drawdown(result.daily_equity.to_numpy()),
    }


def equal_share_figures(runs: Sequence[rule_backtest.RuleBacktest]) -> dict[str, float]:
    """Return, Sharpe and maximum drawdown (in %) of an account split equally between simulated
    runs of the same days, each share left to grow on its own (not rebalanced)."""
    if not runs:
        raise DataError("equal shares: no runs")
    shares = pd.concat([r.daily_equity for r in runs], axis=1, join="inner")
    equity = shares.mean(axis=1).to_numpy(dtype="float64")
    returns = equity[1:] / equity[:-1] - 1.0
    return {
        "return_%": 100.0 * metrics.total_return(np.r_[1.0, equity]),
        "sharpe": metrics.sharpe_ratio(returns, metrics.DAYS_PER_YEAR),
        "max_drawdown_%": 100.0 * metrics.max_drawdown(equity),
    }


@dataclass(frozen=True)
class PairEdge:
    """Every figure of one pair (see the module docstring for their sources).

    :param pair: e.g. ``BTC/USD``.
    :param strategy: from FreqTrade's trades: ``return_%``, ``sharpe``, ``sortino``, ``calmar``,
        ``max_drawdown_%``, ``trades``, ``win_rate_%``, ``profit_factor``, ``average_trade_%``,
        ``trades_per_year``, ``exposure_%``.
    :param direction_auc: AUC of ``trade_score`` against the sign of the next-``horizon``-candle
        return.
    :param simulated: the simulated strategy's ``return_%``, ``sharpe`` and ``max_drawdown_%``.
    :param baselines: per baseline name (:data:`BASELINES`), the same figures.
    :param luck: the luck tests of the simulated strategy; None when the period is too short
        for them (:func:`luck_tests_fit`).
    :param verdict: the plain verdict of the simulated strategy.
    """

    pair: str
    strategy: Mapping[str, float]
    direction_auc: float
    simulated: Mapping[str, float]
    baselines: Mapping[str, Mapping[str, float]]
    luck: LuckFigures | None
    verdict: str

    def row(self) -> dict[str, Any]:
        """Every figure, as plain JSON values (NaN and infinity as ``None``)."""
        return {
            "pair": self.pair,
            "strategy": {k: _plain(v) for k, v in self.strategy.items()},
            "direction_auc": _plain(self.direction_auc),
            "simulated": {k: _plain(v) for k, v in self.simulated.items()},
            "baselines": {
                n: {k: _plain(v) for k, v in b.items()} for n, b in self.baselines.items()
            },
            "luck": None
            if self.luck is None
            else {k: _plain(v) for k, v in self.luck.row().items()},
            "verdict": self.verdict,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def luck_tests_fit(grid: rule_backtest.CandleGrid) -> bool:
    """Whether the candles are long enough for the placebo shifts: at least
    :data:`~itb_ext.evaluation.luck.DEFAULT_MIN_OFFSET_DAYS` each way (60 days in all)."""
    shortest = math.ceil(DEFAULT_MIN_OFFSET_DAYS * grid.candles_per_day())
    return grid.size >= 2 * shortest


#: The verdict's last clause when there are no luck tests.
TOO_SHORT = f"no luck tests (they need {2 * DEFAULT_MIN_OFFSET_DAYS:g} days or more)"


def _without_luck(
    grid: rule_backtest.CandleGrid, signals: PairSignals, settings: EdgeSettings
) -> tuple[rule_backtest.RuleBacktest, Baselines, str]:
    entry, exit_ = rule_backtest.threshold_signals(
        signals.trade_score, signals.gate, settings.levels
    )
    run = rule_backtest.backtest_rules(
        grid, entry, exit_, settings.costs, stake=signals.stake, min_hold=settings.min_hold
    )
    base = all_baselines(grid, settings.costs, window=settings.gate_window)
    # the comparison of the verdict, without its luck clause (always the last one)
    compared = verdict(run.sharpe, base.sharpes(), math.nan, math.nan).rsplit("; ", 1)[0]
    return run, base, f"{compared}; {TOO_SHORT}"


def pair_edge(
    pair: str,
    signals: PairSignals,
    trades: Sequence[metrics.Trade],
    period: tuple[pd.Timestamp, pd.Timestamp],
    starting_balance: float,
    settings: EdgeSettings,
) -> PairEdge:
    """Every figure of one pair.

    :param signals: the pair's signal stage over the period (:func:`backtested_signals`).
    :param trades: FreqTrade's trades of the pair.
    :param period: ``[start, stop)`` of the backtest.
    :param starting_balance: the pair's share of the starting wallet.
    """
    grid = rule_backtest.candle_grid(signals.candles, pair)
    luck: LuckFigures | None = None
    if luck_tests_fit(grid):
        report = luck_report(
            signals.candles,
            signals.trade_score,
            pair=pair,
            levels=settings.levels,
            costs=settings.costs,
            trials=settings.trials,
            gate=signals.gate,
            stake=signals.stake,
            min_hold=settings.min_hold,
            shifts=settings.shifts,
            gate_window=settings.gate_window,
            seed=settings.seed,
        )
        run, base, said, luck = (
            report.strategy,
            report.baselines,
            report.figures.verdict,
            report.figures,
        )
    else:
        run, base, said = _without_luck(grid, signals, settings)
    return PairEdge(
        pair=pair,
        strategy=freqtrade_figures(trades, signals.candles, period, starting_balance, pair),
        direction_auc=metrics.directional_auc(
            signals.score_everywhere, signals.close_everywhere, settings.horizon
        ),
        simulated=simulated_figures(run),
        baselines={
            BUY_AND_HOLD: simulated_figures(base.buy_and_hold),
            TREND_GATE: simulated_figures(base.trend_gate),
            REVERSAL: simulated_figures(base.reversal),
        },
        luck=luck,
        verdict=said,
    )


# --- text -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeContext:
    """What every block of figures states: the period, the costs, the wallet.

    :param period: ``[start, stop)`` of the backtest.
    :param settings: the backtest's rules and costs.
    :param starting_balance: the whole starting wallet.
    :param currency: the stake currency (``USD``).
    """

    period: tuple[pd.Timestamp, pd.Timestamp]
    settings: EdgeSettings
    starting_balance: float
    currency: str = ""

    def period_text(self) -> str:
        """``2018-10-01 .. 2019-10-01``: first candle to the end of the last one."""
        return f"{self.period[0]:%Y-%m-%d} .. {self.period[1]:%Y-%m-%d}"


def _number(value: float, digits: int = 2, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    if math.isinf(value):
        return "inf"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _span(low: float, high: float, digits: int = 2, scale: float = 1.0) -> str:
    return f"{_number(scale * low, digits)}..{_number(scale * high, digits)}"


def wrapped(text: str, indent: str = "") -> list[str]:
    """``text`` in lines of at most :data:`LINE_WIDTH`, never broken inside a word (a path or
    ``buy-and-hold`` stays whole)."""
    return textwrap.wrap(
        text,
        LINE_WIDTH,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _table(rows: Sequence[tuple[str, Sequence[str]]], pairs: Sequence[str]) -> list[str]:
    # a row without cells is a heading: alone on its line, not widening the label column
    filled = [r for r in rows if any(r[1])]
    label = max([len(r[0]) for r in filled] + [10])
    cell = max([len(c) for r in filled for c in r[1]] + [len(p) for p in pairs]) + 2
    lines = [" " * label + "".join(p.rjust(cell) for p in pairs)]
    for name, cells in rows:
        if not any(cells):
            lines.append(name)
            continue
        lines.append((name.ljust(label) + "".join(c.rjust(cell) for c in cells)).rstrip())
    return lines


def _strategy_cell(key: str, digits: int = 2, sign: bool = False) -> Any:
    return lambda edge: _number(edge.strategy[key], digits, sign)


def _luck_cell(key: str, digits: int = 2, scale: float = 1.0) -> Any:
    def cell(edge: PairEdge) -> str:
        if edge.luck is None:
            return NA
        return _number(scale * float(getattr(edge.luck, key)), digits)

    return cell


def _luck_span(low: str, high: str, digits: int = 2, scale: float = 1.0) -> Any:
    def cell(edge: PairEdge) -> str:
        if edge.luck is None:
            return NA
        luck = edge.luck
        return _span(getattr(luck, low), getattr(luck, high), digits, scale)

    return cell


def figure_rows(edges: Sequence[PairEdge], settings: EdgeSettings) -> list[tuple[str, list[str]]]:
    """The rows of the per-pair table: a label and one cell per pair (a heading row has empty
    cells)."""

    def row(label: str, cell: Any) -> tuple[str, list[str]]:
        return label, [cell(e) for e in edges]

    def heading(label: str) -> tuple[str, list[str]]:
        return label, ["" for _ in edges]

    level = f"{100 * DEFAULT_LEVEL:g} %"
    rows = [
        heading("FreqTrade's trades (risk layer included)"),
        row("  return %", _strategy_cell("return_%", 1, True)),
        row("  Sharpe", _strategy_cell("sharpe")),
        row("  max drawdown %", _strategy_cell("max_drawdown_%", 1)),
        row("  win rate %", _strategy_cell("win_rate_%", 1)),
        row("  profit factor", _strategy_cell("profit_factor")),
        row("  average trade %", _strategy_cell("average_trade_%", 2, True)),
        row("  trades a year", _strategy_cell("trades_per_year", 0)),
        row("  exposure %", _strategy_cell("exposure_%", 0)),
        row(
            f"  direction AUC, next {settings.horizon} candles",
            lambda e: _number(e.direction_auc, 3),
        ),
        heading("Simulated, same fills and costs (Sharpe, return %, max drawdown %)"),
        row("  the strategy's rules", lambda e: _triple(e.simulated)),
        *(row(f"  {name}", lambda e, n=name: _triple(e.baselines[n])) for name in BASELINES),
        heading("Luck tests of the simulated rules"),
        row(f"  placebo percentile ({settings.shifts} shifts)", _luck_cell("placebo_percentile")),
        row(f"  Sharpe, bootstrap {level}", _luck_span("sharpe_low", "sharpe_high")),
        row(
            f"  max drawdown %, bootstrap {level}",
            _luck_span("max_drawdown_low", "max_drawdown_high", 0, 100.0),
        ),
        row(f"  deflated Sharpe (N = {settings.trials})", _luck_cell("deflated_sharpe")),
        row("  drawdown %, 95 % of trade orders", _luck_cell("trade_order_drawdown", 1, 100.0)),
    ]
    return rows


def _triple(figures: Mapping[str, float]) -> str:
    return (
        f"{_number(figures['sharpe'])} / {_number(figures['return_%'], 0, True)} / "
        f"{_number(figures['max_drawdown_%'], 0)}"
    )


def figures_heading(context: EdgeContext, pairs: int) -> list[str]:
    """The lines above the per-pair table: walk-forward, the period, the costs, the wallet."""
    share = context.starting_balance / pairs if pairs else math.nan
    return wrapped(
        f"Walk-forward, out of sample, {context.period_text()}, after "
        f"{context.settings.costs_text()}; each pair on its 1/{pairs} share of the wallet "
        f"({share:,.0f} {context.currency})".replace(" )", ")")
    )


def _sharpe_words(mine: float, theirs: Mapping[str, float]) -> str:
    mine = 0.0 if math.isnan(mine) else mine
    above = [n for n, s in theirs.items() if mine > (0.0 if math.isnan(s) else s)]
    below = [n for n, s in theirs.items() if mine <= (0.0 if math.isnan(s) else s)]
    parts = []
    if above:
        parts.append("above " + " and ".join(above))
    if below:
        parts.append("not above " + " and ".join(below))
    return "; ".join(parts)


def conclusion(edge: PairEdge) -> str:
    """One plain paragraph: FreqTrade's result against buy-and-hold and the trend gate, and the
    luck verdict of the simulated rules."""
    s, hold, gate = edge.strategy, edge.baselines[BUY_AND_HOLD], edge.baselines[TREND_GATE]
    theirs = {"buy-and-hold's": hold["sharpe"], "the trend gate's": gate["sharpe"]}
    return (
        f"{edge.pair}: the strategy returned {_number(s['return_%'], 1, True)} % with Sharpe "
        f"{_number(s['sharpe'])} (FreqTrade's trades); buy-and-hold "
        f"{_number(hold['return_%'], 1, True)} % (Sharpe {_number(hold['sharpe'])}), the trend "
        f"gate alone {_number(gate['return_%'], 1, True)} % (Sharpe {_number(gate['sharpe'])}). "
        f"Its Sharpe is {_sharpe_words(s['sharpe'], theirs)}. The same rules simulated without "
        f"FreqTrade's stops and protections: Sharpe {_number(edge.simulated['sharpe'])}; "
        f"{edge.verdict}."
    )


def yardstick_lines(edges: Sequence[PairEdge]) -> list[str]:
    """Each yardstick, met or not met per pair (FreqTrade's trades)."""
    rows = [
        (y.name, ["met" if y.met(e.strategy) else "not met" for e in edges]) for y in YARDSTICKS
    ]
    return _table(rows, [e.pair for e in edges])


def method_text(settings: EdgeSettings, level: float) -> list[str]:
    """How the simulated rows and the verdict are made, wrapped to :data:`LINE_WIDTH`."""
    levels = settings.levels
    return wrapped(
        "The simulation runs the strategy's entry and exit rules on the stored predictions "
        f"(enter at trade_score >= {levels.buy_level:g} while the gate is open, exit at <= "
        f"{levels.sell_level:g} or when it closes; next-open fills; the risk layer's stakes), "
        "without FreqTrade's stops and protections; the baselines are all-in. Verdict: the "
        "simulated Sharpe against each baseline's; distinguishable from luck when the placebo "
        f"percentile and the deflated Sharpe are both {100 * level:g} % or more."
    )


def edge_text(edges: Sequence[PairEdge], context: EdgeContext) -> str:
    """The per-pair figures, the verdicts, the conclusion and the yardsticks, as printed by the
    demo and shown by the walk-forward report (lines of at most :data:`LINE_WIDTH`)."""
    settings = context.settings
    level = DEFAULT_LEVEL
    lines = [*figures_heading(context, len(edges)), ""]
    lines += _table(figure_rows(edges, settings), [e.pair for e in edges])
    lines += ["", *method_text(settings, level), "", "== Verdict per pair (simulated rules)"]
    for edge in edges:
        lines += wrapped(f"{edge.pair}: {edge.verdict}", "  ")
    lines += ["", "== Conclusion"]
    for edge in edges:
        lines += wrapped(conclusion(edge), "  ")
    lines += [
        "",
        f"== Yardsticks, FreqTrade's trades, walk-forward, after {settings.costs_text()}",
        *yardstick_lines(edges),
    ]
    return "\n".join(lines) + "\n"
