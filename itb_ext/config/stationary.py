"""Configuration of the stationary feature generators (extensions, not part of ITB).

Each generator reads current and past candles only and produces values without a price level
(returns, ratios, positions, z-scores, cyclic time), so a model trained on one price regime can
be applied to another. The entries use ITB's format (``{"generator": ..., "config": {...}}``);
lists of windows may be given as one number.

The ``z_*`` generators measure moves in units of the market's own recent volatility, ``sigma``:
the exponentially weighted standard deviation of the one-candle log returns (span
``volatility_span``), so the same value means the same surprise on a calm and on a wild market.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from itb_ext.config.base import FrozenModel, one_or_many, positive_windows

#: Exponentially weighted statistics keep this many spans of rows: the weights left out,
#: ``(1 - 2 / (span + 1)) ** (4 span)``, are below 0.04 % of the total for every span, and a
#: finite window makes a value independent of how much history was loaded before it.
EWM_SPANS_KEPT = 4


def _first_column(value: Any) -> Any:
    """A column given as a name or a one-element list (ITB's ``columns`` shape)."""
    if isinstance(value, tuple | list):
        if len(value) != 1:
            raise ValueError("exactly one input column is expected")
        return value[0]
    return value


def _at_least_two(value: tuple[int, ...]) -> tuple[int, ...]:
    for w in value:
        if w < 2:
            raise ValueError(f"window {w} must be at least 2 rows (a spread needs two values)")
    return value


def _columns_named(*names: str) -> Callable[[Any], tuple[str, ...]]:
    """A check that ``columns`` lists exactly these inputs, in this order."""
    count = {2: "two", 3: "three"}.get(len(names), str(len(names)))
    expected = f"expected the {count} columns {', '.join(names)}"

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or len(value) != len(names):
            raise ValueError(expected)
        return tuple(value)

    return check


class _Windows(FrozenModel):
    """Shared shape: a list of windows (rows), one output column each."""

    windows: tuple[int, ...] = Field(min_length=1)

    _many = field_validator("windows", mode="before")(one_or_many)
    _positive_windows = field_validator("windows")(positive_windows)


class _WindowsConfig(_Windows):
    """Shared shape: one input column and a list of windows (rows).

    :param columns: the input column (a string or a one-element list).
    :param windows: window lengths in rows, one output column each (a number or a list).
    """

    columns: str = "close"

    _column = field_validator("columns", mode="before")(_first_column)

    def input_columns(self) -> tuple[str, ...]:
        return (self.columns,)


class _CandleWindowsConfig(_Windows):
    """Shared shape: the high, low and close columns and a list of windows (rows).

    :param columns: the high, low and close columns, in that order.
    :param windows: window lengths in rows, one output column each (a number or a list).
    """

    columns: tuple[str, str, str] = ("high", "low", "close")

    _three = field_validator("columns", mode="before")(_columns_named("high", "low", "close"))

    def input_columns(self) -> tuple[str, ...]:
        return self.columns


class LogReturnConfig(_WindowsConfig):
    """``log_return``: ``ln(x_t / x_{t-k})`` for every window ``k``.

    Output ``<column>_log_return_<k>``; the first ``k`` rows are missing.
    """

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.columns}_log_return_{k}" for k in self.windows)

    def lookback(self) -> int:
        return max(self.windows) + 1


class MovingAverageDistanceConfig(_WindowsConfig):
    """``ma_distance``: how far the value is from its simple moving average over ``w`` rows.

    :param unit: ``percent``: ``100 * (x / SMA_w - 1)``. ``volatility``: ``ln(x / SMA_w)``
        divided by the standard deviation of the one-row log returns over the same ``w`` rows
        (a z-like distance that means the same on a calm and on a wild market).

    Output ``<column>_ma_distance_<w>``.
    """

    unit: Literal["percent", "volatility"] = "percent"
    _two = field_validator("windows")(_at_least_two)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.columns}_ma_distance_{w}" for w in self.windows)

    def lookback(self) -> int:
        return max(self.windows) + 1


