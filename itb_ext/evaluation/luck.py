"""Is a backtest's result skill or luck? Placebo shifts, a block bootstrap, the deflated Sharpe
ratio and a trade-order Monte Carlo, and a verdict drawn from them.

One year of daily returns estimates an annual Sharpe ratio with a standard error of about 1, so
a single backtest figure says little; these tests say how much. Every random draw comes from a
seeded :class:`numpy.random.Generator`: the same seed gives the same figures.

* **Placebo** (:func:`placebo_test`): the strategy's score is shifted in time (circularly, by
  random offsets of at least ``min_offset_days``) while the prices, the gate, the rule, the stake
  and the costs stay in place. A shifted score keeps its own distribution and autocorrelation
  but loses its timing; the percentile of the real Sharpe among the placebo Sharpes is the share
  of placebos it beats.
* **Stationary block bootstrap** (:func:`bootstrap_intervals`, Politis & Romano 1994): the daily
  returns are resampled in blocks of geometric length (mean 10 days, so volatility clusters
  survive), giving intervals for the Sharpe ratio and the maximum drawdown.
* **Deflated Sharpe ratio** (:func:`deflated_sharpe_ratio`, Bailey & López de Prado 2014): the
  probability that the true Sharpe ratio beats the best one expected from ``N`` skill-less trials,
  given the returns' length, skewness and kurtosis.
* **Trade-order Monte Carlo** (:func:`trade_order_drawdown`): the trades' returns compounded in
  random orders; the 95th percentile of the maximum drawdown is a drawdown to be ready for.

A Sharpe ratio that cannot be computed (no variation: no trades) counts as 0 in the placebo,
the bootstrap and the comparisons, the Sharpe ratio of a flat account.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation import metrics
from itb_ext.evaluation.baselines import (
    DEFAULT_GATE_WINDOW,
    Baselines,
    ReversalRule,
    all_baselines,
)
from itb_ext.evaluation.rule_backtest import (
    DAYS_PER_YEAR,
    CandleGrid,
    Costs,
    Holding,
    RuleBacktest,
    RuleLevels,
    candle_grid,
    check_count,
    daily_sharpe,
    daily_values,
    result_of,
    simulate_rules,
    threshold_signals,
)

Seed = int | np.random.Generator

#: Fewest placebo shifts: with fewer, a percentile near 0.90 is too coarse to read.
MIN_SHIFTS = 200
#: Fewest bootstrap resamples and random trade orders.
MIN_RESAMPLES = 1000
#: Default mean block length of the bootstrap, in days (volatility clusters last days to weeks).
DEFAULT_MEAN_BLOCK = 10.0
#: Default shortest placebo shift, in days: longer than the memory of any usual score.
DEFAULT_MIN_OFFSET_DAYS = 30.0
#: Default confidence of the intervals and of the verdict.
DEFAULT_LEVEL = 0.90


def _flat_is_zero(sharpe: float) -> float:
    return 0.0 if math.isnan(sharpe) else sharpe


def _check_level(level: float, name: str = "level") -> None:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise ConfigError(f"luck: {name} must be a fraction in (0, 1), got {level!r}")


# --- placebo ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Placebo:
    """Outcome of :func:`placebo_test`.

    :param real_sharpe: the strategy's annualised Sharpe ratio.
    :param sharpes: the placebo Sharpe ratios, one per offset (no variation counts as 0).
    :param offsets: each placebo's shift of the score, in candles.
    :param percentile: share of the placebos below the real Sharpe, ties counting half.
    """

    real_sharpe: float
    sharpes: np.ndarray
    offsets: np.ndarray
    percentile: float


def rank_among(value: float, others: npt.ArrayLike) -> float:
    """Share of ``others`` below ``value``, ties counting half (NaN counts as 0)."""
    pool = np.nan_to_num(np.asarray(others, dtype="float64"), nan=0.0)
    x = _flat_is_zero(value)
    return float(((pool < x).sum() + 0.5 * (pool == x).sum()) / len(pool))


def placebo_test(
    candles: pd.DataFrame | CandleGrid,
    score: npt.ArrayLike,
    gate: npt.ArrayLike | None,
    levels: RuleLevels,
    costs: Costs,
    *,
    stake: npt.ArrayLike | None = None,
    min_hold: int = 0,
    shifts: int = MIN_SHIFTS,
    min_offset_days: float = DEFAULT_MIN_OFFSET_DAYS,
    seed: Seed = 0,
) -> Placebo:
    """Rank the threshold rule's Sharpe ratio among the same rule on circularly shifted scores.

    The rule: enter at ``score >= buy_level`` while the gate is open, leave at
    ``score <= sell_level`` or when it closes. Each offset is drawn uniformly from
    ``[m, n - m]`` candles, ``m`` the candles of ``min_offset_days``, ``n`` the candles. The
    score's NaN warm-up moves with it: no placebo enters there.

    :param candles: one pair's candles (or their grid).
    :param score: the strategy's score at each candle close.
    :param gate: True where the gate is open; None for no gate.
    :param levels: the rule's buy and sell levels.
    :param costs: fee and slippage per fill.
    :param stake: stake fraction per candle (kept in place, like the gate); None for 1.
    :param min_hold: minimum holding time, in candles.
    :param shifts: number of placebos (at least :data:`MIN_SHIFTS`).
    :param min_offset_days: the shortest shift, in days.
    :param seed: seed or generator of the offsets.
    :raises DataError: when the candles are too short for the shifts.
    """
    check_count(shifts, MIN_SHIFTS, "placebo: shifts")
    grid = candles if isinstance(candles, CandleGrid) else candle_grid(candles, "placebo")
    s = np.asarray(score, dtype="float64")
    if s.shape != (grid.size,):
        raise DataError(f"placebo: the score has shape {s.shape}, candles {grid.size}")
    if not min_offset_days > 0:
        raise ConfigError(f"placebo: min_offset_days must be > 0, got {min_offset_days!r}")
    shortest = math.ceil(min_offset_days * grid.candles_per_day())
    if grid.size - shortest < shortest:
        raise DataError(
            f"placebo: {grid.size} candles are too few for shifts of at least "
            f"{min_offset_days:g} days each way (need {2 * shortest})"
        )
    offsets = np.random.default_rng(seed).integers(
        shortest, grid.size - shortest, size=shifts, endpoint=True
    )

    def sharpe_of(shifted: np.ndarray) -> float:
        entry, exit_ = threshold_signals(shifted, gate, levels)
        path = simulate_rules(grid, entry, exit_, costs, Holding(stake, min_hold))
        return _flat_is_zero(daily_sharpe(daily_values(grid, path.equity)))

    real = sharpe_of(s)
    sharpes = np.array([sharpe_of(np.roll(s, int(k))) for k in offsets])
    return Placebo(
        real_sharpe=real, sharpes=sharpes, offsets=offsets, percentile=rank_among(real, sharpes)
    )


# --- stationary block bootstrap ---------------------------------------------------------------


def stationary_bootstrap_indices(
    length: int, resamples: int, mean_block: float, seed: Seed = 0
) -> np.ndarray:
    """Row indices of stationary-bootstrap resamples (Politis & Romano 1994).

    Each resample is a chain of blocks: a block starts at a uniformly drawn row and runs on
    (wrapping from the last row to the first) until a new block starts, which happens at each
    step with probability ``1 / mean_block``; block lengths are geometric with that mean.

    :param length: rows of the sample (and of each resample).
    :param resamples: number of resamples.
    :param mean_block: mean block length, in rows (>= 1).
    :param seed: seed or generator.
    :return: an int array of shape ``(resamples, length)``.
    """
    check_count(length, 1, "bootstrap: length")
    check_count(resamples, 1, "bootstrap: resamples")
    if not mean_block >= 1.0:
        raise ConfigError(f"bootstrap: mean_block must be >= 1, got {mean_block!r}")
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, length, size=(resamples, length))
    new_block = rng.random((resamples, length)) < 1.0 / mean_block
    new_block[:, 0] = True
    step = np.arange(length)
    block_began = np.maximum.accumulate(np.where(new_block, step, 0), axis=1)
    first_row = np.take_along_axis(starts, block_began, axis=1)
    return np.asarray((first_row + step - block_began) % length)


@dataclass(frozen=True)
class Interval:
    """A central interval of a resampled figure, around the figure itself."""

    estimate: float
    low: float
    high: float
    level: float


@dataclass(frozen=True)
class BootstrapIntervals:
    """Outcome of :func:`bootstrap_intervals`: the annualised Sharpe ratio and the maximum
    drawdown of the daily equity, each with its interval."""

    sharpe: Interval
    max_drawdown: Interval
    resamples: int
    mean_block: float


def _compounded(returns: np.ndarray) -> np.ndarray:
    return np.asarray(np.cumprod(np.r_[1.0, 1.0 + returns]))


def _interval(estimate: float, draws: np.ndarray, level: float) -> Interval:
    low, high = np.percentile(draws, [50.0 * (1.0 - level), 50.0 * (1.0 + level)])
    return Interval(estimate=estimate, low=float(low), high=float(high), level=level)


def bootstrap_intervals(
    daily_returns: npt.ArrayLike,
    resamples: int = MIN_RESAMPLES,
    mean_block: float = DEFAULT_MEAN_BLOCK,
    level: float = DEFAULT_LEVEL,
    seed: Seed = 0,
) -> BootstrapIntervals:
    """Percentile intervals of the Sharpe ratio (sqrt(365)) and the maximum drawdown of the
    daily returns, from a stationary block bootstrap.

    :param daily_returns: day-on-day returns of the equity.
    :param resamples: number of resamples (at least :data:`MIN_RESAMPLES`).
    :param mean_block: mean block length, in days.
    :param level: coverage of each interval (0.90: from the 5th to the 95th percentile).
    :param seed: seed or generator.
    :raises DataError: with fewer than two returns.
    """
    check_count(resamples, MIN_RESAMPLES, "bootstrap: resamples")
    _check_level(level)
    r = np.asarray(daily_returns, dtype="float64")
    if len(r) < 2 or not np.isfinite(r).all():
        raise DataError(f"bootstrap: needs at least 2 finite daily returns, got {len(r)}")
    samples = r[stationary_bootstrap_indices(len(r), resamples, mean_block, seed)]
    sharpes = np.array([_flat_is_zero(metrics.sharpe_ratio(x, DAYS_PER_YEAR)) for x in samples])
    drawdowns = np.array([metrics.max_drawdown(_compounded(x)) for x in samples])
    return BootstrapIntervals(
        sharpe=_interval(_flat_is_zero(metrics.sharpe_ratio(r, DAYS_PER_YEAR)), sharpes, level),
        max_drawdown=_interval(metrics.max_drawdown(_compounded(r)), drawdowns, level),
        resamples=resamples,
        mean_block=float(mean_block),
    )


# --- deflated Sharpe ratio --------------------------------------------------------------------


def expected_max_sharpe(trials: int, variance: float) -> float:
    """SR0: the largest Sharpe ratio expected among ``trials`` skill-less configurations.

    ``SR0 = sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e)))``, ``g`` the
    Euler-Mascheroni constant, ``V`` the variance of the Sharpe ratios across the trials (same
    units as the Sharpe ratio). One trial gives 0.

    :param trials: configurations tried, N >= 1.
    :param variance: V >= 0.
    """
    check_count(trials, 1, "deflated Sharpe: trials")
    if not variance >= 0:
        raise ConfigError(f"deflated Sharpe: variance must be >= 0, got {variance!r}")
    if trials == 1:
        return 0.0
    g = np.euler_gamma
    quantiles = (1.0 - g) * stats.norm.ppf(1.0 - 1.0 / trials) + g * stats.norm.ppf(
        1.0 - 1.0 / (trials * math.e)
    )
    return float(math.sqrt(variance) * quantiles)


def deflated_sharpe_ratio(
    sharpe: float,
    trials: int,
    observations: int,
    skewness: float,
    kurtosis: float,
    variance: float | None = None,
) -> float:
    """The deflated Sharpe ratio: the probability that the true Sharpe ratio exceeds SR0.

    ``DSR = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2))``.

    **Units**: ``sharpe`` and ``variance`` are per period of the returns (daily, *not*
    annualised): divide an annualised Sharpe ratio by sqrt(365).

    :param sharpe: SR, the observed Sharpe ratio per period.
    :param trials: N, the configurations tried before this one was chosen (1: none, the
        probabilistic Sharpe ratio against 0).
    :param observations: T, the number of returns.
    :param skewness: skewness of the returns.
    :param kurtosis: kurtosis of the returns, *not* excess (3 for a normal distribution).
    :param variance: V, the variance of the per-period Sharpe ratios across the trials. By
        default ``1 / (T - 1)``: the estimation variance of a Sharpe ratio of 0, i.e. trials
        that differ by noise alone.
    :return: a probability; NaN when it cannot be computed (T < 2, a NaN input or a
        non-positive denominator).
    """
    check_count(observations, 1, "deflated Sharpe: observations")
    if observations < 2 or not all(map(math.isfinite, (sharpe, skewness, kurtosis))):
        return math.nan
    v = 1.0 / (observations - 1) if variance is None else variance
    threshold = expected_max_sharpe(trials, v)
    spread = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if spread <= 0:
        return math.nan
    z = (sharpe - threshold) * math.sqrt(observations - 1) / math.sqrt(spread)
    return float(stats.norm.cdf(z))


@dataclass(frozen=True)
class DeflatedSharpe:
    """Outcome of :func:`deflated_sharpe`; Sharpe ratios per day (multiply by sqrt(365) for a
    year).

    :param value: the deflated Sharpe ratio (a probability).
    :param daily_sharpe: the observed Sharpe ratio per day.
    :param threshold: SR0 per day.
    :param trials: N.
    :param variance: V used (per day, squared).
    :param observations: T, daily returns.
    :param skewness: of the daily returns.
    :param kurtosis: of the daily returns (not excess).
    """

    value: float
    daily_sharpe: float
    threshold: float
    trials: int
    variance: float
    observations: int
    skewness: float
    kurtosis: float


def deflated_sharpe(
    daily_returns: npt.ArrayLike, trials: int, variance: float | None = None
) -> DeflatedSharpe:
    """The deflated Sharpe ratio of daily returns, with their skewness and kurtosis (scipy,
    population moments).

    :param daily_returns: day-on-day returns of the equity.
    :param trials: configurations tried (1: the probabilistic Sharpe ratio against 0).
    :param variance: variance of the daily Sharpe ratios across the trials (default in
        :func:`deflated_sharpe_ratio`).
    """
    r = np.asarray(daily_returns, dtype="float64")
    t = len(r)
    sr = metrics.sharpe_ratio(r, 1.0)  # per period: one period per "year"
    varies = t >= 2 and float(np.ptp(r)) > 0
    skewness = float(stats.skew(r)) if varies else math.nan
    kurtosis = float(stats.kurtosis(r, fisher=False)) if varies else math.nan
    v = (1.0 / (t - 1) if t >= 2 else math.nan) if variance is None else variance
    return DeflatedSharpe(
        value=deflated_sharpe_ratio(sr, trials, max(t, 1), skewness, kurtosis, variance),
        daily_sharpe=sr,
        threshold=expected_max_sharpe(trials, v) if math.isfinite(v) else math.nan,
        trials=trials,
        variance=v,
        observations=t,
        skewness=skewness,
        kurtosis=kurtosis,
    )


# --- trade-order Monte Carlo ------------------------------------------------------------------


@dataclass(frozen=True)
class TradeOrderDrawdown:
    """Outcome of :func:`trade_order_drawdown`.

    :param actual: maximum drawdown of the trades compounded in their real order.
    :param quantile_drawdown: the ``quantile`` of the maximum drawdown over random orders.
    :param quantile: which quantile (0.95).
    :param orders: random orders drawn.
    :param trades: trades shuffled.
    """

    actual: float
    quantile_drawdown: float
    quantile: float
    orders: int
    trades: int


def trade_order_drawdown(
    trade_returns: npt.ArrayLike,
    orders: int = MIN_RESAMPLES,
    quantile: float = 0.95,
    seed: Seed = 0,
) -> TradeOrderDrawdown:
    """Maximum drawdown of the equity compounded from the trades' returns in random orders.

    The drawdown is measured from trade to trade (the equity after each trade, starting at 1).

    :param trade_returns: each trade's change of the equity (return times stake).
    :param orders: random orders (at least :data:`MIN_RESAMPLES`).
    :param quantile: quantile of the drawdowns reported.
    :param seed: seed or generator.
    :return: NaN drawdowns without trades.
    """
    check_count(orders, MIN_RESAMPLES, "trade orders: orders")
    _check_level(quantile, "quantile")
    r = np.asarray(trade_returns, dtype="float64")
    if len(r) == 0:
        return TradeOrderDrawdown(math.nan, math.nan, quantile, orders, 0)
    shuffled = np.random.default_rng(seed).permuted(np.tile(r, (orders, 1)), axis=1)
    drawdowns = np.array([metrics.max_drawdown(_compounded(x)) for x in shuffled])
    return TradeOrderDrawdown(
        actual=metrics.max_drawdown(_compounded(r)),
        quantile_drawdown=float(np.quantile(drawdowns, quantile)),
        quantile=quantile,
        orders=orders,
        trades=len(r),
    )


# --- verdict ----------------------------------------------------------------------------------


def verdict(
    sharpe: float,
    baseline_sharpes: Mapping[str, float],
    placebo_percentile: float,
    deflated: float,
    level: float = DEFAULT_LEVEL,
) -> str:
    """A plain-language verdict.

    The rule: the strategy *beats* a baseline when its Sharpe ratio is strictly above the
    baseline's, *matches* it when they are equal (the same trades) and otherwise *loses to* it
    (a Sharpe ratio that cannot be computed counts as 0). It is *distinguishable from luck at*
    ``level`` when the placebo percentile is ``>= level`` and the deflated Sharpe ratio is
    ``>= level``; otherwise (a NaN included) it is *indistinguishable from luck*. Example:
    "beats buy-and-hold and the trend gate; loses to the reversal rule; indistinguishable from
    luck".

    :param sharpe: the strategy's Sharpe ratio.
    :param baseline_sharpes: each baseline's Sharpe ratio, by its name in a sentence.
    :param placebo_percentile: the strategy's percentile among the placebos.
    :param deflated: the deflated Sharpe ratio.
    :param level: the bar of both luck figures.
    """
    _check_level(level)
    mine = _flat_is_zero(sharpe)
    theirs = {name: _flat_is_zero(s) for name, s in baseline_sharpes.items()}
    groups = (
        ("beats", [name for name, s in theirs.items() if mine > s]),
        ("matches", [name for name, s in theirs.items() if mine == s]),
        ("loses to", [name for name, s in theirs.items() if mine < s]),
    )
    parts = [f"{verb} {_listed(names)}" for verb, names in groups if names]
    skilled = placebo_percentile >= level and deflated >= level  # False for NaN
    parts.append(
        f"distinguishable from luck at {100 * level:g} %"
        if skilled
        else "indistinguishable from luck"
    )
    return "; ".join(parts)


def _listed(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


# --- everything for one pair ------------------------------------------------------------------


@dataclass(frozen=True)
class LuckFigures:
    """The luck tests of one pair, ready to print (:meth:`text`) or to tabulate (:meth:`row`).

    Sharpe ratios are annualised (daily returns at 00:00 UTC, sqrt(365)); drawdowns and returns
    are fractions; the bootstrap's interval and the drawdown are of the daily equity.
    """

    pair: str
    sharpe: float
    total_return: float
    max_drawdown: float
    trades: int
    trades_per_year: float
    exposure: float
    buy_and_hold_sharpe: float
    trend_gate_sharpe: float
    reversal_sharpe: float
    placebo_percentile: float
    placebo_shifts: int
    sharpe_low: float
    sharpe_high: float
    max_drawdown_low: float
    max_drawdown_high: float
    interval_level: float
    deflated_sharpe: float
    sharpe_threshold: float
    trials: int
    trade_order_drawdown: float
    verdict: str

    def row(self) -> dict[str, float | int | str]:
        """The figures by field name."""
        return asdict(self)

    def text(self) -> str:
        """The figures as a short multi-line block."""
        pct = 100 * self.interval_level
        return "\n".join(
            [
                f"{self.pair}: {self.verdict}",
                f"  Sharpe {self.sharpe:.2f} (bootstrap {pct:g} %: {self.sharpe_low:.2f} .. "
                f"{self.sharpe_high:.2f}); buy-and-hold {self.buy_and_hold_sharpe:.2f}, "
                f"trend gate {self.trend_gate_sharpe:.2f}, reversal {self.reversal_sharpe:.2f}",
                f"  return {100 * self.total_return:.1f} %, max drawdown "
                f"{100 * self.max_drawdown:.1f} % ({pct:g} %: {100 * self.max_drawdown_low:.1f}"
                f" .. {100 * self.max_drawdown_high:.1f} %), 95 % of trade orders within "
                f"{100 * self.trade_order_drawdown:.1f} %",
                f"  {self.trades} trades ({self.trades_per_year:.0f} a year), in a position "
                f"{100 * self.exposure:.0f} % of the time",
                f"  placebo percentile {self.placebo_percentile:.2f} of {self.placebo_shifts} "
                f"shifts; deflated Sharpe {self.deflated_sharpe:.2f} (N = {self.trials}, "
                f"Sharpe to beat {self.sharpe_threshold:.2f})",
            ]
        )

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class LuckReport:
    """Everything :func:`luck_report` computed: the figures and the results behind them."""

    figures: LuckFigures
    strategy: RuleBacktest
    baselines: Baselines
    placebo: Placebo
    bootstrap: BootstrapIntervals
    deflated: DeflatedSharpe
    trade_order: TradeOrderDrawdown


def luck_report(
    candles: pd.DataFrame,
    score: npt.ArrayLike,
    *,
    pair: str,
    levels: RuleLevels,
    costs: Costs,
    trials: int,
    gate: npt.ArrayLike | None = None,
    stake: npt.ArrayLike | None = None,
    min_hold: int = 0,
    variance: float | None = None,
    shifts: int = MIN_SHIFTS,
    resamples: int = MIN_RESAMPLES,
    mean_block: float = DEFAULT_MEAN_BLOCK,
    level: float = DEFAULT_LEVEL,
    reversal: ReversalRule | None = None,
    gate_window: int = DEFAULT_GATE_WINDOW,
    seed: int = 0,
) -> LuckReport:
    """Backtest the threshold rule on one pair and run every luck test and baseline on it.

    :param candles: the pair's candles (``date``, ``open``, ``high``, ``low``, ``close``).
    :param score: the strategy's score at each candle close.
    :param pair: the pair's name, for the text.
    :param levels: the rule's levels (enter at ``score >= buy_level`` while the gate is open,
        leave at ``score <= sell_level`` or when it closes).
    :param costs: fee and slippage per fill, for the strategy and the baselines.
    :param trials: configurations tried to arrive at this one (N of the deflated Sharpe ratio;
        for a grid search, the grid's size; 1 if nothing was tuned on these candles).
    :param gate: True where the strategy's gate is open; None for no gate.
    :param stake: stake fraction per candle; None for all-in.
    :param min_hold: minimum holding time, in candles.
    :param variance: variance of the daily Sharpe ratios across the trials (see
        :func:`deflated_sharpe_ratio`).
    :param shifts: placebo shifts.
    :param resamples: bootstrap resamples, and random trade orders.
    :param mean_block: bootstrap mean block length, in days.
    :param level: coverage of the intervals and the bar of the verdict.
    :param reversal: the reversal baseline's rule.
    :param gate_window: daily closes in the baselines' trend gate.
    :param seed: one seed; the placebo, the bootstrap and the trade orders draw from
        independent streams spawned from it.
    """
    _check_level(level)
    grid = candle_grid(candles, pair)
    s = np.asarray(score, dtype="float64")
    if s.shape != (grid.size,):
        raise DataError(f"{pair}: the score has shape {s.shape}, candles {grid.size}")
    entry, exit_ = threshold_signals(s, gate, levels)
    strategy = result_of(grid, simulate_rules(grid, entry, exit_, costs, Holding(stake, min_hold)))
    base = all_baselines(grid, costs, gate_window, reversal)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
    placebo = placebo_test(
        grid,
        s,
        gate,
        levels,
        costs,
        stake=stake,
        min_hold=min_hold,
        shifts=shifts,
        seed=streams[0],
    )
    daily = strategy.daily_returns
    boot = bootstrap_intervals(daily, resamples, mean_block, level, streams[1])
    deflated = deflated_sharpe(daily, trials, variance)
    order = trade_order_drawdown(strategy.equity_returns, resamples, 0.95, streams[2])
    sharpes = base.sharpes()
    figures = LuckFigures(
        pair=pair,
        sharpe=strategy.sharpe,
        total_return=strategy.total_return,
        max_drawdown=boot.max_drawdown.estimate,
        trades=len(strategy.trades),
        trades_per_year=strategy.trades_per_year,
        exposure=strategy.exposure,
        buy_and_hold_sharpe=sharpes["buy-and-hold"],
        trend_gate_sharpe=sharpes["the trend gate"],
        reversal_sharpe=sharpes["the reversal rule"],
        placebo_percentile=placebo.percentile,
        placebo_shifts=shifts,
        sharpe_low=boot.sharpe.low,
        sharpe_high=boot.sharpe.high,
        max_drawdown_low=boot.max_drawdown.low,
        max_drawdown_high=boot.max_drawdown.high,
        interval_level=level,
        deflated_sharpe=deflated.value,
        sharpe_threshold=deflated.threshold * math.sqrt(DAYS_PER_YEAR),
        trials=int(trials),
        trade_order_drawdown=order.quantile_drawdown,
        verdict=verdict(strategy.sharpe, sharpes, placebo.percentile, deflated.value, level),
    )
    return LuckReport(figures, strategy, base, placebo, boot, deflated, order)  # field order
