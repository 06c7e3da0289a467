"""Configuration of ITB's feature generators ``talib``, ``itbstats``, ``itblib`` and ``tsfresh``.

The keys are ITB's ``config`` keys of each generator (spec b.1-b.4); ITB's flexible shapes (a string
or a list, a single window or a list) are accepted and normalised to tuples. Documented extensions
and corrections are listed in each class docstring.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from itb_ext.config.base import FrozenModel, one_or_many, positive_windows

# TA-Lib's metadata is a leaf module (it imports nothing of this package); its names stay
# importable from here.
from itb_ext.features.talib_info import UNSTABLE_MARGIN_LOOKBACKS as UNSTABLE_MARGIN_LOOKBACKS
from itb_ext.features.talib_info import TalibFunctionInfo as TalibFunctionInfo
from itb_ext.features.talib_info import talib_function_info as talib_function_info

Number = int | float


def _columns_or_mapping(value: Any) -> Any:
    """ITB's ``columns``: a name, a list of names, or a mapping TA-Lib input -> column."""
    return value if isinstance(value, dict) else one_or_many(value)


def _at_least_one_column(value: tuple[str, ...] | dict[str, str]) -> Any:
    if len(value) == 0:
        raise ValueError("at least one input column is needed")
    return value


def _list_to_tuple(value: Any) -> Any:
    """A list of names becomes a tuple; a single name (or None) stays as it is."""
    return tuple(value) if isinstance(value, list) else value


def _false_is_none(value: Any) -> Any:
    """ITB reads missing parameters as ``False``; accept an explicit ``false`` as "not set"."""
    return None if value is False else value


class _FirstColumnConfig(FrozenModel):
    """Shared shape: ITB's ``columns`` (a name, a list or a dict) of which only the first is read.

    :param columns: the input column; a string, a list or a dict (only the first is used, as ITB).
    """

    columns: tuple[str, ...] | dict[str, str]

    _normalise_columns = field_validator("columns", mode="before")(_columns_or_mapping)
    _some_columns = field_validator("columns")(_at_least_one_column)

    @property
    def column(self) -> str:
        """The one input column."""
        if isinstance(self.columns, dict):
            return next(iter(self.columns.values()))
        return self.columns[0]

    def input_columns(self) -> tuple[str, ...]:
        return (self.column,)


# --------------------------------------------------------------------------------------------
# Relative post-processing (shared by talib and itbstats)
# --------------------------------------------------------------------------------------------

RelBase = Literal["next", "last", "prev", "first"]
RelFunc = Literal["rel", "diff", "rel_diff"]


class RelativeParameters(FrozenModel):
    """Post-processing of the outputs of one function over its windows (spec b.1).

    :param rel_base: which output of the same function is the base: ``next`` (the output of the
        next window), ``last``, ``prev`` or ``first``. The base output itself stays unchanged.
        Correction of ITB (j.8): ``first`` really uses the FIRST output (ITB uses the last).
    :param rel_func: ``rel`` (x / base), ``diff`` (x - base) or ``rel_diff`` ((x - base) / base);
        required with ``rel_base``.
    :param percentage: multiply the converted outputs by 100. Correction of ITB (j.8): the
        unchanged base output is not scaled. Without ``rel_base`` every output is scaled (as ITB).
    :param log: store ``ln(value)`` (after the above; non-positive values give NaN / -inf).
    """

    rel_base: RelBase | None = None
    rel_func: RelFunc | None = None
    percentage: bool = False
    log: bool = False

    _false_rel = field_validator("rel_base", "rel_func", mode="before")(_false_is_none)

    @model_validator(mode="after")
    def _rel_func_with_base(self) -> RelativeParameters:
        if self.rel_base is not None and self.rel_func is None:
            raise ValueError(f"rel_base '{self.rel_base}' needs rel_func (rel, diff or rel_diff)")
        return self