class AverageTrueRangeConfig(_CandleWindowsConfig):
    """``atr``: average true range over ``w`` rows (a simple mean of the true range).

    The true range of a candle is ``max(high, previous close) - min(low, previous close)``.
    It is averaged with a plain mean of the last ``w`` values (not Wilder's recursive average, so
    that a candle's value does not depend on how much history precedes it).

    :param columns: the high, low and close columns, in that order.
    :param windows: averaging windows.
    :param normalized: ``true`` (default) gives NATR, ``100 * ATR / close``, which carries no
        price level; ``false`` gives ATR in price units.

    Output ``natr_<w>`` or ``atr_<w>``.
    """

    normalized: bool = True

    def output_columns(self) -> tuple[str, ...]:
        stem = "natr" if self.normalized else "atr"
        return tuple(f"{stem}_{w}" for w in self.windows)

    def lookback(self) -> int:
        return max(self.windows) + 1


class RealizedVolatilityConfig(_WindowsConfig):
    """``realized_volatility``: standard deviation of the one-row log returns over ``w`` rows,
    in percent per row, and ratios of two such volatilities.

    :param ratios: pairs ``[short, long]``; each gives ``vol_short / vol_long`` (above 1: the
        market is livelier than usual). Both windows may be absent from ``windows``.

    Output ``<column>_realized_vol_<w>`` and ``<column>_vol_ratio_<short>_<long>``.
    """

    ratios: tuple[tuple[int, int], ...] = ()
    _two = field_validator("windows")(_at_least_two)

    @field_validator("ratios", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError("expected a list of [short, long] window pairs")
        return tuple(tuple(p) if isinstance(p, list | tuple) else p for p in value)

    @field_validator("ratios")
    @classmethod
    def _short_before_long(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        for short, long in value:
            if not 2 <= short < long:
                raise ValueError(f"ratio [{short}, {long}] needs 2 <= short < long")
        return value

    def output_columns(self) -> tuple[str, ...]:
        vols = [f"{self.columns}_realized_vol_{w}" for w in self.windows]
        ratios = [f"{self.columns}_vol_ratio_{s}_{lg}" for s, lg in self.ratios]
        return (*vols, *ratios)

    def lookback(self) -> int:
        longest = max((lg for _, lg in self.ratios), default=0)
        return max(*self.windows, longest) + 1


class RangePositionConfig(_CandleWindowsConfig):
    """``range_position``: where the close sits in the high-low range of the last ``w`` rows.

    ``(close - lowest low) / (highest high - lowest low)``: 0 at the bottom of the range, 1 at the
    top, 0.5 when the range is empty.

    :param columns: the high, low and close columns, in that order.

    Output ``range_position_<w>``.
    """

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"range_position_{w}" for w in self.windows)

    def lookback(self) -> int:
        return max(self.windows)


class VolumeZScoreConfig(_WindowsConfig):
    """``volume_zscore``: ``(v - mean) / std`` of the volume over the last ``w`` rows (the
    current row included; population standard deviation; 0 when the window is constant).

    :param log: use ``ln(1 + volume)`` (default), which tames the heavy right tail of volume.

    Output ``<column>_zscore_<w>``.
    """

    columns: str = "volume"
    log: bool = True
    _two = field_validator("windows")(_at_least_two)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.columns}_zscore_{w}" for w in self.windows)

    def lookback(self) -> int:
        return max(self.windows)


CyclicPeriod = Literal["hour_of_day", "day_of_week"]


