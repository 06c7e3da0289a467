"""A hyperopt result belongs to the configuration it was searched on.

FreqTrade keeps the best parameters of a hyperopt run in ``<Strategy>.json`` beside the
strategy, and every bot using that strategy file loads them. The binding file next to it
(``<Strategy>.itb-binding.json``) records which configuration (FreqAI identifier, pairs,
timeframe) produced exactly that file (its SHA-256); a bot of another configuration refuses it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itb_ext.data.files import write_atomically
from itb_ext.errors import ConfigError

ALLOW_KEY = "itb.accept_hyperopt_from_other_config"


@dataclass(frozen=True)
class Fingerprint:
    """What a hyperopt result is bound to.

    :param identifier: ``freqai.identifier`` (the models the parameters were searched on).
    :param pairs: the whitelist, sorted.
    :param timeframe: the strategy timeframe.
    """

    identifier: str
    pairs: tuple[str, ...]
    timeframe: str

    def describe(self) -> str:
        return f"identifier '{self.identifier}', pairs {', '.join(self.pairs)}, {self.timeframe}"


def config_fingerprint(config: Mapping[str, Any]) -> Fingerprint:
    """The binding of a FreqTrade config."""
    return Fingerprint(
        identifier=str(config.get("freqai", {}).get("identifier", "")),
        pairs=tuple(sorted(config.get("exchange", {}).get("pair_whitelist", []))),
        timeframe=str(config.get("timeframe", "")),
    )


def binding_path(params_file: Path) -> Path:
    """``ITBStrategy.json`` -> ``ITBStrategy.itb-binding.json``."""
    return params_file.with_name(f"{params_file.stem}.itb-binding.json")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_binding(params_file: Path, fingerprint: Fingerprint) -> Path:
    """Bind the current content of ``params_file`` to ``fingerprint`` (atomically)."""
    target = binding_path(params_file)
    record = {
        "params_sha256": _digest(params_file),
        "identifier": fingerprint.identifier,
        "pairs": list(fingerprint.pairs),
        "timeframe": fingerprint.timeframe,
    }
    write_atomically(target, json.dumps(record, indent=1))
    return target


def bind_if_written_since(params_file: Path, fingerprint: Fingerprint, since: float) -> bool:
    """After a hyperopt run: bind the parameter file if this run wrote it (modified at or after
    ``since``, a ``time.time()``); a file left from an earlier run stays as it was."""
    if params_file.is_file() and params_file.stat().st_mtime >= since:
        write_binding(params_file, fingerprint)
        return True
    return False


def bound_to(params_file: Path) -> Fingerprint | None:
    """The configuration ``params_file`` is bound to, or None when it is unbound or was
    changed after it was bound."""
    target = binding_path(params_file)
    if not target.is_file():
        return None
    try:
        record = json.loads(target.read_text())
        if record.get("params_sha256") != _digest(params_file):
            return None
        return Fingerprint(
            identifier=str(record["identifier"]),
            pairs=tuple(record["pairs"]),
            timeframe=str(record["timeframe"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def check_hyperopt_result(params_file: Path, fingerprint: Fingerprint, allow_other: bool) -> bool:
    """Whether the bot may use the hyperopt result in ``params_file``.

    :return: True when it was produced by this configuration, or when ``allow_other`` accepts
        one from elsewhere.
    :raises ConfigError: one line naming the file, its origin and the key that would accept it.
    """
    origin = bound_to(params_file)
    if origin == fingerprint:
        return True
    if allow_other:
        return True
    where = (
        f"was searched on {origin.describe()}"
        if origin is not None
        else "has no binding to the configuration it was searched on (or was edited since)"
    )
    raise ConfigError(
        f"hyperopt result {params_file} {where}, not on this config ({fingerprint.describe()}); "
        f"delete it, rerun hyperopt with this config, or set {ALLOW_KEY}: true"
    )


def describe_parameters(values: Mapping[str, object], sources: Mapping[str, str]) -> str:
    """One log line: each parameter's value and where it comes from."""
    parts = [f"{name}={values[name]} ({sources[name]})" for name in values]
    return "ITB parameters in force: " + ", ".join(parts)


@dataclass(frozen=True)
class StartDecision:
    """What a starting bot does with the hyperopt result beside its strategy.

    :param use_file: apply the file's parameters.
    :param values: each signal parameter's value in force.
    :param sources: where each value comes from.
    :param warnings: lines to log as warnings (a result ignored, and why).
    """

    use_file: bool
    values: dict[str, object]
    sources: dict[str, str]
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """The log line of the parameters in force (see :func:`describe_parameters`)."""
        return describe_parameters(self.values, self.sources)


def decide_at_start(
    defaults: Mapping[str, object],
    file_params: Mapping[str, Any],
    params_file: Path | None,
    fingerprint: Fingerprint,
    allow_other: bool,
    hyperopt_run: bool,
    walk_forward: str | None,
) -> StartDecision:
    """Which signal parameters a bot starts with, and from where.

    :param defaults: the parameters as the config's ``signal_sets`` state them.
    :param file_params: the hyperopt file's ``params`` (spaces -> name -> value); empty without
        a file.
    :param params_file: the hyperopt file's path.
    :param fingerprint: this config's binding.
    :param allow_other: ``itb.accept_hyperopt_from_other_config``.
    :param hyperopt_run: this start is a hyperopt run (a foreign result is then ignored, not
        refused: the run replaces it).
    :param walk_forward: description of the walk-forward levels, or None in fixed mode.
    :raises ConfigError: a result from another configuration, outside hyperopt, not accepted.
    """
    values = dict(defaults)
    sources = dict.fromkeys(values, "config signal_sets")
    warnings: list[str] = []
    use_file = bool(file_params) and params_file is not None
    if use_file and params_file is not None:
        try:
            check_hyperopt_result(params_file, fingerprint, allow_other)
        except ConfigError as exc:
            if not hyperopt_run:
                raise
            warnings.append(f"{exc} (ignored during this hyperopt run)")
            use_file = False
    if use_file and walk_forward is not None:
        warnings.append(
            f"hyperopt result {params_file} ignored: itb.thresholds.mode is walk_forward"
        )
        use_file = False
    if use_file and params_file is not None:
        for space in file_params.values():
            if not isinstance(space, Mapping):
                continue
            for name, value in space.items():
                if name in values:
                    values[name] = value
                    sources[name] = f"hyperopt file {params_file}"
    if walk_forward is not None:
        for name in ("buy_threshold", "sell_threshold"):
            values[name] = "per window"
            sources[name] = walk_forward
    return StartDecision(use_file, values, sources, tuple(warnings))
