"""Luck tests: the deflated Sharpe ratio against hand and paper values, the bootstrap's blocks and
intervals, the placebo's ranks on perfect foresight and on noise, the trade-order drawdown on an
enumerable example, and the verdict's wording."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from itb_ext.errors import ConfigError, DataError
from itb_ext.evaluation.luck import (
    bootstrap_intervals,
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    luck_report,
    placebo_test,
    rank_among,
    stationary_bootstrap_indices,
    trade_order_drawdown,
    verdict,
)
from itb_ext.evaluation.rule_backtest import Costs, RuleLevels, backtest_rules, threshold_signals

GAMMA = 0.5772156649015329


def hourly_walk(days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 24 * days
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame(
        {
            "date": pd.date_range("2023-01-01", periods=n, freq="1h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
        }
    )


# --- deflated Sharpe ratio --------------------------------------------------------------------


def test_the_deflated_sharpe_ratio_by_hand() -> None:
    sr, n, t, skew, kurt, v = 0.08, 20, 500, -0.4, 5.0, 0.003
    sr0 = math.sqrt(v) * (
        (1 - GAMMA) * stats.norm.ppf(1 - 1 / n) + GAMMA * stats.norm.ppf(1 - 1 / (n * math.e))
    )
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert expected_max_sharpe(n, v) == pytest.approx(sr0, rel=1e-12)
    assert deflated_sharpe_ratio(sr, n, t, skew, kurt, v) == pytest.approx(
        stats.norm.cdf(z), rel=1e-12
    )


def test_the_deflated_sharpe_ratio_reproduces_the_papers_example() -> None:
    # Bailey & Lopez de Prado (2014): annual SR 2.5 after 100 trials with annual V = 1/2, five
    # years of daily returns (T = 1250, 250 a year), skewness -3, kurtosis 10: DSR = 0.9004
    dsr = deflated_sharpe_ratio(2.5 / math.sqrt(250), 100, 1250, -3.0, 10.0, 0.5 / 250)
    assert dsr == pytest.approx(0.9004, abs=1e-4)


def test_the_threshold_is_close_to_the_expected_maximum_of_normal_draws() -> None:
    rng = np.random.default_rng(0)
    simulated = rng.standard_normal((20_000, 100)).max(axis=1).mean()
    assert expected_max_sharpe(100, 1.0) == pytest.approx(simulated, rel=0.02)
    assert expected_max_sharpe(100, 4.0) == pytest.approx(2 * expected_max_sharpe(100, 1.0))


def test_one_trial_is_the_probabilistic_sharpe_ratio_against_zero() -> None:
    assert expected_max_sharpe(1, 0.5) == 0.0
    sr, t, skew, kurt = 0.05, 365, 0.3, 4.0
    psr = stats.norm.cdf(sr * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))
    assert deflated_sharpe_ratio(sr, 1, t, skew, kurt) == pytest.approx(psr, rel=1e-12)


def test_the_deflated_sharpe_of_returns_uses_their_moments_and_per_day_units() -> None:
    rng = np.random.default_rng(4)
    r = rng.standard_t(4, 365) * 0.02 + 0.002
    d = deflated_sharpe(r, trials=50)
    assert d.skewness == pytest.approx(stats.skew(r), rel=1e-12)
    assert d.kurtosis == pytest.approx(stats.kurtosis(r, fisher=False), rel=1e-12)
    assert d.daily_sharpe == pytest.approx(r.mean() / r.std(ddof=1), rel=1e-12)
    assert d.variance == pytest.approx(1 / 364)
    expected = deflated_sharpe_ratio(d.daily_sharpe, 50, 365, d.skewness, d.kurtosis, 1 / 364)
    assert d.value == pytest.approx(expected, rel=1e-12)
    # more trials raise the bar
    assert deflated_sharpe(r, trials=500).value < d.value < deflated_sharpe(r, trials=1).value


def test_the_deflated_sharpe_ratio_rejects_zero_trials() -> None:
    with pytest.raises(ConfigError, match="trials"):
        expected_max_sharpe(0, 1.0)


# --- stationary bootstrap ---------------------------------------------------------------------


def block_lengths(indices: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive rows (modulo the sample length) in each resample."""
    n = indices.shape[1]
    continues = (indices[:, 1:] - indices[:, :-1]) % n == 1
    starts = np.c_[np.ones(len(indices), dtype=bool), ~continues]
    return np.diff(np.r_[np.flatnonzero(starts.ravel()), starts.size])


