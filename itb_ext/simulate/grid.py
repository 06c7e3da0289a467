"""ITB's threshold grid search (``simulate``): row selection, the parameter grid and the kernel.

Grid search: every grid point's state machine is advanced in lockstep with numpy. For each
distinct buy (sell) mask a table "first True row at or after i" (a reverse cumulative minimum) is
built once; one loop iteration then finds the next event of all grid points with a single fancy
index and updates their accumulators, so the loop runs (number of events of the busiest grid point)
times, independent of the number of rows or grid points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from itb_ext.config.signals import THRESHOLD_RULES
from itb_ext.config.simulate import SimulateModelConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.pipeline.frames import require_columns
from itb_ext.simulate.metrics import derive_metrics, months_covered
from itb_ext.simulate.trades import check_options, fill_prices, next_true, trade_returns

# Accumulator layout of the grid kernel: acc[side, field, point]. Sides are ordered so that
# "long + total" and "short + total" are both contiguous slices (views, no copies).
_LONG, _TOTAL, _SHORT = 0, 1, 2
_COUNT, _PROFIT, _PERCENT, _PROFITABLE, _EQUITY, _PEAK, _DRAWDOWN, _BARS = range(8)
_N_FIELDS = 8
# Int32 elements of "next True" tables held at once in the grid search (64 MB).
_TABLE_BUDGET = 1 << 24


def _times(df: pd.DataFrame, time_column: str) -> pd.Series:
    if time_column in df.columns:
        times = df[time_column]
    elif isinstance(df.index, pd.DatetimeIndex):
        times = df.index.to_series(index=df.index)
    else:
        raise DataError(f"simulate: missing input column '{time_column}'")
    if not pd.api.types.is_datetime64_any_dtype(times):
        raise DataError(f"simulate: column '{time_column}' does not hold timestamps")
    return times


def _bound(value: str, times: pd.Series) -> pd.Timestamp:
    """A config timestamp string in the time zone of the data."""
    stamp = pd.Timestamp(value)
    tz = getattr(times.dtype, "tz", None)
    if tz is not None:
        return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def select_rows(df: pd.DataFrame, cfg: SimulateModelConfig, time_column: str) -> pd.DataFrame:
    """Apply ``data_start``/``data_end`` (rows or timestamps); the index is kept (rows are
    positions from here on).

    :raises DataError: no row is left, or a timestamp bound without a time column.
    """
    frame = df
    if cfg.data_start:
        if isinstance(cfg.data_start, str):
            times = _times(frame, time_column)
            frame = frame[(times >= _bound(cfg.data_start, times)).to_numpy()]
        else:
            frame = frame.iloc[cfg.data_start :]
    if cfg.data_end:
        if isinstance(cfg.data_end, str):
            times = _times(frame, time_column)
            frame = frame[(times < _bound(cfg.data_end, times)).to_numpy()]
        else:
            frame = frame.iloc[: max(len(frame) - cfg.data_end, 0)]
    if frame.empty:
        raise DataError("simulate: no rows left after data_start/data_end")
    return frame


def parameter_grid(
    cfg: SimulateModelConfig, rule: str, base_parameters: Mapping[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Threshold values of every grid point in ITB's (``sklearn.ParameterGrid``) order.

    Keys are sorted alphabetically and the last key varies fastest. Keys of the rule that the
    grid does not list take their value from ``base_parameters`` (the rule's own parameters in
    ``signal_sets``); with ``buy_sell_equal`` the sell thresholds are ``-buy`` (grid values for
    them are ignored, as in ITB).

    :param cfg: the simulate_model section.
    :param rule: ``threshold_rule`` or ``threshold_rule2``.
    :param base_parameters: fixed values for keys not in the grid.
    :return: one float64 array per parameter of the rule, all of the grid's length.
    :raises ConfigError: a grid key the rule does not use, or a parameter without any value.
    """
    keys = THRESHOLD_RULES[rule].parameter_keys
    searched = cfg.grid.searched()
    for key in searched:
        if key not in keys:
            raise ConfigError(f"simulate_model.grid: key '{key}' is not a parameter of {rule}")
    base = dict(base_parameters or {})
    axes = []
    for key in keys:
        derived = cfg.buy_sell_equal and key.startswith("sell")
        if derived:
            values: tuple[float, ...] = (math.nan,)
        elif key in searched:
            values = searched[key]
        elif key in base and isinstance(base[key], int | float) and math.isfinite(base[key]):
            values = (float(base[key]),)
        else:
            raise ConfigError(
                f"simulate_model.grid: no values for '{key}' (neither in the grid nor in the "
                f"parameters of {rule})"
            )
        axes.append(np.asarray(values, dtype="float64"))
    mesh = np.meshgrid(*axes, indexing="ij")
    grid = {key: m.ravel() for key, m in zip(keys, mesh, strict=True)}
    if cfg.buy_sell_equal:
        for key in keys:
            if key.startswith("sell"):
                grid[key] = -grid[key.replace("sell", "buy")]
    return grid


