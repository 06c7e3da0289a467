"""The contract every built-in generator's configuration follows.

A generator reads the columns its config names, writes the columns its config names, and needs a
known amount of history (features, signals) or future (labels). The pipeline, the FreqAI setup and
the look-ahead checks rely on these methods only, never on a generator's own keys.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class GeneratorConfig(Protocol):
    """Columns a generator reads and writes."""

    def input_columns(self) -> tuple[str, ...]:
        """The frame columns the generator reads."""
        ...

    def output_columns(self) -> tuple[str, ...]:
        """The columns it adds, in order."""
        ...


@runtime_checkable
class PastWindowConfig(GeneratorConfig, Protocol):
    """A feature or signal generator: each row is a function of that row and earlier ones."""

    def lookback(self) -> int:
        """Rows of history (the row itself included) a value needs to be complete."""
        ...


@runtime_checkable
class LabelConfig(GeneratorConfig, Protocol):
    """A label generator: each row is a function of later rows (training only)."""

    def horizon(self) -> int | None:
        """How many rows ahead a label reads (None: unbounded, e.g. until a later extremum)."""
        ...