def test_bootstrap_blocks_have_geometric_lengths_with_mean_ten() -> None:
    indices = stationary_bootstrap_indices(1000, 200, 10.0, seed=1)
    assert indices.shape == (200, 1000)
    assert indices.min() >= 0 and indices.max() < 1000
    lengths = block_lengths(indices)
    # the last block of each resample is cut short, and a new block may by chance continue the
    # last one: both are small at this length
    assert lengths.mean() == pytest.approx(10.0, rel=0.05)
    assert (lengths == 1).mean() == pytest.approx(0.1, abs=0.015)  # P(L = 1) = p


def test_the_bootstrap_is_reproducible_from_its_seed() -> None:
    r = np.random.default_rng(2).normal(0.001, 0.02, 365)
    first = bootstrap_intervals(r, seed=7)
    assert first == bootstrap_intervals(r, seed=7)
    assert first.sharpe != bootstrap_intervals(r, seed=8).sharpe


def test_the_bootstrap_intervals_contain_the_estimates_on_a_random_walk() -> None:
    for seed in range(5):
        r = np.random.default_rng(seed).normal(0.0, 0.03, 365)
        boot = bootstrap_intervals(r, seed=seed)
        equity = np.cumprod(np.r_[1.0, 1 + r])
        assert boot.sharpe.estimate == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365))
        assert boot.max_drawdown.estimate == pytest.approx(
            (1 - equity / np.maximum.accumulate(equity)).max()
        )
        assert boot.sharpe.low < boot.sharpe.estimate < boot.sharpe.high
        assert boot.max_drawdown.low < boot.max_drawdown.estimate < boot.max_drawdown.high
        # one year: the Sharpe ratio's interval is about +-1.645 wide
        assert 2.0 < boot.sharpe.high - boot.sharpe.low < 4.5


def test_the_bootstrap_refuses_too_few_resamples_or_returns() -> None:
    with pytest.raises(ConfigError, match="resamples"):
        bootstrap_intervals(np.zeros(100), resamples=999)
    with pytest.raises(DataError, match="at least 2"):
        bootstrap_intervals(np.zeros(1))


# --- placebo ----------------------------------------------------------------------------------


def test_the_rank_counts_ties_half_and_nan_as_zero() -> None:
    assert rank_among(1.0, [0.0, 1.0, 2.0, np.nan]) == pytest.approx(2.5 / 4)
    assert rank_among(np.nan, [-1.0, 1.0]) == 0.5


def test_perfect_foresight_ranks_above_every_placebo() -> None:
    candles = hourly_walk(100, seed=3)
    close = candles["close"].to_numpy()
    score = np.r_[np.log(close[1:] / close[:-1]), np.nan]  # the next candle's return
    placebo = placebo_test(
        candles, score, None, RuleLevels(0.0, 0.0), Costs(fee=0.0005, slippage=0.0), seed=1
    )
    assert placebo.percentile == 1.0
    assert placebo.real_sharpe > 5.0
    assert len(placebo.sharpes) == 200
    assert placebo.offsets.min() >= 30 * 24 and placebo.offsets.max() <= len(candles) - 30 * 24


def test_a_noise_score_does_not_rank_at_the_top_on_most_seeds() -> None:
    # the placebo ranks of noise are about uniform: expect one seed in 20 at or above 0.95
    # (five or more has a chance of about 0.3 %), and a mean rank near one half
    candles = hourly_walk(90, seed=9)
    gate = np.ones(len(candles), dtype=bool)
    ranks = []
    for seed in range(20):
        noise = np.random.default_rng(100 + seed).standard_normal(len(candles))
        placebo = placebo_test(candles, noise, gate, RuleLevels(1.0, 0.0), Costs(), seed=seed)
        ranks.append(placebo.percentile)
    assert sum(r >= 0.95 for r in ranks) <= 4
    assert 0.3 < np.mean(ranks) < 0.7