class ItbstatsParameters(RelativeParameters):
    """:class:`RelativeParameters` plus ``bias`` for ``scipy_skew`` / ``scipy_kurtosis``.

    :param bias: ``False`` (default, as ITB) applies scipy's small-sample bias correction.
    """

    bias: bool = False


# --------------------------------------------------------------------------------------------
# talib
# --------------------------------------------------------------------------------------------


class TalibConfig(FrozenModel):
    """``talib``: any TA-Lib function over one or more input columns, once per window.

    :param columns: the input columns. A string or a one-element list feeds the function's only
        input; a longer list feeds its inputs in TA-Lib's order (``real0, real1`` or ``high, low,
        close`` ...); a dict maps TA-Lib input names to columns (``{"high": "high", ...}``).
        Improvement over ITB (j.9): the list form also works for named-input functions such as
        ATR (ITB passes ``real0, real1`` ... and fails). Output names join the column names.
    :param functions: TA-Lib function names (``talib.get_functions()``), a string or a list.
    :param windows: ``timeperiod`` values, one call per window; a falsy window (``0``/``null``)
        or no ``windows`` calls the function without ``timeperiod``.
    :param names: ``None`` -> ``<cols>_<F>_<w>``; a string N -> ``<cols>_<F>_<N>_<w>``; a list ->
        one name per window. Without a window: ``<cols>_<F>`` or the string.
    :param parameters: relative post-processing, see :class:`RelativeParameters`.
    :param args: extension (ITB documents ``args`` but ignores it): further TA-Lib parameters
        passed to every call, e.g. ``{"nbdevup": 1.5}`` for BBANDS.

    Functions with several outputs (BBANDS, MACD, STOCH ...; ITB cannot handle them) give one
    column per output, named as above plus ``_<TA-Lib output name>``
    (``close_BBANDS_20_upperband``); relative post-processing pairs outputs of the same name.
    """

    columns: tuple[str, ...] | dict[str, str]
    functions: tuple[str, ...] = Field(min_length=1)
    # validated before windows so that the windows check sees the full TA-Lib parameters
    args: dict[str, Number] = Field(default_factory=dict)
    windows: tuple[int | None, ...] = Field(default=(None,), validate_default=True)
    names: str | tuple[str, ...] | None = None
    parameters: RelativeParameters = RelativeParameters()

    _normalise_columns = field_validator("columns", mode="before")(_columns_or_mapping)
    _some_columns = field_validator("columns")(_at_least_one_column)

    _normalise_functions = field_validator("functions", mode="before")(one_or_many)

    @field_validator("functions")
    @classmethod
    def _known_functions(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        columns = info.data.get("columns")
        for name in value:
            fn = talib_function_info(name)
            if columns is None:
                continue
            if isinstance(columns, dict):
                if set(columns) != set(fn.inputs):
                    raise ValueError(
                        f"{name} takes the inputs {', '.join(fn.inputs)}; "
                        f"the columns dict gives {', '.join(columns)}"
                    )
            elif len(columns) != len(fn.inputs):
                raise ValueError(
                    f"{name} takes {len(fn.inputs)} input column(s) ({', '.join(fn.inputs)}), "
                    f"got {len(columns)}"
                )
        return value

    @field_validator("windows", mode="before")
    @classmethod
    def _normalise_windows(cls, value: Any) -> Any:
        return (None,) if value is None else one_or_many(value)

    @field_validator("windows")
    @classmethod
    def _valid_windows(
        cls, value: tuple[int | None, ...], info: ValidationInfo
    ) -> tuple[int | None, ...]:
        if len(value) == 0:
            return (None,)
        for w in value:
            if w is not None and w < 0:
                raise ValueError(f"window {w} is negative")
        columns = info.data.get("columns", ())
        args = info.data.get("args", {})
        for name in info.data.get("functions", ()):
            fn = talib_function_info(name)
            if any(value) and "timeperiod" not in fn.parameters:
                raise ValueError(f"{name} has no timeperiod: leave windows out (or null)")
            for w in value:
                if w == 1 and len(columns) == 1 and len(fn.outputs) == 1:
                    continue  # ITB returns the input itself, TA-Lib is not called
                params = dict(args, timeperiod=w) if w else dict(args)
                if fn.lookback(params) < 0:
                    shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
                    raise ValueError(f"TA-Lib rejects {name} with {shown}")
        return value

    _names_tuple = field_validator("names", mode="before")(_list_to_tuple)

    @field_validator("names")
    @classmethod
    def _one_name_per_window(cls, value: Any, info: ValidationInfo) -> Any:
        windows = info.data.get("windows")
        if isinstance(value, tuple) and windows is not None and len(value) != len(windows):
            raise ValueError(f"{len(value)} names for {len(windows)} windows")
        return value

    @field_validator("args")
    @classmethod
    def _known_args(cls, value: dict[str, Number], info: ValidationInfo) -> dict[str, Number]:
        for name in info.data.get("functions", ()):
            accepted = talib_function_info(name).parameters
            for key in value:
                if key == "timeperiod":
                    raise ValueError("give timeperiod through windows, not args")
                if key not in accepted:
                    raise ValueError(
                        f"{name} has no parameter '{key}' (it accepts: {', '.join(accepted)})"
                    )
        return value

    @model_validator(mode="after")
    def _unique_output_names(self) -> TalibConfig:
        names = self.output_columns()
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"output column names repeat: {', '.join(dup)}")
        return self

    # ---- derived values -------------------------------------------------------------------

    def column_args(self, function: str) -> tuple[tuple[str, str], ...]:
        """``(TA-Lib input name, column)`` pairs of one function, in TA-Lib's argument order."""
        inputs = talib_function_info(function).inputs
        if isinstance(self.columns, dict):
            return tuple((arg, self.columns[arg]) for arg in inputs)
        return tuple(zip(inputs, self.columns, strict=True))

    def returns_input(self, function: str, window: int | None) -> bool:
        """ITB's special case: window 1 with a single input column returns that column.

        (Only for single-output functions: ITB supports no others.)
        """
        single_output = len(talib_function_info(function).outputs) == 1
        return window == 1 and len(self.columns) == 1 and single_output

    def input_columns(self) -> tuple[str, ...]:
        cols = self.columns.values() if isinstance(self.columns, dict) else self.columns
        return tuple(dict.fromkeys(cols))

    def joined_columns(self) -> str:
        """Input column names joined with ``_``, the stem of every output name (ITB's ``J``)."""
        cols = self.columns.values() if isinstance(self.columns, dict) else self.columns
        return "_".join(cols)

    def base_name(self, function: str, j: int) -> str:
        """ITB's name of the output of ``function`` for window number ``j``."""
        w = self.windows[j]
        stem = f"{self.joined_columns()}_{function}"
        if not w:
            if isinstance(self.names, str):
                return self.names
            if isinstance(self.names, tuple):
                return self.names[j]
            return stem
        if isinstance(self.names, str):
            return f"{stem}_{self.names}_{w}"
        if isinstance(self.names, tuple):
            return self.names[j]
        return f"{stem}_{w}"

    def function_output_columns(self, function: str) -> tuple[tuple[str, ...], ...]:
        """Names of ``function``'s outputs: one tuple per window, one name per TA-Lib output."""
        outputs = talib_function_info(function).outputs
        rows: list[tuple[str, ...]] = []
        for j in range(len(self.windows)):
            base = self.base_name(function, j)
            if len(outputs) == 1:
                rows.append((base,))
            else:
                rows.append(tuple(f"{base}_{out}" for out in outputs))
        return tuple(rows)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(
            name
            for function in self.functions
            for row in self.function_output_columns(function)
            for name in row
        )

    def call_parameters(self, window: int | None) -> dict[str, Number]:
        """TA-Lib keyword parameters of one call."""
        params: dict[str, Number] = dict(self.args)
        if window:
            params["timeperiod"] = window
        return params

    def lookback(self) -> int:
        """Rows of history for a value that no longer depends on where the series starts.

        Stable functions: TA-Lib's lookback + 1 (= the window for SMA, STDDEV,
        LINEARREG_SLOPE ...). Functions whose values depend on where the series starts (EMA, RSI,
        ATR, ADX, MACD ..., see :meth:`TalibFunctionInfo.depends_on_start`): that times
        ``1 + UNSTABLE_MARGIN_LOOKBACKS`` so that the seed's remaining weight is ~1e-13.
        Cumulative functions (OBV, AD, CUMSUM ...) depend on the whole history: no finite
        lookback makes them start-independent; they get the same rule.
        """
        rows = 1
        for function in self.functions:
            info = talib_function_info(function)
            for w in self.windows:
                if self.returns_input(function, w):
                    need = 1
                else:
                    params = self.call_parameters(w)
                    need = info.lookback(params) + 1
                    if info.depends_on_start(params):
                        need *= 1 + UNSTABLE_MARGIN_LOOKBACKS
                rows = max(rows, need)
        return rows


