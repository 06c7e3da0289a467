"""ITB's generator lists (``feature_sets``, ``label_sets``, ``signal_sets``): parsed and run."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from itb_ext.config.base import FrozenModel, validate
from itb_ext.config.generators import GeneratorConfig, LabelConfig, PastWindowConfig
from itb_ext.errors import ConfigError, DataError
from itb_ext.pipeline.frames import require_columns
from itb_ext.pipeline.registry import (
    SECTION_STAGE,
    builtin_generator,
    is_custom_generator_name,
    load_custom_generator,
)

Progress = Callable[[str], None]


class GeneratorEntry(FrozenModel):
    """One entry of ``feature_sets``/``label_sets``/``signal_sets`` in ITB's own format."""

    generator: str
    column_prefix: str = ""
    feature_prefix: str = ""
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratorStep:
    """A validated generator entry, ready to run.

    :param where: location in the config, e.g. ``feature_sets[3] (talib)``.
    :param generator: ITB's generator name or ``package.module:function``.
    :param column_prefix: only columns ``<prefix>_*`` are passed, with the prefix stripped.
    :param feature_prefix: outputs are renamed ``<prefix>_<name>``.
    :param config: typed configuration following :class:`GeneratorConfig` (built-in) or the raw
        dict (custom generator).
    :param function: the callable that implements the generator.
    :param document: the whole ITB config, handed to custom generators as ITB does.
    """

    where: str
    generator: str
    column_prefix: str
    feature_prefix: str
    config: GeneratorConfig | dict[str, Any]
    function: Callable[..., Any]
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_custom(self) -> bool:
        return not isinstance(self.config, GeneratorConfig)

    def output_columns(self) -> tuple[str, ...] | None:
        """Names of the columns this step adds (None for custom generators: known after a run)."""
        if not isinstance(self.config, GeneratorConfig):
            return None
        return tuple(self._prefixed(c) for c in self.config.output_columns())

    def input_columns(self) -> tuple[str, ...] | None:
        """Names of the frame columns this step reads (None for custom generators)."""
        if not isinstance(self.config, GeneratorConfig):
            return None
        pre = f"{self.column_prefix}_" if self.column_prefix else ""
        return tuple(pre + c for c in self.config.input_columns())

    def lookback(self) -> int | None:
        """Rows of history a feature or signal value needs (None: custom or a label)."""
        return self.config.lookback() if isinstance(self.config, PastWindowConfig) else None

    def horizon(self) -> int | None:
        """Rows a label looks ahead (None: unbounded, or not known for a custom generator)."""
        return self.config.horizon() if isinstance(self.config, LabelConfig) else None

    def _prefixed(self, name: str) -> str:
        return f"{self.feature_prefix}_{name}" if self.feature_prefix else name

    def run(self, df: pd.DataFrame) -> pd.DataFrame:
        """Compute this step's new columns (prefixed) over ``df`` without modifying it."""
        view = _select_prefixed(df, self.column_prefix)
        out = self._run_custom(view) if self.is_custom else self.function(view, self.config)
        if self.feature_prefix:
            out = out.rename(columns=self._prefixed)
        return out

    def _run_custom(self, view: pd.DataFrame) -> pd.DataFrame:
        try:
            result = self.function(
                view.copy(), copy.deepcopy(self.config), copy.deepcopy(dict(self.document)), None
            )
        except Exception as exc:  # a user's own code: report where it failed, in one line
            name = type(exc).__name__
            raise DataError(f"{self.where}: custom generator raised {name}: {exc}") from exc
        if not (isinstance(result, tuple) and len(result) == 2):
            raise DataError(f"{self.where}: custom generator must return (frame, [column names])")
        frame, names = result
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise DataError(f"{self.where}: custom generator did not return column '{missing[0]}'")
        out = frame.loc[:, list(names)]
        out.index = view.index
        return out


def _select_prefixed(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
    if not prefix:
        return df
    head = f"{prefix}_"
    cols = [c for c in df.columns if isinstance(c, str) and c.startswith(head)]
    return df.loc[:, cols].rename(columns=lambda c: c[len(head) :])


def parse_section(
    raw: Any,
    section: str,
    document: Mapping[str, Any] | None = None,
    location: str | None = None,
) -> tuple[GeneratorStep, ...]:
    """Validate one generator list of an ITB config.

    :param raw: the list from the config (``None`` means empty).
    :param section: ``feature_sets``, ``label_sets`` or ``signal_sets``.
    :param document: the whole config, passed on to custom generators.
    :param location: where the list sits in the user's file (default: ``section``), e.g.
        ``itb.feature_sets``.
    :raises ConfigError: naming the entry and the key at fault.
    """
    location = location or section
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        got = type(raw).__name__
        raise ConfigError(f"{location}: expected a list of generator entries, got {got}")
    steps = []
    for i, item in enumerate(raw):
        where = f"{location}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: expected an object with 'generator' and 'config'")
        name = item.get("generator")
        if isinstance(name, str):
            where = f"{where} ({name})"
        entry = validate(GeneratorEntry, _thaw(item), where)
        steps.append(_make_step(entry, section, where, document or {}))
    return tuple(steps)


