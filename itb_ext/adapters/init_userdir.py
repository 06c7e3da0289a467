"""``itb-ext init``: make a FreqTrade user-data folder ready for ITBStrategy.

The counterpart of ``freqtrade create-userdir``. It installs the strategy, the FreqAI model and
the presets into the folder (links to the installed package's files by default, so an upgrade of
the package upgrades them; copies with ``copy``), and writes a starter config for the user's
exchange and pairs that includes a preset through ``add_config_files``.

Running it twice changes nothing; a file that differs from what would be installed is kept unless
``force`` is given, so a user's edits are never lost silently.

FreqTrade is imported only to check the exchange name against ccxt's list.
"""

from __future__ import annotations

import difflib
import filecmp
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from itb_ext.adapters.shipped import shipped_files, shipped_root
from itb_ext.data.files import write_atomically
from itb_ext.errors import ConfigError

CONFIG_NAME = "config-itb.json"
"""The starter config, written into the user-data folder beside the presets it includes."""

DEFAULT_EXCHANGE = "bitfinex"
DEFAULT_PAIR = "BTC/USD"
"""The market of the embedded candles and static markets: the starter config works offline."""

DRY_RUN_WALLET = 1000
STAKE_FRACTION = 0.10
"""The starter config stakes a tenth of the wallet per trade (also ``itb.risk``'s default)."""

_PAIR = re.compile(r"^[A-Za-z0-9.\-]+/([A-Za-z0-9.\-]+)(?::([A-Za-z0-9.\-]+))?$")

Action = Literal["linked", "copied", "replaced", "unchanged", "kept", "wrote"]


@dataclass(frozen=True)
class TimeframeProfile:
    """The FreqAI schedule and the preset the starter config uses on one timeframe.

    The numbers are those of the shipped configs of that timeframe (``config.demo.json`` for 1h,
    ``config.5m.json``, ``config.1m.json``).

    :param preset: the preset file included through ``add_config_files``.
    :param train_period_days: FreqAI's training window.
    :param backtest_period_days: how often a backtest retrains.
    :param live_retrain_hours: how often a running bot retrains.
    :param expiration_hours: age after which a running bot stops trusting a model.
    :param label_period_candles: the preset's label horizon, in candles.
    """

    preset: str
    train_period_days: int
    backtest_period_days: int
    live_retrain_hours: int
    expiration_hours: int
    label_period_candles: int


PROFILES: dict[str, TimeframeProfile] = {
    "1h": TimeframeProfile("itb-stationary-1h.json", 180, 30, 24, 48, 24),
    "5m": TimeframeProfile("itb-sample-5m.json", 30, 7, 6, 12, 144),
    "1m": TimeframeProfile("itb-sample-1m.json", 14, 3, 2, 4, 120),
}


@dataclass(frozen=True)
class InitRequest:
    """What ``itb-ext init`` is asked to do.

    :param userdir: an existing FreqTrade user-data folder (``freqtrade create-userdir``).
    :param exchange: ccxt exchange id of the starter config.
    :param pairs: the pairs it trades; they share one quote currency (the stake currency).
    :param timeframe: one of :data:`PROFILES`.
    :param copy: copy the shipped files instead of linking to them.
    :param force: replace files that differ from what would be installed.
    """

    userdir: Path
    exchange: str = DEFAULT_EXCHANGE
    pairs: tuple[str, ...] = (DEFAULT_PAIR,)
    timeframe: str = "1h"
    copy: bool = False
    force: bool = False


@dataclass(frozen=True)
class Step:
    """What happened to one file of the user-data folder.

    :param path: the file, relative to the user-data folder.
    :param action: ``linked``/``copied``/``wrote`` (new), ``replaced`` (differed, ``force``),
        ``unchanged``, or ``kept`` (differs and was left alone).
    :param note: why, for ``kept``; the link target for ``linked``.
    """

    path: Path
    action: Action
    note: str = ""


