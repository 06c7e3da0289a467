"""Risk rules on tiny inputs, with values worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from itb_ext.config.risk import (
    ProtectionsConfig,
    RegimeConfig,
    RiskConfig,
    SignalStrengthConfig,
    SizingConfig,
    StopConfig,
)
from itb_ext.risk.indicators import (
    annualised_volatility,
    average_true_range,
    realised_volatility,
    risk_indicators,
    true_range,
    volatility_rank,
)
from itb_ext.risk.limits import daily_loss_exceeded, protection_list, utc_day_start
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.sizing import (
    kelly_fraction,
    signal_strength_multiplier,
    stake_amount,
    stake_fraction,
    volatility_fraction,
    volatility_target_fraction,
)
from itb_ext.risk.slippage import slipped_price
from itb_ext.risk.stops import ratchet, regime_factors, stop_distance, stop_price

# --- sizing -----------------------------------------------------------------------------------


def test_fixed_fraction_stakes_that_share_of_equity() -> None:
    cfg = SizingConfig(mode="fixed", fraction=0.1)
    assert stake_fraction(cfg) == 0.1
    assert stake_amount(5_000.0, 0.1, min_stake=10.0, max_stake=4_000.0) == 500.0


def test_stake_amount_respects_wallet_and_never_rounds_up_past_the_fraction() -> None:
    assert stake_amount(5_000.0, 0.1, min_stake=None, max_stake=300.0) == 300.0
    assert stake_amount(5_000.0, 0.001, min_stake=10.0, max_stake=4_000.0) == 0.0


def test_volatility_target_risks_the_configured_share_at_the_stop() -> None:
    # 1 % risk with a 4 % stop: stake 25 % -> a stop-out loses 0.25 * 0.04 = 1 %
    assert volatility_fraction(0.01, 0.04) == pytest.approx(0.25)
    cfg = SizingConfig(mode="volatility", risk_per_trade=0.01, max_fraction=0.2)
    assert stake_fraction(cfg, stop_distance=0.04) == pytest.approx(0.2)  # capped
    assert stake_fraction(cfg, stop_distance=0.10) == pytest.approx(0.1)
    assert stake_fraction(cfg, stop_distance=None) == cfg.min_fraction
    with pytest.raises(ValueError, match="stop distance"):
        volatility_fraction(0.01, 0.0)


def test_kelly_fraction_from_win_rate_and_payoff() -> None:
    # p = 0.6, avg win 0.04, avg loss 0.02 -> b = 2; f = (2*0.6 - 0.4)/2 = 0.4; half Kelly 0.2
    profits = [0.04, -0.02, 0.04, -0.02, 0.04]
    assert kelly_fraction(profits, 5, 0.5) == pytest.approx(0.2)
    # only the newest `trades` count: an old huge loss is forgotten
    assert kelly_fraction([-0.5, *profits], 5, 0.5) == pytest.approx(0.2)
    assert kelly_fraction(profits, 6, 0.5) is None
    assert kelly_fraction([-0.01, -0.02], 2, 0.5) == -0.5
    assert kelly_fraction([0.01, 0.03], 2, 0.5) == pytest.approx(0.5)
    # p = 0.5, b = 1 -> no edge
    assert kelly_fraction([0.02, -0.02], 2, 1.0) == pytest.approx(0.0)


def test_kelly_sizing_falls_back_to_minimum_and_is_capped() -> None:
    cfg = SizingConfig(
        mode="kelly", kelly_trades=5, kelly_fraction=0.5, min_fraction=0.02, max_fraction=0.15
    )
    profits = [0.04, -0.02, 0.04, -0.02, 0.04]
    assert stake_fraction(cfg, recent_profits=profits[:4]) == 0.02  # too few trades
    assert stake_fraction(cfg, recent_profits=profits) == 0.15  # 0.2 capped
    assert stake_fraction(cfg, recent_profits=[-0.01] * 5) == 0.02  # no edge: minimum size
    wide = SizingConfig(mode="kelly", kelly_trades=5, kelly_fraction=0.5, max_fraction=0.25)
    assert stake_fraction(wide, recent_profits=profits) == pytest.approx(0.2)


def test_volatility_target_stakes_target_over_realised_volatility() -> None:
    # 15 % a year wanted, the pair moves 60 % a year: a quarter of equity moves it 15 %
    assert volatility_target_fraction(0.15, 0.6) == pytest.approx(0.25)
    cfg = SizingConfig(mode="volatility_target", target_volatility=0.15, max_fraction=0.2)
    assert stake_fraction(cfg, volatility=0.6) == pytest.approx(0.2)  # 0.25 capped
    assert stake_fraction(cfg, volatility=1.5) == pytest.approx(0.1)
    assert stake_fraction(cfg, volatility=1.5, regime_factor=0.5) == pytest.approx(0.05)
    # no volatility yet, or a flat market: the minimum stake, not an infinite one
    for unknown in (None, float("nan"), 0.0, float("inf")):
        assert stake_fraction(cfg, volatility=unknown) == cfg.min_fraction
    # the other modes do not read it
    assert stake_fraction(SizingConfig(fraction=0.1), volatility=0.01) == 0.1


def test_volatility_target_stake_never_exceeds_max_fraction() -> None:
    cfg = SizingConfig(
        mode="volatility_target",
        target_volatility=5.0,
        max_fraction=0.3,
        signal_strength=SignalStrengthConfig(full_at=0.1, floor=1.0),
    )
    for vol in np.logspace(-9, 1, 50):
        assert stake_fraction(cfg, volatility=float(vol), score_excess=1.0) <= 0.3
    assert stake_fraction(cfg, volatility=1e-9) == 0.3


def test_signal_strength_scales_from_floor_to_full() -> None:
    cfg = SignalStrengthConfig(full_at=0.2, floor=0.25)
    assert signal_strength_multiplier(0.0, cfg) == 0.25
    assert signal_strength_multiplier(0.1, cfg) == pytest.approx(0.625)
    assert signal_strength_multiplier(0.5, cfg) == 1.0
    sizing = SizingConfig(fraction=0.2, signal_strength=cfg)
    assert stake_fraction(sizing, score_excess=0.1) == pytest.approx(0.125)
    assert stake_fraction(sizing, score_excess=None) == pytest.approx(0.2)


def test_high_volatility_regime_shrinks_size_and_widens_stop() -> None:
    regime = RegimeConfig(size_factor=0.5, stop_factor=1.5)
    assert regime_factors(True, regime) == (0.5, 1.5)
    assert regime_factors(False, regime) == (1.0, 1.0)
    assert regime_factors(True, None) == (1.0, 1.0)
    assert stake_fraction(SizingConfig(fraction=0.1), regime_factor=0.5) == pytest.approx(0.05)
    cfg = StopConfig(atr_multiple=2.0, max_distance=0.2)
    assert stop_distance(1.0, 100.0, cfg) == pytest.approx(0.02)
    assert stop_distance(1.0, 100.0, cfg, stop_factor=1.5) == pytest.approx(0.03)


# --- stops ------------------------------------------------------------------------------------


def test_atr_stop_distance_is_capped_and_safe_without_atr() -> None:
    cfg = StopConfig(atr_multiple=3.0, max_distance=0.1)
    assert stop_distance(2.0, 100.0, cfg) == pytest.approx(0.06)
    assert stop_distance(5.0, 100.0, cfg) == 0.1
    assert stop_distance(float("nan"), 100.0, cfg) == 0.1


def test_stop_price_and_ratchet_only_tighten() -> None:
    assert stop_price(100.0, 0.05) == pytest.approx(95.0)
    assert stop_price(100.0, 0.05, is_short=True) == pytest.approx(105.0)
    assert ratchet(None, 95.0) == 95.0
    assert ratchet(95.0, 97.0) == 97.0
    assert ratchet(97.0, 96.0) == 97.0
    assert ratchet(105.0, 103.0, is_short=True) == 103.0
    assert ratchet(103.0, 104.0, is_short=True) == 103.0


# --- indicators -------------------------------------------------------------------------------


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "high": [11.0, 12.0, 11.5, 13.0],
            "low": [9.0, 10.5, 10.0, 11.0],
            "close": [10.0, 11.0, 10.0, 12.0],
        }
    )


def test_true_range_and_atr_exact() -> None:
    # row 1: max(1.5, |12-10|, |10.5-10|) = 2; row 2: max(1.5, 0.5, 1) = 1.5; row 3: max(2, 3, 1)
    assert true_range(frame()).tolist() == [2.0, 2.0, 1.5, 3.0]
    atr = average_true_range(frame(), 2)
    assert np.isnan(atr.iloc[0])
    assert atr.iloc[1:].tolist() == [2.0, 1.75, 2.25]


def test_realised_volatility_and_rank_are_causal() -> None:
    close = pd.Series([100.0, 110.0, 99.0, 99.0, 120.0])
    vol = realised_volatility(close, 2)
    r1, r2 = np.log(1.1), np.log(0.9)
    assert vol.iloc[2] == pytest.approx(abs(r1 - r2) / 2)
    rank = volatility_rank(pd.Series([1.0, 3.0, 2.0, 5.0]), 3)
    assert np.isnan(rank.iloc[1])
    assert rank.iloc[2:].tolist() == pytest.approx([2 / 3, 1.0])
    # a row does not change when later candles are appended
    longer = pd.concat([close, pd.Series([50.0, 200.0])], ignore_index=True)
    pd.testing.assert_series_equal(realised_volatility(longer, 2).iloc[:5], vol)


def test_annualised_volatility_exact_and_causal() -> None:
    # log returns +0.02, -0.02, +0.02, 0: over 2 returns the deviation (ddof 0) is 0.02, then
    # |0.02 - 0| / 2 = 0.01; a daily candle's year has 365 of them
    close = pd.Series(100 * np.exp(np.cumsum([0.0, 0.02, -0.02, 0.02, 0.0])))
    vol = annualised_volatility(close, 2, 365.0)
    assert vol.iloc[:2].isna().all()
    assert vol.iloc[2:].tolist() == pytest.approx(
        [0.02 * math.sqrt(365), 0.02 * math.sqrt(365), 0.01 * math.sqrt(365)]
    )
    longer = pd.concat([close, pd.Series([1.0, 1000.0])], ignore_index=True)
    pd.testing.assert_series_equal(annualised_volatility(longer, 2, 365.0).iloc[:5], vol)


def test_risk_indicators_mark_the_high_regime() -> None:
    rng = np.random.default_rng(0)
    sigma = np.r_[np.full(60, 0.001), np.full(20, 0.05)]
    close = 100 * np.exp(np.cumsum(rng.normal(0, sigma)))
    candles = pd.DataFrame({"high": close * 1.001, "low": close * 0.999, "close": close})
    out = risk_indicators(candles, 3, RegimeConfig(vol_window=5, history=40))
    # volatility from row 5, its rank over 40 values from row 44: unknown before, not high
    assert out["risk_vol_rank"].iloc[:44].isna().all()
    assert not out["risk_high_vol"].iloc[:44].any()
    # the first 8 volatile rows rank above every calm one (8 of 40 values = top 20 %)
    assert out["risk_high_vol"].iloc[62:70].all()
    assert list(risk_indicators(candles, 3, None).columns) == ["risk_atr"]


# --- limits -----------------------------------------------------------------------------------


def test_protections_from_config_and_switched_off() -> None:
    methods = [p["method"] for p in protection_list(ProtectionsConfig())]
    assert methods == ["MaxDrawdown", "StoplossGuard", "CooldownPeriod"]
    drawdown = protection_list(ProtectionsConfig())[0]
    assert drawdown["max_allowed_drawdown"] == 0.15
    assert drawdown["calculation_mode"] == "equity"
    off = ProtectionsConfig(max_drawdown=None, stoploss_guard=None, cooldown_candles=0)
    assert protection_list(off) == []


def test_daily_loss_limit_against_the_days_start_equity() -> None:
    # started the day at 1000, lost 30 -> 3 %
    assert daily_loss_exceeded([-20.0, -10.0], 970.0, 0.03)
    assert not daily_loss_exceeded([-20.0, -10.0, 5.0], 975.0, 0.03)
    assert not daily_loss_exceeded([], 970.0, 0.03)
    assert not daily_loss_exceeded([-500.0], 500.0, None)


def test_utc_day_start() -> None:
    late = datetime(2024, 3, 5, 23, 30, tzinfo=UTC)
    assert utc_day_start(late) == datetime(2024, 3, 5, tzinfo=UTC)
    tokyo = datetime(2024, 3, 6, 8, 30, tzinfo=timezone(timedelta(hours=9)))
    assert utc_day_start(tokyo) == datetime(2024, 3, 5, tzinfo=UTC)


# --- slippage ---------------------------------------------------------------------------------


def test_slippage_is_adverse_and_stays_in_the_candle() -> None:
    assert slipped_price(100.0, "buy", 5) == pytest.approx(100.05)
    assert slipped_price(100.0, "sell", 5) == pytest.approx(99.95)
    assert slipped_price(100.0, "buy", 50, low=99.0, high=100.2) == 100.2
    assert slipped_price(100.0, "sell", 50, low=99.8, high=101.0) == 99.8
    assert slipped_price(100.0, "buy", 0) == 100.0


def test_closed_trade_drawdown_from_the_running_peak() -> None:
    from itb_ext.risk.report import closed_trade_drawdown

    # 1000 -> 1100 -> 990 -> 1045 -> 880: the worst fall is 1100 -> 880 = 20 %
    assert closed_trade_drawdown([100.0, -110.0, 55.0, -165.0], 1000.0) == pytest.approx(0.2)
    assert closed_trade_drawdown([10.0, 20.0], 1000.0) == 0.0
    assert closed_trade_drawdown([], 1000.0) == 0.0
    assert closed_trade_drawdown([-100.0], 1000.0) == pytest.approx(0.1)


def test_lookback_covers_the_atr_and_the_volatility_rank() -> None:
    assert RiskPolicy(RiskConfig()).lookback() == 24 + 720
    assert RiskPolicy(RiskConfig(regime=None)).lookback() == 15
    assert RiskPolicy(RiskConfig(enabled=False)).lookback() == 0
    # with that much history the last row is complete
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 744)))
    frame = pd.DataFrame({"high": close * 1.01, "low": close * 0.99, "close": close})
    last = RiskPolicy(RiskConfig()).indicators(frame).iloc[-1]
    assert last.notna().all()
    assert RiskPolicy(RiskConfig()).indicators(frame.iloc[1:]).iloc[-1].isna().any()


def target_policy(timeframe: str | None = "1d", window: int = 2) -> RiskPolicy:
    sizing = SizingConfig(
        mode="volatility_target", target_volatility=0.06, volatility_window=window
    )
    return RiskPolicy(RiskConfig(sizing=sizing, stop=None, regime=None), timeframe=timeframe)


def daily_candles(log_returns: list[float], freq: str = "1D") -> pd.DataFrame:
    close = 100 * np.exp(np.cumsum([0.0, *log_returns]))
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=len(close), freq=freq, tz="UTC"),
            "high": close,
            "low": close,
            "close": close,
        }
    )


def test_policy_stakes_the_volatility_target_of_the_newest_candle() -> None:
    candles = daily_candles([0.02, -0.02, 0.02])
    columns = target_policy().indicators(candles)
    assert "risk_annualised_vol" in columns
    rows = pd.concat([candles, columns], axis=1).to_dict("records")

    def stake(row: dict) -> float:
        return target_policy().stake(
            equity=10_000.0, price=100.0, row=row, min_stake=None, max_stake=10_000.0
        )

    # rows 2 and 3: a deviation of 0.02 a day, 0.382 a year -> 0.06 / 0.382 = 15.7 % of equity
    assert stake(rows[3]) == pytest.approx(10_000 * 0.06 / (0.02 * math.sqrt(365)))
    assert stake(rows[3]) == pytest.approx(1570.27, abs=0.01)
    assert stake(rows[1]) == pytest.approx(200.0)  # too few candles: min_fraction 2 %


def test_candle_length_comes_from_the_timeframe_or_the_dates() -> None:
    # hourly candles with one missing: the median step is still an hour
    candles = daily_candles([0.01, -0.01, 0.01, -0.01], freq="1h").drop(index=2)
    stated = target_policy("1h").indicators(candles)["risk_annualised_vol"]
    inferred = target_policy(None).indicators(candles)["risk_annualised_vol"]
    pd.testing.assert_series_equal(stated, inferred)
    assert target_policy("1h").candles_per_year(candles) == 8760
    assert math.isnan(target_policy(None).candles_per_year(candles.drop(columns="date")))
    assert target_policy(None).indicators(candles.drop(columns="date")).iloc[:, -1].isna().all()


def test_lookback_covers_the_volatility_window() -> None:
    sizing = SizingConfig(mode="volatility_target")
    policy = RiskPolicy(RiskConfig(sizing=sizing, regime=None), timeframe="1h")
    assert policy.lookback() == 721  # 720 returns need 721 closes
    # the regime's longer history still rules when it is on
    assert RiskPolicy(RiskConfig(sizing=sizing)).lookback() == 24 + 720
    rng = np.random.default_rng(2)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 721)))
    frame = pd.DataFrame({"high": close * 1.01, "low": close * 0.99, "close": close})
    assert policy.indicators(frame)["risk_annualised_vol"].iloc[-1] > 0
    assert np.isnan(policy.indicators(frame.iloc[1:])["risk_annualised_vol"].iloc[-1])
