"""Threshold grid search (ITB's ``simulate_model``): grid parsing, order, ranking, equivalence."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itb_ext.simulate.grid as sim
from itb_ext.config.base import validate
from itb_ext.config.simulate import SimulateModelConfig, float_range, parse_grid_values
from itb_ext.errors import ConfigError, DataError
from itb_ext.simulate import METRICS, grid_search, parameter_grid, simulate


def config(**raw: Any) -> SimulateModelConfig:
    return validate(SimulateModelConfig, raw, "simulate_model")


# score/close designed by hand: buy rows for B=0.1: 0,1,4; B=0.4: 0,4;
# sell rows for S=-0.1: 2,3,5; S=-0.4: 3,5.
HAND = pd.DataFrame(
    {
        "timestamp": pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"),
        "score": [0.5, 0.2, -0.2, -0.5, 0.5, -0.5],
        "close": [10.0, 11.0, 12.0, 9.0, 10.0, 12.0],
    }
)
HAND_MONTHS = 5 / 730  # 5 hours of a 730-hour month
GRID_2X2 = {"buy_signal_threshold": [0.1, 0.4], "sell_signal_threshold": [-0.1, -0.4]}


def thresholds(table: pd.DataFrame) -> list[tuple[float, float]]:
    return list(zip(table["buy_signal_threshold"], table["sell_signal_threshold"], strict=True))


def test_ranking_by_percent_profit_per_month_keeps_grid_order_on_ties() -> None:
    table = grid_search(HAND, ["score"], "threshold_rule", config(grid=GRID_2X2, fee=0))
    # (B, S) -> long trades: S=-0.1: BUY0@10 SELL2@12, BUY4@10 SELL5@12 -> +20 % + 20 %
    #                        S=-0.4: BUY0@10 SELL3@9,  BUY4@10 SELL5@12 -> -10 % + 20 %
    assert thresholds(table) == [
        (0.1, -0.1),
        (0.4, -0.1),
        (0.1, -0.4),
        (0.4, -0.4),
    ]
    assert table["%profit"].tolist() == pytest.approx([40.0, 40.0, 10.0, 10.0])
    assert table["%profit/M"].tolist() == pytest.approx(
        [40 / HAND_MONTHS, 40 / HAND_MONTHS, 10 / HAND_MONTHS, 10 / HAND_MONTHS]
    )
    assert table["#transactions"].tolist() == [2, 2, 2, 2]
    assert table["#bars_in_market"].tolist() == [3, 3, 4, 4]
    assert list(table.columns) == ["buy_signal_threshold", "sell_signal_threshold", *METRICS]


def test_short_direction_scores_sell_to_buy_trades() -> None:
    table = grid_search(
        HAND, ["score"], "threshold_rule", config(grid=GRID_2X2, fee=0, direction="short")
    )
    # S=-0.1: SELL2@12 -> BUY4@10: +2, +2/12; S=-0.4: SELL3@9 -> BUY4@10: -1, -1/9
    best = table.iloc[0]
    assert (best["buy_signal_threshold"], best["sell_signal_threshold"]) == (0.1, -0.1)
    assert best["profit"] == pytest.approx(2.0)
    assert best["%profit"] == pytest.approx(100 * 2 / 12)
    assert table.iloc[-1]["%profit"] == pytest.approx(-100 / 9)


def test_topn_to_store_keeps_the_best_rows() -> None:
    table = grid_search(HAND, ["score"], "threshold_rule", config(grid=GRID_2X2, topn_to_store=3))
    assert len(table) == 3


def test_buy_sell_equal_sets_sell_to_minus_buy() -> None:
    cfg = config(grid={**GRID_2X2, "sell_signal_threshold": [-9.0]}, buy_sell_equal=True, fee=0)
    table = grid_search(HAND, ["score"], "threshold_rule", cfg)
    assert thresholds(table) == [
        (0.1, -0.1),
        (0.4, -0.4),
    ]
    assert table["%profit"].tolist() == pytest.approx([40.0, 10.0])


def test_data_start_and_data_end_select_rows() -> None:
    by_rows = grid_search(
        HAND, ["score"], "threshold_rule", config(grid=GRID_2X2, fee=0, data_start=1, data_end=0)
    )
    by_time = grid_search(
        HAND,
        ["score"],
        "threshold_rule",
        config(grid=GRID_2X2, fee=0, data_start="2024-01-01 01:00", data_end="2024-01-02"),
    )
    # rows 1..5: B=0.1, S=-0.1: BUY1@11 SELL2@12, BUY4@10 SELL5@12
    for table in (by_rows, by_time):
        top = table.iloc[0]
        assert (top["buy_signal_threshold"], top["sell_signal_threshold"]) == (0.1, -0.1)
        assert top["%profit"] == pytest.approx(100 / 11 + 20)
        assert top["%profit/M"] == pytest.approx((100 / 11 + 20) / (4 / 730))
    cut_end = grid_search(
        HAND, ["score"], "threshold_rule", config(grid=GRID_2X2, fee=0, data_end=2)
    )
    # rows 0..3: only BUY0@10 SELL2@12 (S=-0.1) or SELL3@9 (S=-0.4)
    assert cut_end["%profit"].tolist() == pytest.approx([20.0, 20.0, -10.0, -10.0])


def test_parameter_grid_follows_sklearn_order() -> None:
    cfg = config(
        grid={
            "sell_signal_threshold_2": [-1.0, -2.0],
            "buy_signal_threshold": [1.0, 2.0],
            "sell_signal_threshold": [-1.0, -2.0],
            "buy_signal_threshold_2": [1.0, 2.0],
        }
    )
    grid = parameter_grid(cfg, "threshold_rule2")
    assert list(grid) == [
        "buy_signal_threshold",
        "buy_signal_threshold_2",
        "sell_signal_threshold",
        "sell_signal_threshold_2",
    ]
    rows = list(zip(*grid.values(), strict=True))
    assert rows[:3] == [(1.0, 1.0, -1.0, -1.0), (1.0, 1.0, -1.0, -2.0), (1.0, 1.0, -2.0, -1.0)]
    assert rows[-1] == (2.0, 2.0, -2.0, -2.0)
    assert len(rows) == 16


def test_parameters_not_in_the_grid_come_from_the_rule() -> None:
    cfg = config(grid={"buy_signal_threshold": [0.1, 0.4]})
    grid = parameter_grid(cfg, "threshold_rule", {"sell_signal_threshold": -0.4})
    assert grid["sell_signal_threshold"].tolist() == [-0.4, -0.4]
    with pytest.raises(ConfigError, match="no values for 'sell_signal_threshold'"):
        parameter_grid(cfg, "threshold_rule")


def test_threshold_rule2_needs_both_scores_to_pass() -> None:
    df = HAND.assign(second=[1.0, 1.0, -1.0, 1.0, -1.0, -1.0])
    cfg = config(
        grid={
            "buy_signal_threshold": [0.1],
            "buy_signal_threshold_2": [0.0],
            "sell_signal_threshold": [-0.1],
            "sell_signal_threshold_2": [0.0],
        },
        fee=0,
    )
    table = grid_search(df, ["score", "second"], "threshold_rule2", cfg)
    # buy rows: score >= 0.1 and second >= 0 -> 0, 1; sell rows: score <= -0.1, second <= 0 -> 2, 5
    # BUY0@10 SELL2@12 (+20 %); no more buys after row 2
    assert table.iloc[0]["#transactions"] == 1
    assert table.iloc[0]["%profit"] == pytest.approx(20.0)


def test_exact_threshold_ties_fire_with_range_values() -> None:
    # np.arange(0.1, 0.4, 0.05) gives 0.25000000000000006 (and a spurious 0.40000000000000013)
    assert float_range(0.1, 0.4, 0.05) == (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
    df = HAND.assign(score=[0.25, 0.0, -0.25, 0.0, 0.0, 0.0])
    cfg = config(
        grid={
            "buy_signal_threshold": "np.arange(0.1, 0.4, 0.05)",
            "sell_signal_threshold": [-0.25],
        },
        fee=0,
        topn_to_store=100,
    )
    table = grid_search(df, ["score"], "threshold_rule", cfg).set_index("buy_signal_threshold")
    assert table.loc[0.25, "#transactions"] == 1  # score 0.25 >= 0.25 buys, -0.25 <= -0.25 sells
    assert table.loc[0.3, "#transactions"] == 0


def test_progress_reports_grid_points() -> None:
    calls: list[tuple[int, int]] = []
    grid_search(
        HAND,
        ["score"],
        "threshold_rule",
        config(grid=GRID_2X2),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (0, 4)
    assert calls[-1] == (4, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("np.arange(0.01, 0.11, 0.01).tolist()", tuple(round(0.01 * k, 2) for k in range(1, 11))),
        ("numpy.arange(1, 1.3, 0.1)", (1.0, 1.1, 1.2)),
        ("np.arange(0, -0.3, -0.1).tolist()", (0.0, -0.1, -0.2)),
        ("np.arange(3)", (0.0, 1.0, 2.0)),
        ("np.linspace(0, 0.2, 5).tolist()", (0.0, 0.05, 0.1, 0.15, 0.2)),
        ("np.linspace(0, 1, 4, endpoint=False)", (0.0, 0.25, 0.5, 0.75)),
        ("[0.1, -.2, 3e-2]", (0.1, -0.2, 0.03)),
    ],
)
def test_range_strings_are_parsed_without_eval(text: str, expected: tuple[float, ...]) -> None:
    assert parse_grid_values(text) == expected


def test_range_objects_use_arange_semantics() -> None:
    cfg = config(grid={"buy_signal_threshold": {"start": -0.3, "stop": 0.01, "step": 0.1}})
    assert cfg.grid.buy_signal_threshold == (-0.3, -0.2, -0.1, 0.0)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"buy_threshold": [0.1]}, "unknown key 'grid.buy_threshold'"),
        ({"buy_signal_threshold": "__import__('os').getcwd()"}, "unsupported range expression"),
        ({"buy_signal_threshold": "np.arange(0, 1, 0.1) + [2]"}, "unsupported range expression"),
        ({"buy_signal_threshold": "range(3)"}, "unsupported range expression"),
        ({"buy_signal_threshold": {"start": 0, "stop": 1, "step": 0}}, "step must not be 0"),
        ({"buy_signal_threshold": "np.arange(0, 1, 0)"}, "step must not be 0"),
        ({"buy_signal_threshold": {"start": 0, "stop": 1, "step": -0.1}}, "empty range"),
        ({"buy_signal_threshold": {"start": 0, "end": 1}}, "range object"),
        ({"buy_signal_threshold": []}, "at least one value"),
        ({"buy_signal_threshold": [0.1, "x"]}, "must be numbers"),
        ({"buy_signal_threshold": [math.nan]}, "finite"),
    ],
)
def test_bad_grid_values_are_config_errors(grid: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(grid=grid)


def test_bad_simulate_model_keys_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="direction"):
        config(grid=GRID_2X2, direction="sideways")
    with pytest.raises(ConfigError, match="data_start"):
        config(grid=GRID_2X2, data_start=-1)
    with pytest.raises(ConfigError, match="data_end"):
        config(grid=GRID_2X2, data_end="yesterday-ish")
    with pytest.raises(ConfigError, match="topn_to_store"):
        config(grid=GRID_2X2, topn_to_store=0)
    with pytest.raises(ConfigError, match="grid"):
        validate(SimulateModelConfig, {}, "simulate_model")


def test_grid_search_rejects_rule_mismatches_and_missing_data() -> None:
    cfg = config(grid=GRID_2X2)
    with pytest.raises(ConfigError, match="needs 2 score column"):
        grid_search(HAND, ["score"], "threshold_rule2", config(grid={}))
    with pytest.raises(ConfigError, match="not supported"):
        grid_search(HAND, ["score"], "combine", cfg)
    with pytest.raises(ConfigError, match="'buy_signal_threshold_2' is not a parameter"):
        grid_search(
            HAND,
            ["score"],
            "threshold_rule",
            config(grid={**GRID_2X2, "buy_signal_threshold_2": [0]}),
        )
    with pytest.raises(DataError, match="missing input column 'nope'"):
        grid_search(HAND, ["nope"], "threshold_rule", cfg)
    with pytest.raises(DataError, match="missing input column 'timestamp'"):
        grid_search(HAND.drop(columns="timestamp"), ["score"], "threshold_rule", cfg)
    with pytest.raises(DataError, match="no rows left"):
        grid_search(HAND, ["score"], "threshold_rule", config(grid=GRID_2X2, data_start=6))


# ------------------------------------------------------------------------------------------------
# The vectorised grid equals one simulation per grid point.

LEVELS = [-0.5, -0.25, -0.1, 0.0, 0.1, 0.25, 0.5]


def frame_strategy(n: int) -> st.SearchStrategy[pd.DataFrame]:
    score = st.one_of(st.sampled_from(LEVELS), st.floats(-1, 1), st.just(math.nan))
    price = st.one_of(st.floats(1.0, 100.0), st.just(0.0), st.just(math.nan))
    return st.builds(
        lambda s1, s2, close, opens: pd.DataFrame(
            {
                "timestamp": pd.date_range("2024-01-01", periods=n, freq="1h"),
                "s1": s1,
                "s2": s2,
                "close": close,
                "open": opens,
            }
        ),
        *(st.lists(score, min_size=n, max_size=n) for _ in range(2)),
        *(st.lists(price, min_size=n, max_size=n) for _ in range(2)),
    )


def assert_grid_equals_single_simulations(
    df: pd.DataFrame, table: pd.DataFrame, rule: str, cfg: SimulateModelConfig
) -> None:
    s1, s2 = df["s1"].to_numpy(), df["s2"].to_numpy()
    with np.errstate(invalid="ignore"):
        for _, row in table.iterrows():
            buy = s1 >= row["buy_signal_threshold"]
            sell = s1 <= row["sell_signal_threshold"]
            if rule == "threshold_rule2":
                buy &= s2 >= row["buy_signal_threshold_2"]
                sell &= s2 <= row["sell_signal_threshold_2"]
            single = simulate(
                buy,
                sell,
                df["close"].to_numpy(),
                open_price=df["open"].to_numpy(),
                timestamps=df["timestamp"],
                fee=cfg.fee,
                fill=cfg.fill,
            ).metrics(cfg.direction)
            for name in METRICS:
                a, b = single[name], row[name]
                assert a == b or (math.isnan(a) and math.isnan(b)), (name, a, b)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_grid_equals_single_simulations(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 50))
    df = data.draw(frame_strategy(n))
    rule = data.draw(st.sampled_from(["threshold_rule", "threshold_rule2"]))
    values = st.lists(st.sampled_from(LEVELS), min_size=1, max_size=4)
    keys = ["buy_signal_threshold", "sell_signal_threshold"]
    if rule == "threshold_rule2":
        keys += ["buy_signal_threshold_2", "sell_signal_threshold_2"]
    cfg = config(
        grid={k: data.draw(values) for k in keys},
        fee=data.draw(st.sampled_from([0.0, 0.001, 0.02])),
        fill=data.draw(st.sampled_from(["close", "next_open"])),
        direction=data.draw(st.sampled_from(["long", "short", "both"])),
        buy_sell_equal=data.draw(st.booleans()),
        topn_to_store=1000,
    )
    columns = ["s1"] if rule == "threshold_rule" else ["s1", "s2"]
    table = grid_search(df, columns, rule, cfg)
    assert len(table) == parameter_grid(cfg, rule)["buy_signal_threshold"].size
    ranked = table["%profit/M"].to_numpy()
    finite = ranked[~np.isnan(ranked)]
    assert np.all(np.diff(finite) <= 0)
    assert_grid_equals_single_simulations(df, table, rule, cfg)


def test_grid_split_into_table_blocks_gives_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(7)
    n = 300
    df = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="1h"),
            "s1": rng.normal(0, 0.2, n),
            "close": 100 + rng.normal(0, 1, n).cumsum(),
        }
    )
    cfg = config(
        grid={
            "buy_signal_threshold": {"start": 0.0, "stop": 0.3, "step": 0.02},
            "sell_signal_threshold": {"start": 0.0, "stop": -0.3, "step": -0.02},
        },
        topn_to_store=1000,
        direction="both",
    )
    whole = grid_search(df, ["s1"], "threshold_rule", cfg)
    monkeypatch.setattr(sim, "_TABLE_BUDGET", 4 * (n + 1))  # 2 masks per side and block
    calls: list[int] = []
    blocks = grid_search(df, ["s1"], "threshold_rule", cfg, progress=lambda d, t: calls.append(d))
    assert len(calls) > 10
    pd.testing.assert_frame_equal(whole, blocks)
    df["s2"] = 0.0
    df["open"] = df["close"]
    assert_grid_equals_single_simulations(df, whole.iloc[::17], "threshold_rule", cfg)