class CyclicTimeConfig(FrozenModel):
    """``cyclic_time``: the candle's time of day and day of week as points on a circle.

    Each period gives a ``_sin`` and a ``_cos`` column, so that 23:00 is next to 00:00 and Sunday
    next to Monday. The time of day counts minutes (a 30m candle at 10:30 is at 10.5 hours);
    the day of week includes the time of day.

    :param columns: the time column (``date`` as in FreqTrade, or ``timestamp``); UTC datetimes or
        milliseconds since the epoch.
    :param periods: ``hour_of_day``, ``day_of_week``.

    Output ``hour_of_day_sin``, ``hour_of_day_cos``, ``day_of_week_sin``, ``day_of_week_cos``.
    """

    columns: str = "date"
    periods: tuple[CyclicPeriod, ...] = ("hour_of_day", "day_of_week")

    _column = field_validator("columns", mode="before")(_first_column)
    _many = field_validator("periods", mode="before")(one_or_many)

    @model_validator(mode="after")
    def _some_period(self) -> CyclicTimeConfig:
        if not self.periods:
            raise ValueError("periods must name at least one of hour_of_day, day_of_week")
        return self

    def input_columns(self) -> tuple[str, ...]:
        return (self.columns,)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{p}_{f}" for p in self.periods for f in ("sin", "cos"))

    def lookback(self) -> int:
        return 1


class _VolatilityUnits(FrozenModel):
    """What the ``z_*`` generators share: moves measured in units of ``sigma``.

    :param volatility_span: span in candles of the exponential weights of ``sigma`` (default 168:
        a week of 1h candles). ``sigma`` at row ``t`` is the exponentially weighted standard
        deviation (weights ``(1 - 2 / (span + 1)) ** j`` for the return ``j`` rows back,
        bias-corrected as pandas' ``ewm(span).std()``) of the ``4 * volatility_span`` one-candle
        log returns ending at ``t``; rows with fewer returns, or with a missing one, have no
        ``sigma`` and so no value.
    """

    volatility_span: int = Field(default=168, ge=2)

    def volatility_returns(self) -> int:
        """One-candle returns ``sigma`` is computed from."""
        return EWM_SPANS_KEPT * self.volatility_span


class ZReturnConfig(_WindowsConfig, _VolatilityUnits):
    """``z_return``: the ``k``-candle log return in units of ``sigma * sqrt(k)``.

    ``(ln x_t - ln x_{t-k}) / (sigma_t * sqrt(k))``: about a standard normal value whatever the
    market's volatility. Output ``<column>_z_return_<k>``.
    """

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.columns}_z_return_{k}" for k in self.windows)

    def lookback(self) -> int:
        return max(*self.windows, self.volatility_returns()) + 1


class ZMovingAverageDistanceConfig(_WindowsConfig, _VolatilityUnits):
    """``z_ma_distance``: distance to the ``w``-candle simple moving average in units of
    ``sigma * sqrt(w)``.

    ``(ln x_t - ln SMA_w(x)_t) / (sigma_t * sqrt(w))``. Output ``<column>_z_ma_distance_<w>``.
    """

    _two = field_validator("windows")(_at_least_two)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.columns}_z_ma_distance_{w}" for w in self.windows)

    def lookback(self) -> int:
        return max(max(self.windows), self.volatility_returns() + 1)


class ZMaxDistanceConfig(_Windows, _VolatilityUnits):
    """``z_max_distance``: how far the close is below the highest high of the last ``w`` candles
    (the current one included), in units of ``sigma * sqrt(w)``.

    ``(ln close_t - ln max(high_{t-w+1} .. high_t)) / (sigma_t * sqrt(w))``, at most 0 when every
    high is at or above its close. ``sigma`` comes from the closes.

    :param columns: the high and close columns, in that order.
    :param windows: window lengths in candles, one output column each (a number or a list).

    Output ``z_max_distance_<w>``.
    """

    columns: tuple[str, str] = ("high", "close")

    _two = field_validator("columns", mode="before")(_columns_named("high", "close"))

    def input_columns(self) -> tuple[str, ...]:
        return self.columns

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"z_max_distance_{w}" for w in self.windows)

    def lookback(self) -> int:
        return max(max(self.windows), self.volatility_returns() + 1)