# --------------------------------------------------------------------------------------------
# itbstats
# --------------------------------------------------------------------------------------------

ITBSTATS_FUNCTIONS = (
    "scipy_skew",
    "scipy_kurtosis",
    "pandas_skew",
    "pandas_kurtosis",
    "lsbm",
    "fmax",
    "mean",
    "std",
    "area",
    "slope",
)


class ItbstatsConfig(_FirstColumnConfig):
    """``itbstats``: statistics of the last ``w`` values of one column (partial windows).

    :param columns: the input column; a string, a list or a dict (only the first is used, as ITB).
    :param functions: from :data:`ITBSTATS_FUNCTIONS`, matched case-insensitively; the output name
        keeps the spelling of the config (``<column>_<function>_<w>``).
    :param windows: window lengths (rows), a number or a list.
    :param names: accepted for ITB compatibility and ignored (as ITB).
    :param parameters: relative post-processing plus ``bias``, see :class:`ItbstatsParameters`.
    """

    functions: tuple[str, ...] = Field(min_length=1)
    windows: tuple[int, ...] = Field(min_length=1)
    names: str | tuple[str, ...] | None = None
    parameters: ItbstatsParameters = ItbstatsParameters()

    _normalise_many = field_validator("functions", "windows", mode="before")(one_or_many)

    _names_tuple = field_validator("names", mode="before")(_list_to_tuple)

    @field_validator("functions")
    @classmethod
    def _known_functions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name.lower() not in ITBSTATS_FUNCTIONS:
                raise ValueError(
                    f"unknown itbstats function '{name}' (known: {', '.join(ITBSTATS_FUNCTIONS)})"
                )
        return value

    _check_windows = field_validator("windows")(positive_windows)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(f"{self.column}_{f}_{w}" for f in self.functions for w in self.windows)

    def lookback(self) -> int:
        """The largest window (earlier rows get values from partial windows)."""
        return max(self.windows)


