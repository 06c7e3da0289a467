"""ITB's daily score diagram: price band, close and score on one chart, as a PNG.

The data follow ITB's ``diagram_notification_model``: candles and the score are aggregated to
``resampling_freq`` bars (open first, high max, low min, close last; the score is the bar's
maximum when every value in it is positive, its minimum when every value is negative, and its
mean otherwise), the newest ``nrows`` bars are kept, and the bot's entries and exits are marked
on the bar they fall in (BUY: green triangle up, SELL: red triangle down).

Where it differs from ITB:

* the diagram is due on the first run of each ``notification_freq`` interval *of this process*
  (ITB sends only when the run falls on the interval's first candle, so a bot started, or a run
  delayed, past that candle skips the day);
* the markers sit just outside the high-low band (ITB draws them 15 price units from the close,
  which is invisible on a BTC chart and off the chart for a coin priced below 15).

The optional ``score_ma`` averages are computed over every bar before the newest ``nrows`` are
kept, so the first bars shown already have a full window.

Matplotlib draws on a private :class:`~matplotlib.figure.Figure` with the Agg canvas: no pyplot
state, so a bot thread can render while others trade.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from itb_ext.config.diagram import DiagramConfig
from itb_ext.data.candles import PRICE_COLUMNS, time_column_of
from itb_ext.errors import DataError, ITBError
from itb_ext.pipeline.frames import require_columns
from itb_ext.strategy.charts import BUY_COLOUR, SELL_COLOUR

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

BUY, SELL = "BUY", "SELL"
"""The sides of a transaction, in ITB's words."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

BAND_COLOUR = "#87ceeb"
CLOSE_COLOUR = "#00008b"
SCORE_LINE_COLOUR = "#7b2d8e"
SCORE_MA_COLOURS = ("#d2691e", "#6a5acd", "#2e8b57")


def score_ma_column(window: int) -> str:
    """Name of the diagram column holding the ``window``-bar moving average of the score."""
    return f"score_ma_{window}"


def diagram_title(pair: str, description: str) -> str:
    """ITB's title: ``symbol: description`` (the symbol alone without a description)."""
    return f"{pair}: {description}" if description else pair


# --- data ----------------------------------------------------------------------------------------


def _resample_score(score: pd.Series, freq: str, origin: pd.Timestamp) -> pd.Series:
    """ITB's score of a bar: max if every value is > 0, min if every value is < 0, else mean.

    A missing value is neither positive nor negative, so a bar holding one is averaged over its
    known values (ITB's ``np.mean`` of a Series skips NaN).
    """
    bars = score.resample(freq, origin=origin)
    rows = bars.size()
    positive = (score > 0).resample(freq, origin=origin).sum()
    negative = (score < 0).resample(freq, origin=origin).sum()
    out = bars.mean()
    out = out.where(negative != rows, bars.min())
    # tested last: an empty bar counts as "all positive", and its max is NaN anyway
    return out.where(positive != rows, bars.max())


