"""What ITBStrategy sets from the ``itb`` section when it starts: its FreqTrade attributes, the
defaults of its hyperoptable parameters, whether a hyperopt result beside it is used, and the
start-up guards that refuse a config putting the account in danger."""

from __future__ import annotations

import atexit
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from itb_ext.config.thresholds import ThresholdsConfig
from itb_ext.errors import ConfigError
from itb_ext.risk.guards import api_server_refusal, dangers, refuse_dangers
from itb_ext.risk.policy import RiskPolicy
from itb_ext.risk.turnover import check_threshold_hysteresis
from itb_ext.strategy.hyperopt_binding import (
    StartDecision,
    bind_if_written_since,
    config_fingerprint,
    decide_at_start,
)
from itb_ext.strategy.setup import ITBSetup
from itb_ext.strategy.topology import topology_of

logger = logging.getLogger(__name__)

SpaceParams = dict[str, object]


def hyperopt_defaults(setup: ITBSetup) -> tuple[SpaceParams, SpaceParams]:
    """``buy_params`` and ``sell_params`` as the config's ``signal_sets`` state them (a hyperopt
    result bound to the config still wins)."""
    defaults = setup.default_overrides()
    buy: SpaceParams = {
        "buy_threshold": defaults.buy_threshold,
        "smoothing_window": defaults.smoothing_window,
        "combine_mode": defaults.combine_mode,
    }
    return buy, {"sell_threshold": defaults.sell_threshold}


def strategy_attributes(
    setup: ITBSetup, risk: RiskPolicy, config: Mapping[str, Any]
) -> dict[str, Any]:
    """FreqTrade strategy attributes that follow from the ``itb`` section and the config.

    Shorts are entered in futures mode (``trading_mode``); a consumer (see
    :mod:`itb_ext.strategy.topology`) analyses on every loop, since its producer's scores arrive
    a moment after each candle.

    :return: attribute name -> value; attributes not listed keep the class's values.
    """
    attributes: dict[str, Any] = {
        "startup_candle_count": max(setup.startup_candles(), risk.lookback()),
        "can_short": config.get("trading_mode") == "futures",
        "position_adjustment_enable": risk.cfg.twap.enabled,
    }
    if risk.cfg.twap.enabled:
        attributes["max_entry_position_adjustment"] = risk.cfg.twap.children - 1
    if topology_of(config).is_consumer:
        attributes["process_only_new_candles"] = False
    stop = risk.cfg.stop if risk.cfg.enabled else None
    attributes["use_custom_stoploss"] = stop is not None
    if stop is not None:
        # The static stop is the widest the ATR stop may be; it also guards a missing ATR.
        attributes["stoploss"] = -stop.max_distance
    return attributes


#: FreqTrade's run modes that trade (dry-run and live), as ``config["runmode"]`` spells them.
TRADING_RUN_MODES = ("dry_run", "live")


def check_start_up(setup: ITBSetup, config: Mapping[str, Any], class_stoploss: float) -> None:
    """Refuse to start with a dangerous setting the config does not acknowledge in
    ``itb.risk.i_accept`` (see :mod:`itb_ext.risk.guards`), and, when the bot trades, with a
    REST API whose credentials are blank.

    :param config: the FreqTrade config (``stoploss``, ``stake_amount``, ``max_open_trades``,
        ``api_server``, ``runmode``).
    :param class_stoploss: the strategy class's static stop (used without the ATR stop and
        without a ``stoploss`` in the config).
    :raises ConfigError: one line naming the key.
    """
    risk = setup.raw.risk
    ours = strategy_attributes(setup, RiskPolicy(risk), config).get("stoploss", class_stoploss)
    found = dangers(
        risk,
        stoploss=float(config.get("stoploss", ours)),
        stake_amount=config.get("stake_amount"),
        max_open_trades=config.get("max_open_trades"),
    )
    refuse_dangers(risk, found)
    if config.get("runmode") in TRADING_RUN_MODES:
        reason = api_server_refusal(config)
        if reason is not None:
            raise ConfigError(reason)


def walk_forward_source(cfg: ThresholdsConfig) -> str | None:
    """Where walk-forward levels come from, as the start-up log says it (None in fixed mode)."""
    if cfg.mode != "walk_forward":
        return None
    return (
        f"walk-forward: quantiles {cfg.buy_quantile}/{cfg.sell_quantile} of each training "
        "window's trade_score"
    )


def start_decision(
    setup: ITBSetup,
    config: Mapping[str, Any],
    file_params: Mapping[str, Any],
    params_file: Path | None,
) -> StartDecision:
    """Whether the hyperopt result beside the strategy is used, and the parameters in force.

    In a hyperopt run (``config["runmode"]``) a foreign result is ignored, not refused, and the
    run's own result is bound to this config when the run ends (FreqTrade writes it then).

    :param config: the FreqTrade config (its binding: identifier, pairs, timeframe).
    :param file_params: the result file's ``params`` (empty without a file).
    :param params_file: the result file's path (None: the strategy has no file).
    :raises ConfigError: a result of another configuration, outside hyperopt, not accepted.
    """
    buy, sell = hyperopt_defaults(setup)
    hyperopt_run = config.get("runmode") == "hyperopt"
    decision = decide_at_start(
        {**buy, **sell},
        file_params,
        params_file,
        config_fingerprint(config),
        setup.raw.accept_hyperopt_from_other_config,
        hyperopt_run,
        walk_forward_source(setup.raw.thresholds),
    )
    if setup.raw.thresholds.mode != "walk_forward":
        # a long-only rule needs its entry level above its exit level, wherever they came from
        check_threshold_hysteresis(
            _level(decision.values.get("buy_threshold")),
            _level(decision.values.get("sell_threshold")),
            long_only=config.get("trading_mode", "spot") != "futures",
            keys=("buy_threshold", "sell_threshold"),
        )
    if hyperopt_run and params_file is not None and not config.get("disableparamexport"):
        atexit.register(bind_if_written_since, params_file, config_fingerprint(config), time.time())
    return decision


def params_in_force(
    setup: ITBSetup,
    config: Mapping[str, Any],
    found: dict[str, Any],
    strategy_file: str | None,
) -> dict[str, Any]:
    """What FreqTrade's ``load_params_from_file`` returns: the hyperopt result beside the
    strategy (``found``, as FreqTrade read it) if this config produced it, else nothing; logs the
    values in force and where they come from.

    :raises ConfigError: see :func:`start_decision`.
    """
    params_file = Path(strategy_file).with_suffix(".json") if strategy_file else None
    decision = start_decision(setup, config, found.get("params", {}), params_file)
    for warning in decision.warnings:
        logger.warning(warning)
    logger.info(decision.summary)
    return found if decision.use_file else {}


def _level(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