@dataclass(frozen=True)
class InitResult:
    """The outcome of :func:`init_userdir`.

    :param request: the request it carried out.
    :param steps: one entry per installed file, the starter config last.
    :param config: the starter config's path.
    """

    request: InitRequest
    steps: tuple[Step, ...]
    config: Path

    @property
    def changed(self) -> bool:
        """Whether any file was written."""
        return any(s.action in ("linked", "copied", "replaced", "wrote") for s in self.steps)


def init_userdir(request: InitRequest) -> InitResult:
    """Install the shipped files and the starter config into ``request.userdir``.

    :param request: the folder and the market.
    :return: what happened to each file.
    :raises ConfigError: the folder is missing or not a FreqTrade user-data folder, the exchange
        is unknown, a pair is malformed, or the installation lacks the shipped files.
    """
    userdir = _check_userdir(request.userdir)
    check_exchange(request.exchange)
    stake_currency, futures = _check_pairs(request.pairs)
    profile = _profile(request.timeframe)
    root = shipped_root()
    if root is None:
        raise ConfigError(
            "this installation of itb-freqai lacks the strategy, model and presets "
            "(reinstall it from a wheel or a source checkout)"
        )
    steps = [
        _install(root / relative, userdir / relative, relative, request)
        for relative in shipped_files(root)
    ]
    config = starter_config(request, stake_currency, futures, profile)
    text = json.dumps(config, indent=2) + "\n"
    steps.append(_write_config(userdir / CONFIG_NAME, text, request.force))
    return InitResult(request, tuple(steps), userdir / CONFIG_NAME)


def _check_userdir(userdir: Path) -> Path:
    if not userdir.is_dir():
        raise ConfigError(
            f"--userdir {userdir}: no such folder; make it with: "
            f"freqtrade create-userdir --userdir {userdir}"
        )
    if not (userdir / "strategies").is_dir():
        raise ConfigError(
            f"--userdir {userdir}: not a FreqTrade user-data folder (no strategies/ folder); "
            f"make one with: freqtrade create-userdir --userdir {userdir}"
        )
    return userdir