def transactions_from_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """FreqTrade's trades as ITB's transactions: one BUY and one SELL row per trade.

    A long trade buys at ``open_date`` and sells at ``close_date``; a short trade (``is_short``)
    sells first and buys back. An open trade has only its entry.

    :param trades: one row per trade with ``open_date``, ``close_date`` (NaT or missing while
        open) and optionally ``is_short``.
    :return: ``date`` (UTC) and ``side`` (``BUY``/``SELL``), oldest first.
    :raises DataError: when ``open_date`` is missing.
    """
    if len(trades) == 0:
        return pd.DataFrame(
            {"date": pd.DatetimeIndex([], tz="UTC"), "side": pd.Series([], dtype=object)}
        )
    require_columns(trades, ["open_date"], "trades")
    short = (
        trades["is_short"].fillna(False).astype(bool).to_numpy()
        if "is_short" in trades
        else np.zeros(len(trades), dtype=bool)
    )
    opens = pd.to_datetime(trades["open_date"], utc=True).reset_index(drop=True)
    closes = (
        pd.to_datetime(trades["close_date"], utc=True).reset_index(drop=True)
        if "close_date" in trades
        else pd.Series(pd.NaT, index=opens.index, dtype=opens.dtype)
    )
    out = pd.concat(
        [
            pd.DataFrame({"date": opens, "side": np.where(short, SELL, BUY)}),
            pd.DataFrame({"date": closes, "side": np.where(short, BUY, SELL)}),
        ],
        ignore_index=True,
    )
    out = out[out["date"].notna()]
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def _marked_bars(
    transactions: pd.DataFrame | None, bars: pd.DatetimeIndex, freq: str, origin: pd.Timestamp
) -> pd.DataFrame:
    """Per bar: whether at least one BUY and at least one SELL happened in it."""
    empty = pd.DataFrame({BUY: False, SELL: False}, index=bars)
    if transactions is None or len(transactions) == 0:
        return empty
    require_columns(transactions, ["date", "side"], "transactions")
    sides = transactions["side"].astype(str).str.upper()
    unknown = sorted(set(sides) - {BUY, SELL})
    if unknown:
        raise DataError(f"transactions: unknown side '{unknown[0]}' (use BUY or SELL)")
    flags = pd.DataFrame(
        {BUY: (sides == BUY).to_numpy(), SELL: (sides == SELL).to_numpy()},
        index=pd.DatetimeIndex(pd.to_datetime(transactions["date"], utc=True)),
    ).sort_index()
    # as ITB: only the transactions since the first bar shown, joined to the bars by time
    flags = flags[flags.index >= bars[0]]
    if len(flags) == 0:
        return empty
    per_bar = flags.resample(freq, origin=origin).sum() > 0
    return per_bar.reindex(bars, fill_value=False).astype(bool)


def diagram_frame(
    candles: pd.DataFrame,
    score: pd.Series,
    transactions: pd.DataFrame | None,
    cfg: DiagramConfig,
) -> pd.DataFrame:
    """The bars the diagram draws.

    :param candles: candles with ``date`` (or ``timestamp``), ``open``, ``high``, ``low``,
        ``close``, oldest first.
    :param score: the score of each candle, in the candles' order (same length).
    :param transactions: ``date`` and ``side`` (``BUY``/``SELL``), e.g. from
        :func:`transactions_from_trades`; None for no markers.
    :param cfg: resampling, number of bars and score averages.
    :return: one row per bar, oldest first: ``date`` (bar start, UTC), ``open``, ``high``,
        ``low``, ``close``, ``score``, one ``score_ma_<n>`` per ``score_ma`` window, ``buy`` and
        ``sell`` (bools). A bar without candles keeps its row with missing prices.
    :raises DataError: for no candles, missing columns or a score of another length.
    """
    if len(candles) == 0:
        raise DataError("diagram: no candles")
    time_col = time_column_of(candles, "diagram candles")
    require_columns(candles, PRICE_COLUMNS, "diagram candles")
    if len(score) != len(candles):
        raise DataError(
            f"diagram: {len(score)} score values for {len(candles)} candles (they must match)"
        )
    times = pd.DatetimeIndex(pd.to_datetime(candles[time_col], utc=True))
    # the bar grid starts at midnight of the first candle (pandas' and so ITB's default)
    origin = times[0].normalize()
    prices = pd.DataFrame(
        {c: candles[c].to_numpy(dtype="float64") for c in PRICE_COLUMNS}, index=times
    )
    bars = prices.resample(cfg.resampling_freq, origin=origin).agg(
        {"open": "first", "high": "max", "low": "min", "close": "last"}
    )
    values = pd.Series(pd.to_numeric(score, errors="coerce").to_numpy("float64"), index=times)
    bars["score"] = _resample_score(values, cfg.resampling_freq, origin)
    for window in cfg.score_ma:
        bars[score_ma_column(window)] = bars["score"].rolling(window, min_periods=window).mean()
    bars = bars.tail(cfg.nrows)
    marks = _marked_bars(transactions, bars.index, cfg.resampling_freq, origin)
    bars["buy"] = marks[BUY].to_numpy()
    bars["sell"] = marks[SELL].to_numpy()
    bars.index.name = "date"
    return bars.reset_index()


# --- when ----------------------------------------------------------------------------------------


