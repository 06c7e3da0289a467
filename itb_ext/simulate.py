"""Trade simulation of buy/sell signal levels and ITB's threshold grid search (``simulate``).

Event sequence (the same as ITB's ``simulated_trade_performance``, spec f.2): the rows are read in
order starting flat. While flat or short ("buy mode") a True buy signal is a BUY event; while long
("sell mode") a True sell signal is a SELL event; other signals are ignored, so BUY and SELL
alternate. Rows whose fill price is missing (NaN) or 0 are skipped.

Accounting (entry-based, *not* ITB's defective HEAD accounting, spec j.6): a long trade runs from
a BUY to the next SELL, a short trade from a SELL to the next BUY; the first BUY opens no short
trade and the position still open at the end is reported separately, not counted. With a fee
``f`` per side (fraction of the traded value) and one unit traded:

* long, entry ``E`` (BUY), exit ``X`` (SELL): ``profit = X·(1−f) − E·(1+f)``,
  ``%profit = 100·profit / (E·(1+f))`` (relative to the cash paid, as FreqTrade);
* short, entry ``S`` (SELL), exit ``B`` (BUY): ``profit = S·(1−f) − B·(1+f)``,
  ``%profit = 100·profit / (S·(1−f))`` (relative to the cash received at entry).

With ``f = 0`` these are ITB's intended numbers (``X − E`` and ``%`` of the entry price).

Fills: ``close`` fills at the signal bar's price column (ITB); ``next_open`` fills at the open of
the next bar (FreqTrade), so a signal on the last bar cannot fill and is ignored. Rows in results
are always the signal bars (0-based positions).

Metrics per direction (``long``, ``short``, ``total`` = both in time order), with ITB's names
and unrounded (:func:`round_like_itb` applies ITB's rounding):

* ``#transactions``, ``profit`` (sum), ``%profit`` (sum of trade percentages), ``#profitable``
  (net profit > 0), ``%profitable``, ``profit/T``, ``%profit/T`` (0.0 without trades);
* ``#transactions/M``, ``profit/M``, ``%profit/M``: divided by the months covered,
  ``(last timestamp − first timestamp) / (365/12 days)`` (NaN if unknown or zero);
* ``compound_return_%`` = ``100·(Π(1 + %profit_i/100) − 1)`` over the trades in time order;
* ``max_drawdown_%``: the equity after each closed trade is ``e_k = Π_{i≤k}(1 + %profit_i/100)``
  starting from ``e_0 = 1``; the drawdown is ``1 − e_k / max_{j≤k} e_j`` (peak includes ``e_0``)
  and the metric is its maximum in percent (0 = never below a previous peak; only closed trades
  count, price moves inside a trade do not);
* ``#bars_in_market``: sum over the counted trades of ``exit_row − entry_row``.

Grid search: every grid point's state machine is advanced in lockstep with numpy. For each
distinct buy (sell) mask a table "first True row at or after i" (a reverse cumulative minimum) is
built once; one loop iteration then finds the next event of all grid points with a single fancy
index and updates their accumulators, so the loop runs (number of events of the busiest grid point)
times, independent of the number of rows or grid points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.config.simulate import GRID_KEYS, SimulateModelConfig
from itb_ext.errors import ConfigError, DataError

Side = Literal["long", "short"]
Fill = Literal["close", "next_open"]

#: Default fee per side, as a fraction of the traded value (0.1 %).
DEFAULT_FEE = 0.001
#: ITB's month: a twelfth of a 365-day year.
AVERAGE_MONTH = pd.Timedelta(days=365 / 12)
#: ITB's per-direction metrics, in ITB's order.
ITB_METRICS = (
    "#transactions",
    "profit",
    "%profit",
    "#profitable",
    "%profitable",
    "profit/T",
    "%profit/T",
)
#: Every per-direction metric of this module, in output order.
METRICS = (
    *ITB_METRICS,
    "#transactions/M",
    "profit/M",
    "%profit/M",
    "compound_return_%",
    "max_drawdown_%",
    "#bars_in_market",
)
#: Decimals ITB rounds each metric to (``scripts/simulate.py`` and ``common/backtesting.py``).
ITB_ROUNDING = {
    "profit": 2,
    "%profit": 1,
    "%profitable": 1,
    "profit/T": 2,
    "%profit/T": 1,
    "#transactions/M": 2,
    "profit/M": 2,
    "%profit/M": 2,
}
_COUNTS = frozenset({"#transactions", "#profitable", "#bars_in_market"})
_RULE_KEYS = {
    "threshold_rule": ("buy_signal_threshold", "sell_signal_threshold"),
    "threshold_rule2": GRID_KEYS,
}
OPEN_POSITION_NOTE = "open at the end of the data, not included in the statistics (as in ITB)"

# Accumulator layout of the grid kernel: acc[side, field, point]. Sides are ordered so that
# "long + total" and "short + total" are both contiguous slices (views, no copies).
_LONG, _TOTAL, _SHORT = 0, 1, 2
_COUNT, _PROFIT, _PERCENT, _PROFITABLE, _EQUITY, _PEAK, _DRAWDOWN, _BARS = range(8)
_N_FIELDS = 8
# Int32 elements of "next True" tables held at once in the grid search (64 MB).
_TABLE_BUDGET = 1 << 24


@dataclass(frozen=True)
class Event:
    """A BUY or SELL of the state machine: the signal bar's row and the fill price."""

    row: int
    side: Literal["BUY", "SELL"]
    price: float