def check_exchange(name: str) -> None:
    """Refuse an exchange that ccxt does not know or that FreqTrade cannot trade on.

    :param name: the ccxt exchange id, as in FreqTrade's ``exchange.name``.
    :raises ConfigError: naming the exchange (and the closest known names).
    """
    from freqtrade.exchange.exchange_utils import ccxt_exchanges, validate_exchange

    known = ccxt_exchanges()
    if name not in known:
        close = difflib.get_close_matches(name.lower(), known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        hint = hint or " (see: freqtrade list-exchanges)"
        raise ConfigError(f"unknown exchange '{name}'{hint}")
    usable, reason, _, _ = validate_exchange(name)
    if not usable:
        raise ConfigError(f"FreqTrade cannot trade on '{name}': {reason}")


def _check_pairs(pairs: Sequence[str]) -> tuple[str, bool]:
    """The pairs' common quote currency, and whether they are futures (``BASE/QUOTE:SETTLE``)."""
    quotes: set[str] = set()
    kinds: set[bool] = set()
    for pair in pairs:
        match = _PAIR.match(pair)
        if match is None:
            raise ConfigError(
                f"pair '{pair}' is not BASE/QUOTE (spot, e.g. BTC/USDT) or "
                "BASE/QUOTE:SETTLE (futures, e.g. BTC/USDT:USDT)"
            )
        quotes.add(match.group(1))
        kinds.add(match.group(2) is not None)
    if len(quotes) > 1:
        raise ConfigError(
            f"the pairs {', '.join(pairs)} have different quote currencies "
            f"({', '.join(sorted(quotes))}); a bot stakes one currency"
        )
    if len(kinds) > 1:
        raise ConfigError("spot and futures pairs cannot be mixed in one bot")
    return quotes.pop(), kinds.pop()


def _profile(timeframe: str) -> TimeframeProfile:
    if timeframe not in PROFILES:
        raise ConfigError(f"no preset for timeframe '{timeframe}' (use {', '.join(PROFILES)})")
    return PROFILES[timeframe]


def starter_config(
    request: InitRequest, stake_currency: str, futures: bool, profile: TimeframeProfile
) -> dict[str, Any]:
    """A FreqTrade config for ITBStrategy on the request's market, in dry-run.

    The ``itb`` section comes from the preset through ``add_config_files``, which FreqTrade
    resolves relative to the config's own folder. Each trade stakes a tenth of the wallet:
    ``itb.risk`` sizes it so, and ``stake_amount`` (used only with ``itb.risk.enabled: false``)
    is the same tenth of the dry-run wallet, never ``"unlimited"``.

    :param request: the exchange, pairs and timeframe.
    :param stake_currency: the pairs' quote currency.
    :param futures: whether the pairs are futures.
    :param profile: the timeframe's FreqAI schedule and preset.
    :return: the config as a JSON-ready dict.
    """
    identifier = "itb-" + profile.preset.removeprefix("itb-").removesuffix(".json")
    return {
        "$schema": "https://schema.freqtrade.io/schema.json",
        "add_config_files": [profile.preset],
        "bot_name": identifier,
        "strategy": "ITBStrategy",
        "freqaimodel": "ITBClassifier",
        "max_open_trades": len(request.pairs),
        "stake_currency": stake_currency,
        "stake_amount": round(DRY_RUN_WALLET * STAKE_FRACTION),
        "tradable_balance_ratio": 0.99,
        "enable_protections": True,
        "dry_run": True,
        "dry_run_wallet": DRY_RUN_WALLET,
        "trading_mode": "futures" if futures else "spot",
        "margin_mode": "isolated" if futures else "",
        "timeframe": request.timeframe,
        "unfilledtimeout": {"entry": 10, "exit": 10, "exit_timeout_count": 0, "unit": "minutes"},
        "entry_pricing": {"price_side": "same", "use_order_book": False, "price_last_balance": 0},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "exchange": {
            "name": request.exchange,
            "key": "",
            "secret": "",
            "pair_whitelist": list(request.pairs),
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "dataformat_ohlcv": "feather",
        "freqai": {
            "enabled": True,
            "identifier": identifier,
            "purge_old_models": 2,
            "save_backtest_models": True,
            "train_period_days": profile.train_period_days,
            "backtest_period_days": profile.backtest_period_days,
            "live_retrain_hours": profile.live_retrain_hours,
            "expiration_hours": profile.expiration_hours,
            "fit_live_predictions_candles": 0,
            "data_kitchen_thread_count": 2,
            "feature_parameters": {
                "include_timeframes": [request.timeframe],
                "include_corr_pairlist": [],
                "label_period_candles": profile.label_period_candles,
                "include_shifted_candles": 0,
                "indicator_periods_candles": [profile.label_period_candles],
                "DI_threshold": 0,
                "weight_factor": 0,
                "principal_component_analysis": False,
                "use_SVM_to_remove_outliers": False,
            },
            # ITB trains on the whole window, in time order
            "data_split_parameters": {"test_size": 0, "shuffle": False},
            "model_training_parameters": {},
        },
        "telegram": {"enabled": False, "token": "", "chat_id": ""},
        "internals": {"process_throttle_secs": 5},
    }


def _install(source: Path, target: Path, relative: Path, request: InitRequest) -> Step:
    """Link or copy one shipped file, unless the target already is it or differs from it."""
    if target.is_symlink() or target.exists():
        if _same_file(target, source) or _is_installed(target, source, request.copy):
            return Step(relative, "unchanged")
        if not request.force:
            return Step(relative, "kept", _difference(target, source, request.copy))
        target.unlink()
        _put(source, target, request.copy)
        return Step(relative, "replaced")
    target.parent.mkdir(parents=True, exist_ok=True)
    _put(source, target, request.copy)
    return Step(relative, "copied") if request.copy else Step(relative, "linked", str(source))


def _same_file(target: Path, source: Path) -> bool:
    # `itb-ext init` on the checkout's own user_data: the target is the source itself
    return target.exists() and not target.is_symlink() and os.path.samefile(target, source)


def _is_installed(target: Path, source: Path, copy: bool) -> bool:
    if copy:
        return not target.is_symlink() and filecmp.cmp(target, source, shallow=False)
    return target.is_symlink() and Path(os.readlink(target)) == source


def _difference(target: Path, source: Path, copy: bool) -> str:
    if target.is_symlink() and not target.exists():
        return "a broken link; --force replaces it"
    if target.is_symlink() and not copy:
        return f"links to {os.readlink(target)}, not {source}; --force replaces it"
    if target.is_symlink():
        return "a link, not a copy; --force replaces it with a copy"
    if not copy and filecmp.cmp(target, source, shallow=False):
        return "a copy of the shipped file; --force replaces it with a link"
    return "differs from the shipped file; --force replaces it"


def _put(source: Path, target: Path, copy: bool) -> None:
    if copy:
        shutil.copyfile(source, target)
    else:
        target.symlink_to(source)


def _write_config(path: Path, text: str, force: bool) -> Step:
    relative = Path(path.name)
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return Step(relative, "unchanged")
        if not force:
            return Step(relative, "kept", "differs from the starter config; --force replaces it")
        write_atomically(path, text)
        return Step(relative, "replaced")
    write_atomically(path, text)
    return Step(relative, "wrote")


def report_lines(result: InitResult, today: date | None = None) -> list[str]:
    """What ``itb-ext init`` prints: one line per file, then the next commands.

    :param result: the outcome of :func:`init_userdir`.
    :param today: the date the suggested timeranges end at (default: today, UTC).
    :return: the lines, without newlines.
    """
    request = result.request
    lines = [f"{request.userdir}:"]
    for step in result.steps:
        note = f" ({step.note})" if step.note else ""
        arrow = f" -> {step.note}" if step.action == "linked" else note
        lines.append(f"  {step.action:<9} {step.path}{arrow}")
    kept = sum(1 for s in result.steps if s.action == "kept")
    if kept:
        lines.append(f"{kept} file(s) kept as they were (see above)")
    elif not result.changed:
        lines.append("nothing changed: the folder already holds these files and this config")
    lines.append("")
    lines.extend(next_commands(result, today or datetime.now(UTC).date()))
    return lines


def next_commands(result: InitResult, today: date) -> list[str]:
    """The commands that take the new set-up from candles to a dry-run.

    :param result: the outcome of :func:`init_userdir`.
    :param today: the date the suggested timeranges end at.
    :return: commented shell lines.
    """
    request = result.request
    profile = PROFILES[request.timeframe]
    backtest_start = today - timedelta(days=90)
    download_start = backtest_start - timedelta(days=profile.train_period_days + 30)
    common = f"--config {result.config} --userdir {request.userdir}"
    backtest = f"{common} --timerange {backtest_start:%Y%m%d}-{today:%Y%m%d}"
    datadir = request.userdir / "data" / request.exchange
    trading_mode = " --trading-mode futures" if ":" in request.pairs[0] else ""
    offline = f"  # the same without network: candles already in {datadir}, static markets"
    if not _has_static_markets(request.exchange):
        offline += f" (none ship for {request.exchange}: see itb-ext freqtrade --help)"
    return [
        "next:",
        f"  # candles (online); FreqAI trains on {profile.train_period_days} days before the "
        "first backtested candle",
        f"  freqtrade download-data {common} --timerange {download_start:%Y%m%d}- "
        f"--timeframes {request.timeframe}{trading_mode}",
        "  # walk-forward backtest: every traded candle predicted by a model that never saw it",
        f"  freqtrade backtesting {backtest}",
        offline,
        f"  itb-ext freqtrade backtesting {backtest}",
        "  # paper trading (online)",
        f"  freqtrade trade {common} --dry-run",
    ]


def _has_static_markets(exchange: str) -> bool:
    from itb_ext.adapters.offline import markets_file

    try:
        markets_file(exchange)
    except ConfigError:
        return False
    return True