def test_the_placebo_keeps_the_rule_and_ranks_the_real_backtest() -> None:
    candles = hourly_walk(80, seed=4)
    score = np.random.default_rng(0).standard_normal(len(candles))
    gate = np.arange(len(candles)) % 48 < 30
    levels, costs = RuleLevels(0.8, -0.2), Costs()
    placebo = placebo_test(candles, score, gate, levels, costs, seed=3)
    entry, exit_ = threshold_signals(score, gate, levels)
    assert placebo.real_sharpe == pytest.approx(backtest_rules(candles, entry, exit_, costs).sharpe)
    shifted = np.roll(score, int(placebo.offsets[0]))
    entry, exit_ = threshold_signals(shifted, gate, levels)
    assert placebo.sharpes[0] == pytest.approx(backtest_rules(candles, entry, exit_, costs).sharpe)
    again = placebo_test(candles, score, gate, levels, costs, seed=3)
    assert (again.offsets == placebo.offsets).all()


def test_the_placebo_needs_sixty_days_and_two_hundred_shifts() -> None:
    candles = hourly_walk(59, seed=0)
    score = np.zeros(len(candles))
    with pytest.raises(DataError, match="too few"):
        placebo_test(candles, score, None, RuleLevels(1.0, 0.0), Costs())
    with pytest.raises(ConfigError, match="shifts"):
        placebo_test(candles, score, None, RuleLevels(1.0, 0.0), Costs(), shifts=100)


# --- trade-order Monte Carlo ------------------------------------------------------------------


def test_the_trade_order_drawdown_on_an_enumerable_example() -> None:
    # orders of +10 %, -20 %, -10 %: the two losses adjacent (4 of 6 orders) fall
    # 1 - 0.8 * 0.9 = 28 % from the peak; apart (2 of 6) 1 - 0.792 = 20.8 %
    result = trade_order_drawdown([0.1, -0.2, -0.1], seed=0)
    assert result.actual == pytest.approx(0.28)
    assert result.quantile_drawdown == pytest.approx(0.28)
    assert trade_order_drawdown([-0.2, 0.1, -0.1], quantile=0.05, seed=0).quantile_drawdown == (
        pytest.approx(1 - 0.792)
    )
    assert result == trade_order_drawdown([0.1, -0.2, -0.1], seed=0)
    assert math.isnan(trade_order_drawdown([]).quantile_drawdown)


# --- verdict and the whole report -------------------------------------------------------------


def test_the_verdict_names_what_is_beaten_and_applies_both_luck_bars() -> None:
    baselines = {"buy-and-hold": 0.5, "the trend gate": 0.9, "the reversal rule": np.nan}
    assert verdict(1.0, baselines, 0.95, 0.93) == (
        "beats buy-and-hold, the trend gate and the reversal rule; "
        "distinguishable from luck at 90 %"
    )
    assert verdict(0.7, baselines, 0.95, 0.89) == (
        "beats buy-and-hold and the reversal rule; loses to the trend gate; "
        "indistinguishable from luck"
    )
    assert verdict(-0.1, baselines, 0.99, 0.99, level=0.95) == (
        "loses to buy-and-hold, the trend gate and the reversal rule; "
        "distinguishable from luck at 95 %"
    )
    assert verdict(2.0, {"buy-and-hold": 1.0}, np.nan, 0.99).endswith("indistinguishable from luck")
    assert verdict(0.5, baselines, 0.5, 0.5) == (
        "beats the reversal rule; matches buy-and-hold; loses to the trend gate; "
        "indistinguishable from luck"
    )


def test_the_report_gathers_every_figure_of_one_pair() -> None:
    candles = hourly_walk(120, seed=6)
    score = np.random.default_rng(1).standard_normal(len(candles))
    levels, costs = RuleLevels(1.0, 0.0), Costs()
    report = luck_report(candles, score, pair="TEST/USD", levels=levels, costs=costs, trials=10)
    f = report.figures
    entry, exit_ = threshold_signals(score, None, levels)
    direct = backtest_rules(candles, entry, exit_, costs)
    assert f.sharpe == pytest.approx(direct.sharpe)
    assert f.trades == len(direct.trades)
    assert f.buy_and_hold_sharpe == report.baselines.buy_and_hold.sharpe
    assert f.sharpe_low <= f.sharpe <= f.sharpe_high
    assert f.deflated_sharpe == report.deflated.value
    assert f.sharpe_threshold == pytest.approx(report.deflated.threshold * math.sqrt(365))
    assert f.placebo_percentile == report.placebo.percentile
    assert f.verdict.endswith("luck")
    text = report.figures.text()
    assert text.startswith("TEST/USD: ") and f.verdict in text
    assert (
        luck_report(candles, score, pair="TEST/USD", levels=levels, costs=costs, trials=10).figures
        == f
    )
