"""Maps ITB generator names to their typed configuration and implementing function.

Built-in generators are referenced by dotted path and imported on first use, so that a command
that only computes signals never imports TA-Lib. Any other name of the form
``package.module:function`` is an ITB custom generator.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from itb_ext.errors import ConfigError

Stage = Literal["features", "labels", "signals"]

#: ITB's configuration sections and the stage each one feeds.
SECTION_STAGE: dict[str, Stage] = {
    "feature_sets": "features",
    "label_sets": "labels",
    "signal_sets": "signals",
}


@dataclass(frozen=True)
class BuiltinGenerator:
    """A generator implemented in itb_ext.

    :param name: ITB's generator name.
    :param stage: the pipeline stage it belongs to.
    :param function: ``module:function`` of the implementation.
    :param config_model: ``module:Class`` of its configuration.
    """

    name: str
    stage: Stage
    function: str
    config_model: str

    def load_function(self) -> Callable[[pd.DataFrame, Any], pd.DataFrame]:
        fn: Callable[[pd.DataFrame, Any], pd.DataFrame] = _resolve(self.function)
        return fn

    def load_config_model(self) -> type:
        model: type = _resolve(self.config_model)
        return model


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


BUILTIN_GENERATORS: dict[str, BuiltinGenerator] = {
    g.name: g
    for g in (
        BuiltinGenerator(
            "talib",
            "features",
            "itb_ext.features.talib:generate_talib",
            "itb_ext.config.features:TalibConfig",
        ),
        BuiltinGenerator(
            "itbstats",
            "features",
            "itb_ext.features.itbstats:generate_itbstats",
            "itb_ext.config.features:ItbstatsConfig",
        ),
        BuiltinGenerator(
            "itblib",
            "features",
            "itb_ext.features.itblib:generate_itblib",
            "itb_ext.config.features:ItblibConfig",
        ),
        BuiltinGenerator(
            "tsfresh",
            "features",
            "itb_ext.features.tsfresh:generate_tsfresh",
            "itb_ext.config.features:TsfreshConfig",
        ),
        BuiltinGenerator(
            "log_return",
            "features",
            "itb_ext.features.stationary:generate_log_return",
            "itb_ext.config.stationary:LogReturnConfig",
        ),
        BuiltinGenerator(
            "ma_distance",
            "features",
            "itb_ext.features.stationary:generate_ma_distance",
            "itb_ext.config.stationary:MovingAverageDistanceConfig",
        ),
        BuiltinGenerator(
            "atr",
            "features",
            "itb_ext.features.stationary:generate_atr",
            "itb_ext.config.stationary:AverageTrueRangeConfig",
        ),
        BuiltinGenerator(
            "realized_volatility",
            "features",
            "itb_ext.features.stationary:generate_realized_volatility",
            "itb_ext.config.stationary:RealizedVolatilityConfig",
        ),
        BuiltinGenerator(
            "range_position",
            "features",
            "itb_ext.features.stationary:generate_range_position",
            "itb_ext.config.stationary:RangePositionConfig",
        ),
        BuiltinGenerator(
            "volume_zscore",
            "features",
            "itb_ext.features.stationary:generate_volume_zscore",
            "itb_ext.config.stationary:VolumeZScoreConfig",
        ),
        BuiltinGenerator(
            "cyclic_time",
            "features",
            "itb_ext.features.stationary:generate_cyclic_time",
            "itb_ext.config.stationary:CyclicTimeConfig",
        ),
        BuiltinGenerator(
            "z_return",
            "features",
            "itb_ext.features.stationary:generate_z_return",
            "itb_ext.config.stationary:ZReturnConfig",
        ),
        BuiltinGenerator(
            "z_ma_distance",
            "features",
            "itb_ext.features.stationary:generate_z_ma_distance",
            "itb_ext.config.stationary:ZMovingAverageDistanceConfig",
        ),
        BuiltinGenerator(
            "z_max_distance",
            "features",
            "itb_ext.features.stationary:generate_z_max_distance",
            "itb_ext.config.stationary:ZMaxDistanceConfig",
        ),
        BuiltinGenerator(
            "highlow",
            "labels",
            "itb_ext.labels.highlow:generate_highlow",
            "itb_ext.config.labels:HighlowConfig",
        ),
        BuiltinGenerator(
            "highlow2",
            "labels",
            "itb_ext.labels.highlow2:generate_highlow2",
            "itb_ext.config.labels:Highlow2Config",
        ),
        BuiltinGenerator(
            "topbot2",
            "labels",
            "itb_ext.labels.topbot2:generate_topbot2",
            "itb_ext.config.labels:Topbot2Config",
        ),
        BuiltinGenerator(
            "smoothen",
            "signals",
            "itb_ext.signals.scores:generate_smoothen",
            "itb_ext.config.signals:SmoothenConfig",
        ),
        BuiltinGenerator(
            "combine",
            "signals",
            "itb_ext.signals.scores:generate_combine",
            "itb_ext.config.signals:CombineConfig",
        ),
        BuiltinGenerator(
            "trend_gate",
            "signals",
            "itb_ext.signals.gates:generate_trend_gate",
            "itb_ext.config.signals:TrendGateConfig",
        ),
        BuiltinGenerator(
            "threshold_rule",
            "signals",
            "itb_ext.signals.rules:generate_threshold_rule",
            "itb_ext.config.signals:ThresholdRuleConfig",
        ),
        BuiltinGenerator(
            "threshold_rule2",
            "signals",
            "itb_ext.signals.rules:generate_threshold_rule2",
            "itb_ext.config.signals:ThresholdRule2Config",
        ),
    )
}


def register_generator(generator: BuiltinGenerator) -> BuiltinGenerator:
    """Add a generator to :data:`BUILTIN_GENERATORS` (e.g. from a plug-in module).

    :raises ConfigError: the name is taken.
    """
    if generator.name in BUILTIN_GENERATORS:
        raise ConfigError(f"generators: '{generator.name}' is already registered")
    BUILTIN_GENERATORS[generator.name] = generator
    return generator


#: ITB generators that exist but are not provided, with the reason given to the user.
UNSUPPORTED_GENERATORS: dict[str, str] = {
    "topbot": "deprecated in ITB and fails on ordinary data; use 'topbot2'",
    "depth": "not provided (needs order-book depth columns that candle data lacks)",
}


def is_custom_generator_name(name: str) -> bool:
    """True for ITB's ``package.module:function`` form."""
    module, sep, attr = name.partition(":")
    return bool(sep and module and attr.isidentifier())