def _masks(
    scores: Sequence[np.ndarray], thresholds: np.ndarray, buy: bool, eligible: np.ndarray
) -> np.ndarray:
    """Signal masks (one row per threshold row): all scores pass their threshold."""
    out = np.broadcast_to(eligible, (thresholds.shape[0], eligible.size)).copy()
    with np.errstate(invalid="ignore"):
        for j, score in enumerate(scores):
            t = thresholds[:, j : j + 1]
            out &= (score[None, :] >= t) if buy else (score[None, :] <= t)
    return out


def _accumulate(
    acc: np.ndarray, valid: np.ndarray, profit: np.ndarray, percent: np.ndarray, bars: np.ndarray
) -> None:
    """Add one closed trade per grid point (where ``valid``) to two accumulator sides."""
    acc[:, _COUNT] += valid
    acc[:, _PROFIT] += np.where(valid, profit, 0.0)
    acc[:, _PERCENT] += np.where(valid, percent, 0.0)
    acc[:, _PROFITABLE] += valid & (profit > 0)
    acc[:, _EQUITY] *= np.where(valid, 1.0 + percent / 100.0, 1.0)
    np.maximum(acc[:, _PEAK], acc[:, _EQUITY], out=acc[:, _PEAK])
    np.maximum(acc[:, _DRAWDOWN], 1.0 - acc[:, _EQUITY] / acc[:, _PEAK], out=acc[:, _DRAWDOWN])
    acc[:, _BARS] += np.where(valid, bars, 0)


def _lockstep(
    next_buy: np.ndarray,
    next_sell: np.ndarray,
    buy_of_point: np.ndarray,
    sell_of_point: np.ndarray,
    fills: np.ndarray,
    fee: float,
) -> np.ndarray:
    """Run the state machines of all grid points together.

    :param next_buy: "next True" tables of the distinct buy masks (``k_b × (n+1)``).
    :param next_sell: the same for the sell masks.
    :param buy_of_point: buy table row of each grid point.
    :param sell_of_point: sell table row of each grid point.
    :param fills: fill price per row (valid wherever a mask is True).
    :param fee: fee per side.
    :return: accumulators ``[side, field, point]``.
    """
    n = fills.size
    width = n + 1
    flat = (next_buy.ravel(), next_sell.ravel())
    points = buy_of_point.size
    out = np.empty((3, _N_FIELDS, points))
    ids = np.arange(points)
    offsets = (buy_of_point.astype(np.intp) * width, sell_of_point.astype(np.intp) * width)
    pos = np.zeros(points, dtype=np.intp)
    last_row = np.zeros(points, dtype=np.intp)
    last_price = np.zeros(points)
    acc = np.zeros((3, _N_FIELDS, points))
    acc[:, _EQUITY] = 1.0
    acc[:, _PEAK] = 1.0
    prices = np.append(fills, np.nan)  # row n = "no event"
    k = 0
    while ids.size:
        side = k % 2  # 0: looking for a BUY, 1: looking for a SELL
        rows = flat[side][offsets[side] + pos].astype(np.intp)
        alive = rows < n
        price = prices[rows]
        if k:
            closes_long = side == 1
            profit, percent = trade_returns(last_price, price, closes_long, fee)
            sides = acc[_LONG : _TOTAL + 1] if closes_long else acc[_TOTAL : _SHORT + 1]
            _accumulate(sides, alive, profit, percent, rows - last_row)
        last_row, last_price = rows, price
        pos = np.minimum(rows + 1, n)
        k += 1
        n_alive = int(np.count_nonzero(alive))
        # Drop finished points once a quarter of them are done (amortised compaction).
        if n_alive <= 0.75 * ids.size:
            done = ~alive
            out[:, :, ids[done]] = acc[:, :, done]
            ids, acc = ids[alive], acc[:, :, alive]
            offsets = (offsets[0][alive], offsets[1][alive])
            pos, last_row, last_price = pos[alive], last_row[alive], last_price[alive]
    return out