def _as_utc(moment: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def diagram_due(last_sent: pd.Timestamp | None, now: pd.Timestamp, cfg: DiagramConfig) -> bool:
    """Whether this run is the first of a new ``notification_freq`` interval.

    Intervals start on the epoch's grid in UTC (``1D``: at midnight UTC); ``now`` is the
    wall-clock time of the run, as in ITB. A naive time is read as UTC.

    :param last_sent: when the diagram was last sent (None: never, in this process).
    :param now: the current time.
    :param cfg: ``notification_freq``.
    """
    if last_sent is None:
        return True
    interval = cfg.notification_freq
    return bool(_as_utc(now).floor(interval) > _as_utc(last_sent).floor(interval))


# --- drawing -------------------------------------------------------------------------------------


def _naive_utc(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(dates, utc=True).dt.tz_localize(None).to_numpy()


def score_axis_limit(scores: pd.Series, thresholds: tuple[float, ...]) -> float:
    """Half-height of the score axis: 1.2 x the largest of \\|score\\| and \\|threshold\\|.

    1 when there is neither a score nor a threshold (an empty axis still needs a scale).
    """
    known = scores.abs().dropna()
    largest = max([float(known.max())] if len(known) else [], default=0.0)
    largest = max([largest, *(abs(t) for t in thresholds)])
    return 1.2 * largest if largest > 0 else 1.0


def _draw_prices(ax: Any, dates: np.ndarray, frame: pd.DataFrame) -> None:
    """High-low band, close, and the BUY/SELL markers just outside the band."""
    low, high = frame["low"].to_numpy("float64"), frame["high"].to_numpy("float64")
    if not np.isfinite(low).any() or not np.isfinite(high).any():
        raise DataError("diagram: no prices to draw")
    ax.fill_between(
        dates, low, high, step="mid", linewidth=0, color=BAND_COLOUR, alpha=0.5, label="high-low"
    )
    close = frame["close"].to_numpy("float64")
    ax.plot(dates, close, drawstyle="steps-mid", linewidth=1.2, color=CLOSE_COLOUR, label="close")
    bottom, top = float(np.nanmin(low)), float(np.nanmax(high))
    # a flat market still needs room for the markers
    pad = (top - bottom) * 0.04 or abs(top) * 0.01 or 1.0
    marker = {"linestyle": "none", "markersize": 10, "alpha": 0.85}
    buys, sells = frame["buy"].to_numpy(bool), frame["sell"].to_numpy(bool)
    # a label starting with "_" keeps an empty marker series out of the legend
    buy_label, sell_label = ("buy" if buys.any() else "_buy"), ("sell" if sells.any() else "_sell")
    ax.plot(dates[buys], low[buys] - pad, marker="^", color=BUY_COLOUR, label=buy_label, **marker)
    ax.plot(
        dates[sells], high[sells] + pad, marker="v", color=SELL_COLOUR, label=sell_label, **marker
    )
    ax.set_ylim(bottom - 2.5 * pad, top + 2.5 * pad)
    ax.set_ylabel("price", color=CLOSE_COLOUR)
    ax.tick_params(axis="y", colors=CLOSE_COLOUR)
    ax.grid(True, axis="both", color="#dddddd", linewidth=0.6)


def _draw_time_axis(ax: Any, dates: np.ndarray) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("UTC")
    ax.set_xlim(dates[0], dates[-1])


def _draw_scores(ax: Any, dates: np.ndarray, frame: pd.DataFrame, cfg: DiagramConfig) -> None:
    """The score, its averages, the zero line and the thresholds, on symmetric limits."""
    score = frame["score"].to_numpy("float64")
    ax.plot(
        dates, score, drawstyle="steps-mid", linewidth=1.0, color=SCORE_LINE_COLOUR, label="score"
    )
    for i, window in enumerate(cfg.score_ma):
        ax.plot(
            dates,
            frame[score_ma_column(window)].to_numpy("float64"),
            linewidth=1.0,
            linestyle="--",
            color=SCORE_MA_COLOURS[i % len(SCORE_MA_COLOURS)],
            label=f"score MA {window}",
        )
    ax.axhline(0.0, linewidth=0.6, color="black")
    for threshold in cfg.score_thresholds:
        colour = BUY_COLOUR if threshold > 0 else SELL_COLOUR
        ax.axhline(
            threshold, linewidth=1.1, linestyle=":", color=colour, label=f"threshold {threshold:+g}"
        )
    limit = score_axis_limit(frame["score"], cfg.score_thresholds)
    ax.set_ylim(-limit, limit)
    ax.set_ylabel("score", color=SCORE_LINE_COLOUR)
    ax.tick_params(axis="y", colors=SCORE_LINE_COLOUR)


def diagram_figure(frame: pd.DataFrame, cfg: DiagramConfig, title: str) -> Figure:
    """The diagram as a Matplotlib figure of its own (Agg canvas, no pyplot).

    Left axis: the high-low band and the close. Right axis: the score, its moving averages and a
    line at zero and at each of ``score_thresholds``, with symmetric limits of 1.2 x the largest
    absolute score or threshold. BUY markers sit just below the band, SELL markers just above.

    :param frame: the output of :func:`diagram_frame` (at least one bar with prices).
    :param cfg: the thresholds and averages to draw.
    :param title: the figure title (see :func:`diagram_title`).
    :raises DataError: when no bar has prices.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    prices = fig.add_subplot()
    dates = _naive_utc(frame["date"])
    _draw_prices(prices, dates, frame)
    _draw_time_axis(prices, dates)
    scores = prices.twinx()
    _draw_scores(scores, dates, frame, cfg)
    handles = [*prices.get_legend_handles_labels()[0], *scores.get_legend_handles_labels()[0]]
    # outside the axes, so it never hides the newest bars
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)
    fig.suptitle(title, fontsize=14, fontweight="bold")
    return fig


def render_diagram(frame: pd.DataFrame, cfg: DiagramConfig, title: str) -> bytes:
    """:func:`diagram_figure` as the bytes of a PNG file (1200 x 600 pixels).

    :param frame: the output of :func:`diagram_frame`.
    :param cfg: the thresholds and averages to draw.
    :param title: the chart title (see :func:`diagram_title`).
    """
    with io.BytesIO() as buffer:
        diagram_figure(frame, cfg, title).savefig(buffer, format="png")
        return buffer.getvalue()


# --- the bot's daily photo -----------------------------------------------------------------------


def maybe_send_diagram(
    *,
    pair: str,
    candles: pd.DataFrame,
    trades: pd.DataFrame | None,
    cfg: DiagramConfig,
    now: pd.Timestamp,
    last_sent: pd.Timestamp | None,
    send: Callable[[Callable[[], bytes]], object],
) -> pd.Timestamp | None:
    """Hand the diagram to ``send`` on the first run of each ``notification_freq`` interval.

    The bars are computed here from the candles as they are now; the drawing is left to
    ``send``'s caller (a background thread), so the run goes on at once. Bad data is logged
    and skips the interval instead of stopping the bot.

    :param pair: the title's symbol, e.g. ``BTC/USDT``.
    :param candles: the analysed candles, with ``cfg.score_column``.
    :param trades: the pair's trades (``open_date``, ``close_date``, ``is_short``), or None.
    :param cfg: the ``itb.diagram`` section.
    :param now: the wall-clock time of this run.
    :param last_sent: what the previous call returned (None at start).
    :param send: takes a function returning the PNG bytes, e.g.
        :meth:`itb_ext.adapters.telegram_photo.TelegramPhotoSender.submit`.
    :return: the time to pass as ``last_sent`` next time (``now`` when the interval is done).
    """
    if not cfg.enabled or not diagram_due(last_sent, now, cfg):
        return last_sent
    try:
        require_columns(candles, [cfg.score_column], "itb.diagram.score_column")
        transactions = transactions_from_trades(trades) if trades is not None else None
        frame = diagram_frame(candles, candles[cfg.score_column], transactions, cfg)
    except ITBError as exc:
        log.warning("diagram of %s not sent: %s", pair, exc)
        return now
    title = diagram_title(pair, cfg.description)
    send(lambda: render_diagram(frame, cfg, title))
    return now