def _thaw(item: Mapping[str, Any]) -> dict[str, Any]:
    # ``config`` stays a plain dict: it is validated by the generator's own model below.
    return {k: dict(v) if k == "config" and isinstance(v, Mapping) else v for k, v in item.items()}


def _make_step(
    entry: GeneratorEntry, section: str, where: str, document: Mapping[str, Any]
) -> GeneratorStep:
    if is_custom_generator_name(entry.generator):
        fn = load_custom_generator(entry.generator, where)
        config: Any = copy.deepcopy(entry.config)
    else:
        gen = builtin_generator(entry.generator, section, where)
        config = validate(gen.load_config_model(), entry.config, f"{where}: config")
        fn = gen.load_function()
    return GeneratorStep(
        where=where,
        generator=entry.generator,
        column_prefix=entry.column_prefix,
        feature_prefix=entry.feature_prefix,
        config=config,
        function=fn,
        document=document,
    )


def run_steps(
    df: pd.DataFrame, steps: Sequence[GeneratorStep], progress: Progress | None = None
) -> pd.DataFrame:
    """Run generator steps in order, each seeing the columns of the previous ones.

    A later step's column replaces an earlier column of the same name (ITB's rule). After the steps,
    ``±inf`` in the new columns becomes NaN, as ITB's scripts do after each stage.

    :param df: the input frame (not modified).
    :param steps: validated steps, usually one config section.
    :param progress: called with each step's location before it runs.
    :return: ``df`` plus every generated column.
    """
    out = df
    added: list[str] = []
    for step in steps:
        if progress is not None:
            progress(step.where)
        _check_inputs(out, step)
        new = step.run(out)
        kept = out.drop(columns=[c for c in new.columns if c in out.columns])
        out = pd.concat([kept, new], axis=1)
        added.extend(c for c in new.columns if c not in added)
    return replace_infinities(out, added)


def _check_inputs(df: pd.DataFrame, step: GeneratorStep) -> None:
    wanted = step.input_columns()
    if wanted is not None:
        require_columns(df, wanted, step.where)


def replace_infinities(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``df`` with ``±inf`` replaced by NaN in the given float columns."""
    fixes = {}
    for col in columns:
        values = df[col]
        if values.dtype.kind == "f":
            arr = values.to_numpy()
            if np.isinf(arr).any():
                fixes[col] = np.where(np.isinf(arr), np.nan, arr)
    if not fixes:
        return df
    return df.assign(**fixes)


@dataclass(frozen=True)
class ITBPipeline:
    """The three generator sections of an ITB config, validated.

    :param feature_sets: steps that compute features (current and past rows only).
    :param label_sets: steps that compute labels (future rows, training only).
    :param signal_sets: steps that turn scores into ``trade_score`` and signals.
    """

    feature_sets: tuple[GeneratorStep, ...] = ()
    label_sets: tuple[GeneratorStep, ...] = ()
    signal_sets: tuple[GeneratorStep, ...] = ()

    @classmethod
    def from_config(cls, document: Mapping[str, Any], location: str = "") -> ITBPipeline:
        """Parse the generator sections of an ITB config document (other keys are ignored here).

        :param document: the ITB config (or the ``itb`` section of a FreqTrade config).
        :param location: where ``document`` sits in the user's file (``itb``), for messages.
        """
        if not isinstance(document, Mapping):
            raise ConfigError("config: expected a JSON object at the top level")
        prefix = f"{location}." if location else ""
        sections = {
            s: parse_section(document.get(s), s, document, f"{prefix}{s}") for s in SECTION_STAGE
        }
        return cls(**sections)

    def stages(
        self, only: Sequence[str] | None = None
    ) -> list[tuple[str, tuple[GeneratorStep, ...]]]:
        """The sections to run in pipeline order, limited to ``only`` stage names if given."""
        order = [
            ("features", self.feature_sets),
            ("labels", self.label_sets),
            ("signals", self.signal_sets),
        ]
        return [(name, steps) for name, steps in order if only is None or name in only]
