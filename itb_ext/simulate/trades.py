"""Trade simulation of one pair of buy/sell signal levels: events, trades and accounting.


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

Metrics of the trades are in :mod:`itb_ext.simulate.metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from itb_ext.errors import ConfigError, DataError
from itb_ext.pipeline.frames import require_columns
from itb_ext.simulate.metrics import direction_metrics, months_covered

Side = Literal["long", "short"]
Fill = Literal["close", "next_open"]

#: Default fee per side, as a fraction of the traded value (0.1 %).
DEFAULT_FEE = 0.001


@dataclass(frozen=True)
class Event:
    """A BUY or SELL of the state machine: the signal bar's row and the fill price."""

    row: int
    side: Literal["BUY", "SELL"]
    price: float


@dataclass(frozen=True)
class SimulatedTrade:
    """A closed trade of ITB's simulation (one unit, rows instead of times), profit net of the
    fees of both legs."""

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
    trades: tuple[SimulatedTrade, ...]
    open_position: OpenPosition | None
    performance: Mapping[str, Mapping[str, float | int]]
    months: float

    def metrics(self, direction: str) -> Mapping[str, float | int]:
        """Metrics of ``long``, ``short`` or ``both`` (= ``total``)."""
        return self.performance["total" if direction == "both" else direction]

    def trades_frame(self) -> pd.DataFrame:
        """The trades as a table (one row per trade, the fields of :class:`SimulatedTrade` and
        ``bars``)."""
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


def check_options(fee: float, fill: str) -> None:
    """Reject a fee outside [0, 1) and an unknown fill with a ConfigError."""
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


def trade_returns(
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


def next_true(masks: np.ndarray) -> np.ndarray:
    """For each mask row: the first column ``>= i`` that is True, ``n`` if none (``n+1`` columns).

    The extra column ``n`` (value ``n``) lets a search start after the last row.
    """
    k, n = masks.shape
    table = np.full((k, n + 1), n, dtype=np.int32)
    table[:, :n] = np.where(masks, np.arange(n, dtype=np.int32), np.int32(n))
    return np.minimum.accumulate(table[:, ::-1], axis=1)[:, ::-1]


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
    tables = (next_true(buy_ok[None, :])[0], next_true(sell_ok[None, :])[0])
    rows: list[int] = []
    pos = 0
    while True:
        row = int(tables[len(rows) % 2][pos])
        if row >= n:
            return rows
        rows.append(row)
        pos = row + 1


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
    check_options(fee, fill)
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
        profit, percent = trade_returns(np.array([entry.price]), np.array([exit_.price]), long, fee)
        trades.append(
            SimulatedTrade(
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
        unrealized, _ = trade_returns(np.array([last.price]), np.array([last_price]), long, fee)
        open_position = OpenPosition(
            "long" if long else "short", last.row, last.price, last_price, float(unrealized[0])
        )

    months = months_covered(timestamps)
    performance = {
        "long": _metrics_of([t for t in trades if t.side == "long"], months),
        "short": _metrics_of([t for t in trades if t.side == "short"], months),
        "total": _metrics_of(trades, months),
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
    require_columns(df, needed, "simulate")
    return simulate(
        df[buy_column].to_numpy(),
        df[sell_column].to_numpy(),
        df[price_column].to_numpy(dtype="float64"),
        open_price=df["open"].to_numpy(dtype="float64") if fill == "next_open" else None,
        timestamps=df[time_column] if time_column in df.columns else None,
        fee=fee,
        fill=fill,
    )


def _metrics_of(trades: Sequence[SimulatedTrade], months: float) -> dict[str, float | int]:
    return direction_metrics(
        np.array([t.profit for t in trades], dtype="float64"),
        np.array([t.profit_percent for t in trades], dtype="float64"),
        np.array([t.bars for t in trades], dtype="float64"),
        months,
    )