def load_custom_generator(name: str, where: str) -> Callable[..., Any]:
    """Import an ITB custom generator ``package.module:function``.

    :param name: the generator string from the config.
    :param where: the config location, for error messages.
    :raises ConfigError: when the module or function cannot be imported.
    """
    module, _, attr = name.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"{where}: cannot import module '{module}' ({exc})") from None
    fn = getattr(mod, attr, None)
    if not callable(fn):
        raise ConfigError(f"{where}: module '{module}' has no function '{attr}'")
    return fn


def builtin_generator(name: str, section: str, where: str) -> BuiltinGenerator:
    """Look up a built-in generator and check it belongs to ``section``.

    :raises ConfigError: for unknown, unsupported or misplaced generators.
    """
    gen = BUILTIN_GENERATORS.get(name)
    if gen is None:
        if name in UNSUPPORTED_GENERATORS:
            raise ConfigError(f"{where}: generator '{name}' is {UNSUPPORTED_GENERATORS[name]}")
        known = ", ".join(sorted(BUILTIN_GENERATORS))
        raise ConfigError(
            f"{where}: unknown generator '{name}' (known: {known}, or 'package.module:function')"
        )
    expected = SECTION_STAGE[section]
    if gen.stage != expected:
        raise ConfigError(f"{where}: generator '{name}' produces {gen.stage}, not {expected}")
    return gen