# --------------------------------------------------------------------------------------------
# itblib
# --------------------------------------------------------------------------------------------

# function -> (output stem, columns it reads). Order = ITB's output order.
ITBLIB_FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "close_WMA": ("close", ("close", "volume")),
    "close_STD": ("close_std", ("close",)),
    "volume_SMA": ("volume", ("volume",)),
    "span_SMA": ("span", ("high", "low")),
    "trades_SMA": ("trades", ("trades",)),
    "tb_base_SMA": ("tb_base", ("tb_base_av", "volume")),
    "close_AREA": ("close_area", ("close",)),
    "close_SLOPE": ("close_trend", ("close",)),
    "volume_SLOPE": ("volume_trend", ("volume",)),
}


class ItblibConfig(FrozenModel):
    """``itblib`` (legacy): rolling aggregations relative to a longer base window (spec b.3).

    :param use_differences: replace ``close``, ``volume`` (and ``trades``) by their percent
        changes first.
    :param base_window: the window of the base aggregation; must not be one of ``windows``.
    :param windows: window lengths, a number or a list.
    :param functions: from :data:`ITBLIB_FUNCTIONS`; empty or missing = all. Outputs come in ITB's
        fixed order, whatever the order here.

    Improvement over ITB (j.27): only the columns of the requested functions are required (ITB
    always requires ``trades``).
    """

    use_differences: bool = True
    base_window: int = Field(ge=1)
    windows: tuple[int, ...] = Field(min_length=1)
    functions: tuple[str, ...] = ()

    _normalise_many = field_validator("windows", "functions", mode="before")(one_or_many)

    @field_validator("windows")
    @classmethod
    def _windows_not_base(cls, value: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        positive_windows(value)
        base = info.data.get("base_window")
        if base is not None and base in value:
            raise ValueError(f"base_window {base} must not also be one of the windows")
        return value

    @field_validator("functions")
    @classmethod
    def _known_functions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in ITBLIB_FUNCTIONS:
                raise ValueError(
                    f"unknown itblib function '{name}' (known: {', '.join(ITBLIB_FUNCTIONS)})"
                )
        return value

    def selected_functions(self) -> tuple[str, ...]:
        """The requested functions in ITB's output order (all when none is listed)."""
        return tuple(f for f in ITBLIB_FUNCTIONS if not self.functions or f in self.functions)

    def input_columns(self) -> tuple[str, ...]:
        cols: list[str] = []
        for f in self.selected_functions():
            cols.extend(ITBLIB_FUNCTIONS[f][1])
        return tuple(dict.fromkeys(cols))

    def output_columns(self) -> tuple[str, ...]:
        return tuple(
            f"{ITBLIB_FUNCTIONS[f][0]}_{w}" for f in self.selected_functions() for w in self.windows
        )

    def lookback(self) -> int:
        """The largest of ``base_window`` and ``windows``, plus the row a percent change needs."""
        return max(self.base_window, *self.windows) + (1 if self.use_differences else 0)


# --------------------------------------------------------------------------------------------
# tsfresh
# --------------------------------------------------------------------------------------------

#: The statistics of ``tsfresh``, in ITB's output order for each window: output name stem ->
#: the tsfresh feature calculator it reproduces.
TSFRESH_STATISTICS: dict[str, str] = {
    "skewness": "skewness",
    "kurtosis": "kurtosis",
    "msdc": "mean_second_derivative_central",
    "lsbm": "longest_strike_below_mean",
    "fmax": "first_location_of_maximum",
}


class TsfreshConfig(_FirstColumnConfig):
    """``tsfresh``: five tsfresh statistics of the last ``w`` values of one column (spec b.4).

    Always all of :data:`TSFRESH_STATISTICS` for every window, named ``<column>_<stem>_<w>``, the
    five of the first window first.

    :param columns: the input column; a string, a list or a dict (only the first is used, as ITB).
    :param windows: window lengths (rows), a number or a list; each at most once.
    :param functions: accepted for ITB compatibility and ignored (as ITB).
    """

    windows: tuple[int, ...] = Field(min_length=1)
    functions: tuple[str, ...] = ()

    _normalise_many = field_validator("windows", "functions", mode="before")(one_or_many)

    @field_validator("windows")
    @classmethod
    def _distinctpositive_windows(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        positive_windows(value)
        repeated = sorted({w for w in value if value.count(w) > 1})
        if repeated:
            # the same output names twice: ITB would silently keep one of them
            raise ValueError(f"window {repeated[0]} is given more than once")
        return value

    def window_columns(self, window: int) -> tuple[str, ...]:
        """The five output names of one window, in :data:`TSFRESH_STATISTICS` order."""
        return tuple(f"{self.column}_{stem}_{window}" for stem in TSFRESH_STATISTICS)

    def output_columns(self) -> tuple[str, ...]:
        return tuple(name for w in self.windows for name in self.window_columns(w))

    def lookback(self) -> int:
        """The largest window (earlier rows get values from partial windows)."""
        return max(self.windows)