def _blocks(count: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def grid_search(
    df: pd.DataFrame,
    score_columns: Sequence[str],
    rule: str,
    cfg: SimulateModelConfig,
    time_column: str = "timestamp",
    progress: Callable[[int, int], None] | None = None,
    *,
    base_parameters: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """ITB's ``simulate``: score every threshold combination of the grid, best first.

    :param df: frame with the score columns, the price column(s) and the time column.
    :param score_columns: one score column for ``threshold_rule``, two for ``threshold_rule2``.
    :param rule: ``threshold_rule`` (buy = s >= B, sell = s <= S) or ``threshold_rule2``
        (buy = s1 >= B1 and s2 >= B2, sell = s1 <= S1 and s2 <= S2); NaN scores never signal.
    :param cfg: the simulate_model section (grid, direction, fee, fill, rows, top n).
    :param time_column: the timestamp column (a DatetimeIndex also works).
    :param progress: called with (grid points done, grid points in total).
    :param base_parameters: the rule's own thresholds, used for keys the grid does not list.
    :return: the ``topn_to_store`` best grid points by ``%profit/M`` (descending; ties keep grid
        order; NaN last): the rule's parameter columns, then :data:`METRICS` of ``direction``.
    :raises ConfigError: unknown rule, wrong number of score columns, bad grid keys.
    :raises DataError: missing columns, no rows left.
    """
    if rule not in THRESHOLD_RULES:
        raise ConfigError(
            f"simulate_model: signal generator '{rule}' is not supported "
            f"({' or '.join(THRESHOLD_RULES)})"
        )
    wanted = THRESHOLD_RULES[rule].score_inputs
    columns = (score_columns,) if isinstance(score_columns, str) else tuple(score_columns)
    if len(columns) != wanted:
        raise ConfigError(f"simulate_model: {rule} needs {wanted} score column(s), got {columns}")
    check_options(cfg.fee, cfg.fill)
    price_columns = [cfg.price_column] if cfg.fill == "close" else ["open"]
    require_columns(df, [*columns, *price_columns], "simulate")
    frame = select_rows(df, cfg, time_column)
    months = months_covered(_times(frame, time_column))

    grid = parameter_grid(cfg, rule, base_parameters)
    keys = list(grid)
    n_points = grid[keys[0]].size
    buy_keys = [k for k in keys if k.startswith("buy")]
    sell_keys = [k for k in keys if k.startswith("sell")]
    buy_values, buy_of_point = np.unique(
        np.column_stack([grid[k] for k in buy_keys]), axis=0, return_inverse=True
    )
    sell_values, sell_of_point = np.unique(
        np.column_stack([grid[k] for k in sell_keys]), axis=0, return_inverse=True
    )
    buy_of_point, sell_of_point = buy_of_point.ravel(), sell_of_point.ravel()

    if cfg.fill == "close":
        fills = fill_prices(frame[cfg.price_column].to_numpy(dtype="float64"))
    else:
        opens = frame["open"].to_numpy(dtype="float64")
        fills = fill_prices(opens, opens, "next_open")
    eligible = ~np.isnan(fills)
    scores = [frame[c].to_numpy(dtype="float64") for c in columns]

    acc = np.empty((3, _N_FIELDS, n_points))
    per_side = max(1, _TABLE_BUDGET // (2 * (fills.size + 1)))
    done = 0
    if progress is not None:
        progress(0, n_points)
    for b0, b1 in _blocks(len(buy_values), per_side):
        next_buy = next_true(_masks(scores, buy_values[b0:b1], True, eligible))
        in_buy = (buy_of_point >= b0) & (buy_of_point < b1)
        for s0, s1 in _blocks(len(sell_values), per_side):
            chosen = np.flatnonzero(in_buy & (sell_of_point >= s0) & (sell_of_point < s1))
            if not chosen.size:
                continue
            next_sell = next_true(_masks(scores, sell_values[s0:s1], False, eligible))
            acc[:, :, chosen] = _lockstep(
                next_buy,
                next_sell,
                buy_of_point[chosen] - b0,
                sell_of_point[chosen] - s0,
                fills,
                cfg.fee,
            )
            done += chosen.size
            if progress is not None:
                progress(done, n_points)

    side = {"long": _LONG, "short": _SHORT, "both": _TOTAL}[cfg.direction]
    a = acc[side]
    metrics = derive_metrics(
        a[_COUNT],
        a[_PROFIT],
        a[_PERCENT],
        a[_PROFITABLE],
        a[_EQUITY],
        a[_DRAWDOWN],
        a[_BARS],
        months,
    )
    table = pd.DataFrame({**grid, **metrics})
    order = np.argsort(-table["%profit/M"].to_numpy(), kind="stable")
    return table.iloc[order[: cfg.topn_to_store]].reset_index(drop=True)