@dataclass(frozen=True)
class Trade:
    """A closed trade (one unit), profit net of the fees of both legs."""

    side: Side
    entry_row: int
    exit_row: int
    entry_price: float
    exit_price: float
    profit: float
    profit_percent: float

    @property
    def bars(self) -> int:
        """Bars between entry and exit."""
        return self.exit_row - self.entry_row


@dataclass(frozen=True)
class OpenPosition:
    """The position opened by the last event, valued at the last valid price (net of fees)."""

    side: Side
    entry_row: int
    entry_price: float
    last_price: float
    unrealized_profit: float


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of :func:`simulate`.

    :param events: every BUY/SELL event in time order.
    :param trades: the closed trades in time order (long and short alternate).
    :param open_position: the position open at the end (not in the metrics), or None.
    :param performance: metrics (names in :data:`METRICS`) for ``long``, ``short`` and ``total``.
    :param months: months covered by the data (NaN when unknown).
    """

    events: tuple[Event, ...]
    trades: tuple[Trade, ...]
    open_position: OpenPosition | None
    performance: Mapping[str, Mapping[str, float | int]]
    months: float

    def metrics(self, direction: str) -> Mapping[str, float | int]:
        """Metrics of ``long``, ``short`` or ``both`` (= ``total``)."""
        return self.performance["total" if direction == "both" else direction]

    def trades_frame(self) -> pd.DataFrame:
        """The trades as a table (one row per trade, columns as :class:`Trade` plus ``bars``)."""
        columns = [
            "side",
            "entry_row",
            "exit_row",
            "entry_price",
            "exit_price",
            "profit",
            "profit_percent",
        ]
        frame = pd.DataFrame(
            [[getattr(t, c) for c in columns] for t in self.trades], columns=columns
        )
        frame["bars"] = frame["exit_row"] - frame["entry_row"]
        return frame.astype({"entry_row": "int64", "exit_row": "int64", "bars": "int64"})


# ----------------------------------------------------------------------------------------------
# Shared building blocks


def _check_options(fee: float, fill: str) -> None:
    if isinstance(fee, bool) or not isinstance(fee, int | float) or not 0.0 <= fee < 1.0:
        raise ConfigError(f"simulate: fee must be a fraction in [0, 1), got {fee!r}")
    if fill not in ("close", "next_open"):
        raise ConfigError(f"simulate: fill must be 'close' or 'next_open', got {fill!r}")


def fill_prices(
    price: npt.ArrayLike, open_price: npt.ArrayLike | None = None, fill: Fill = "close"
) -> np.ndarray:
    """The price at which a signal on each bar would be filled; NaN where it cannot be.

    :param price: price of the signal bar (normally the close), used with ``fill="close"``.
    :param open_price: bar opens, required with ``fill="next_open"``.
    :param fill: ``close`` (this bar's price) or ``next_open`` (the next bar's open).
    :return: float64 array; NaN for missing/zero/negative prices and, with ``next_open``, the
        last bar.
    """
    close = np.asarray(price, dtype="float64")
    if fill == "close":
        out = close.copy()
    else:
        if open_price is None:
            raise DataError("simulate: fill 'next_open' needs the open prices")
        opens = np.asarray(open_price, dtype="float64")
        if opens.shape != close.shape:
            raise DataError("simulate: open prices and prices differ in length")
        out = np.full(close.shape, np.nan)
        out[:-1] = opens[1:]
    with np.errstate(invalid="ignore"):
        out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def _trade_returns(
    entry: np.ndarray, exit_: np.ndarray, long: bool, fee: float
) -> tuple[np.ndarray, np.ndarray]:
    """Net profit and percent of trades (formulas in the module docstring)."""
    if long:
        cost = entry * (1.0 + fee)
        profit = exit_ * (1.0 - fee) - cost
        return profit, 100.0 * profit / cost
    proceeds = entry * (1.0 - fee)
    profit = proceeds - exit_ * (1.0 + fee)
    return profit, 100.0 * profit / proceeds


def _next_true(masks: np.ndarray) -> np.ndarray:
    """For each mask row: the first column ``>= i`` that is True, ``n`` if none (``n+1`` columns).

    The extra column ``n`` (value ``n``) lets a search start after the last row.
    """
    k, n = masks.shape
    table = np.full((k, n + 1), n, dtype=np.int32)
    table[:, :n] = np.where(masks, np.arange(n, dtype=np.int32), np.int32(n))
    return np.minimum.accumulate(table[:, ::-1], axis=1)[:, ::-1]


def _derive(
    count: np.ndarray,
    profit: np.ndarray,
    percent: np.ndarray,
    profitable: np.ndarray,
    equity: np.ndarray,
    drawdown: np.ndarray,
    bars: np.ndarray,
    months: float,
) -> dict[str, np.ndarray]:
    """The metrics of :data:`METRICS` from the accumulated sums (arrays over grid points)."""
    has = count > 0
    safe = np.where(has, count, 1.0)
    per_month = months if months > 0 else math.nan
    return {
        "#transactions": count.astype("int64"),
        "profit": profit,
        "%profit": percent,
        "#profitable": profitable.astype("int64"),
        "%profitable": np.where(has, 100.0 * profitable / safe, 0.0),
        "profit/T": np.where(has, profit / safe, 0.0),
        "%profit/T": np.where(has, percent / safe, 0.0),
        "#transactions/M": count / per_month,
        "profit/M": profit / per_month,
        "%profit/M": percent / per_month,
        "compound_return_%": 100.0 * (equity - 1.0),
        "max_drawdown_%": 100.0 * drawdown,
        "#bars_in_market": bars.astype("int64"),
    }


def _months(times: pd.Series | pd.DatetimeIndex | None) -> float:
    if times is None or len(times) < 2:
        return math.nan
    values = pd.DatetimeIndex(times)
    return float((values[-1] - values[0]) / AVERAGE_MONTH)


def round_like_itb(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """ITB's rounding of its metrics (2 decimals for money, 1 for percentages, 2 for per-month).

    :param metrics: a metrics mapping; only ITB's own metric names are kept.
    :return: the rounded ITB metrics, counts as ints.
    """
    names = (*ITB_METRICS, "#transactions/M", "profit/M", "%profit/M")
    out: dict[str, Any] = {}
    for name in names:
        if name not in metrics:
            continue
        value = metrics[name]
        out[name] = int(value) if name in _COUNTS else round(float(value), ITB_ROUNDING[name])
    return out


# ----------------------------------------------------------------------------------------------
# One simulation


def _as_flags(values: npt.ArrayLike, name: str, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype != bool:
        try:
            arr = np.asarray(pd.array(arr, dtype="boolean").fillna(False), dtype=bool)
        except (TypeError, ValueError) as exc:
            raise DataError(f"simulate: {name} signal must be boolean") from exc
    if arr.shape != (n,):
        raise DataError(f"simulate: {name} signal has {arr.size} rows, prices have {n}")
    return arr


def _event_rows(buy_ok: np.ndarray, sell_ok: np.ndarray) -> list[int]:
    """Rows of the alternating BUY/SELL events (one Python step per event, not per row)."""
    n = buy_ok.size
    tables = (_next_true(buy_ok[None, :])[0], _next_true(sell_ok[None, :])[0])
    rows: list[int] = []
    pos = 0
    while True:
        row = int(tables[len(rows) % 2][pos])
        if row >= n:
            return rows
        rows.append(row)
        pos = row + 1


def _direction_metrics(trades: Sequence[Trade], months: float) -> dict[str, float | int]:
    """Metrics of a list of trades in time order (sequential sums, as the grid kernel)."""
    profit = np.array([t.profit for t in trades], dtype="float64")
    percent = np.array([t.profit_percent for t in trades], dtype="float64")
    bars = np.array([t.bars for t in trades], dtype="float64")
    if trades:
        # cumsum/cumprod add in time order, exactly like the grid kernel's running sums.
        equity = np.cumprod(1.0 + percent / 100.0)
        peak = np.maximum.accumulate(np.maximum(equity, 1.0))
        sums = [np.cumsum(profit)[-1], np.cumsum(percent)[-1], equity[-1]]
        drawdown = max(0.0, float(np.max(1.0 - equity / peak)))
        total_bars = float(np.cumsum(bars)[-1])
    else:
        sums, drawdown, total_bars = [0.0, 0.0, 1.0], 0.0, 0.0
    derived = _derive(
        np.array([float(len(trades))]),
        np.array([sums[0]]),
        np.array([sums[1]]),
        np.array([float(np.count_nonzero(profit > 0))]),
        np.array([sums[2]]),
        np.array([drawdown]),
        np.array([total_bars]),
        months,
    )
    return {k: v[0].item() for k, v in derived.items()}


def simulate(
    buy: npt.ArrayLike,
    sell: npt.ArrayLike,
    price: npt.ArrayLike,
    *,
    open_price: npt.ArrayLike | None = None,
    timestamps: pd.Series | pd.DatetimeIndex | None = None,
    fee: float = DEFAULT_FEE,
    fill: Fill = "close",
) -> SimulationResult:
    """Simulate the alternating trades of one pair of buy/sell signal levels.

    :param buy: buy signal per bar (bool; NaN counts as False).
    :param sell: sell signal per bar.
    :param price: the price of each bar (close), the fill price with ``fill="close"`` and the
        price an open position is valued at.
    :param open_price: bar opens, needed with ``fill="next_open"``.
    :param timestamps: bar times, for the per-month metrics (NaN without them).
    :param fee: fee per side as a fraction of the traded value.
    :param fill: ``close`` or ``next_open``.
    :return: events, trades, open position and metrics.
    """
    _check_options(fee, fill)
    close = np.asarray(price, dtype="float64")
    n = close.size
    buy_flags = _as_flags(buy, "buy", n)
    sell_flags = _as_flags(sell, "sell", n)
    fills = fill_prices(close, open_price, fill)
    eligible = ~np.isnan(fills)
    rows = _event_rows(buy_flags & eligible, sell_flags & eligible)

    events = tuple(
        Event(row, "BUY" if k % 2 == 0 else "SELL", float(fills[row])) for k, row in enumerate(rows)
    )
    trades = []
    for k in range(1, len(events)):
        entry, exit_ = events[k - 1], events[k]
        long = exit_.side == "SELL"
        profit, percent = _trade_returns(
            np.array([entry.price]), np.array([exit_.price]), long, fee
        )
        trades.append(
            Trade(
                "long" if long else "short",
                entry.row,
                exit_.row,
                entry.price,
                exit_.price,
                float(profit[0]),
                float(percent[0]),
            )
        )

    open_position = None
    valid_close = np.flatnonzero(np.isfinite(close) & (close > 0))
    if events and valid_close.size:
        last = events[-1]
        last_price = float(close[valid_close[-1]])
        long = last.side == "BUY"
        unrealized, _ = _trade_returns(np.array([last.price]), np.array([last_price]), long, fee)
        open_position = OpenPosition(
            "long" if long else "short", last.row, last.price, last_price, float(unrealized[0])
        )

    months = _months(timestamps)
    performance = {
        "long": _direction_metrics([t for t in trades if t.side == "long"], months),
        "short": _direction_metrics([t for t in trades if t.side == "short"], months),
        "total": _direction_metrics(trades, months),
    }
    return SimulationResult(events, tuple(trades), open_position, performance, months)


def simulate_frame(
    df: pd.DataFrame,
    buy_column: str,
    sell_column: str,
    *,
    price_column: str = "close",
    time_column: str = "timestamp",
    fee: float = DEFAULT_FEE,
    fill: Fill = "close",
) -> SimulationResult:
    """:func:`simulate` on columns of a frame (``open`` is read for ``fill="next_open"``).

    :param df: frame with the signal, price and (optional) time columns.
    :param buy_column: the buy signal column.
    :param sell_column: the sell signal column.
    :param price_column: the price column (close).
    :param time_column: the time column; without it the per-month metrics are NaN.
    :param fee: fee per side as a fraction.
    :param fill: ``close`` or ``next_open``.
    """
    needed = [buy_column, sell_column, price_column] + (["open"] if fill == "next_open" else [])
    _require(df, needed, "simulate")
    return simulate(
        df[buy_column].to_numpy(),
        df[sell_column].to_numpy(),
        df[price_column].to_numpy(dtype="float64"),
        open_price=df["open"].to_numpy(dtype="float64") if fill == "next_open" else None,
        timestamps=df[time_column] if time_column in df.columns else None,
        fee=fee,
        fill=fill,
    )


def performance_report(result: SimulationResult) -> dict[str, Any]:
    """The ``correct`` block of the parity fixtures' ``simulate.json`` for one simulation.

    :param result: a simulation (fee 0 and ``fill="close"`` for ITB's numbers).
    :return: ``long``/``short``/``total`` with ITB's metric names (unrounded),
        ``compound_return_%`` and ``rounded_like_itb``, plus ``open_position`` (or None).
    """
    report: dict[str, Any] = {}
    for side in ("long", "short", "total"):
        metrics = result.performance[side]
        block: dict[str, Any] = {name: metrics[name] for name in ITB_METRICS}
        block["compound_return_%"] = metrics["compound_return_%"]
        block["rounded_like_itb"] = round_like_itb(block)
        report[side] = block
    pos = result.open_position
    report["open_position"] = (
        None
        if pos is None
        else {
            "side": pos.side,
            "entry_row": pos.entry_row,
            "entry_price": pos.entry_price,
            "last_close": pos.last_price,
            "unrealized_profit": pos.unrealized_profit,
            "note": OPEN_POSITION_NOTE,
        }
    )
    return report


# ----------------------------------------------------------------------------------------------
# Grid search


def _require(df: pd.DataFrame, columns: Sequence[str], who: str) -> None:
    for column in columns:
        if column not in df.columns:
            raise DataError(f"{who}: missing input column '{column}'")


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
    keys = _RULE_KEYS[rule]
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
            profit, percent = _trade_returns(last_price, price, closes_long, fee)
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
    if rule not in _RULE_KEYS:
        raise ConfigError(
            f"simulate_model: signal generator '{rule}' is not supported "
            "(threshold_rule or threshold_rule2)"
        )
    wanted = 1 if rule == "threshold_rule" else 2
    columns = (score_columns,) if isinstance(score_columns, str) else tuple(score_columns)
    if len(columns) != wanted:
        raise ConfigError(f"simulate_model: {rule} needs {wanted} score column(s), got {columns}")
    _check_options(cfg.fee, cfg.fill)
    price_columns = [cfg.price_column] if cfg.fill == "close" else ["open"]
    _require(df, [*columns, *price_columns], "simulate")
    frame = select_rows(df, cfg, time_column)
    months = _months(_times(frame, time_column))

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
        next_buy = _next_true(_masks(scores, buy_values[b0:b1], True, eligible))
        in_buy = (buy_of_point >= b0) & (buy_of_point < b1)
        for s0, s1 in _blocks(len(sell_values), per_side):
            chosen = np.flatnonzero(in_buy & (sell_of_point >= s0) & (sell_of_point < s1))
            if not chosen.size:
                continue
            next_sell = _next_true(_masks(scores, sell_values[s0:s1], False, eligible))
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
    metrics = _derive(
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
