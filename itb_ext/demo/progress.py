"""Progress of a FreqAI walk-forward backtest, read from FreqTrade's log as the child process
writes it: windows trained (or read back) per pair, then FreqTrade's own backtest.

:class:`BacktestProgress` turns log lines into state (pure); :class:`ProgressDisplay` shows it,
as rich progress bars on a terminal or as one line per stage (``quiet``: CI logs, pipes).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

#: FreqAI's line before each window: ``Training BTC/USD, 1/3 pairs from ... to ..., 2/13 trains``
_WINDOW = re.compile(
    r"Training (?P<pair>\S+), (?P<pair_no>\d+)/(?P<pairs>\d+) pairs from .*?, "
    r"(?P<window>\d+)/(?P<windows>\d+) trains"
)
_TRAINED = re.compile(r"Done training (?P<pair>\S+) \((?P<seconds>[\d.]+) secs\)")
_REUSED = "Found backtesting prediction file"
_SIMULATING = "Backtesting with data from"

TRAINING = "training and predicting"
BACKTESTING = "FreqTrade backtest"


@dataclass
class PairWindows:
    """One pair's walk-forward windows: how many, how many done, how many read back."""

    total: int
    done: int = 0
    reused: int = 0
    seconds: float = 0.0


@dataclass
class BacktestProgress:
    """What the log has told so far.

    :param pairs: per pair (in the order FreqAI takes them), its windows.
    :param stage: :data:`TRAINING` until FreqTrade's own backtest starts, then
        :data:`BACKTESTING`.
    """

    pairs: dict[str, PairWindows] = field(default_factory=dict)
    stage: str = TRAINING
    _current: str | None = None

    def read(self, line: str) -> bool:
        """Take one log line; True when it changed anything."""
        if found := _WINDOW.search(line):
            pair = found["pair"]
            windows = self.pairs.setdefault(pair, PairWindows(int(found["windows"])))
            windows.done = int(found["window"]) - 1
            self._current = pair
            return True
        if found := _TRAINED.search(line):
            trained = self.pairs.get(found["pair"])
            if trained is not None:
                trained.done += 1
                trained.seconds += float(found["seconds"])
            return trained is not None
        if _REUSED in line and self._current is not None:
            windows = self.pairs[self._current]
            windows.done += 1
            windows.reused += 1
            return True
        if _SIMULATING in line:
            for windows in self.pairs.values():
                windows.done = windows.total  # a window without candles is skipped, not logged
            self.stage = BACKTESTING
            return True
        return False

    @property
    def windows(self) -> int:
        """Windows of every pair."""
        return sum(w.total for w in self.pairs.values())

    @property
    def reused(self) -> int:
        """Windows whose stored predictions were read back instead of trained."""
        return sum(w.reused for w in self.pairs.values())

    @property
    def training_seconds(self) -> float:
        """Seconds FreqAI reported for its trainings."""
        return sum(w.seconds for w in self.pairs.values())


def new_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """The complete lines appended to ``path`` since ``offset`` (bytes), and the new offset; a
    line still being written waits for the next call."""
    if not path.is_file():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        chunk = handle.read()
    end = chunk.rfind(b"\n") + 1
    text = chunk[:end].decode("utf-8", errors="replace")
    return text.splitlines(), offset + end


def follow(path: Path, running: Any, interval: float = 0.25) -> Iterator[list[str]]:
    """Batches of new log lines while ``running()`` is true, then the rest of the file."""
    offset = 0
    while True:
        alive = running()
        lines, offset = new_lines(path, offset)
        if lines:
            yield lines
        if not alive:
            return
        time.sleep(interval)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


class ProgressDisplay:
    """Shows a :class:`BacktestProgress`: rich bars on a terminal, else one line per stage.

    :param quiet: one line per stage, no bars.
    :param out: where to write (stdout).
    """

    def __init__(self, quiet: bool, out: TextIO | None = None) -> None:
        self.quiet = quiet
        self.out = out or sys.stdout
        self.state = BacktestProgress()
        self._bars: Any = None
        self._tasks: dict[str, Any] = {}
        self._began = time.perf_counter()
        self._stage_began = self._began

    def __enter__(self) -> ProgressDisplay:
        if not self.quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description:<26}"),
                BarColumn(bar_width=30),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=Console(file=self.out),
            )
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.stop()

    def lines(self, batch: Iterable[str]) -> None:
        """Take new log lines and update the display."""
        before = self.state.stage
        for line in batch:
            self.state.read(line)
        if before == TRAINING and self.state.stage == BACKTESTING:
            self._end_training()
        self._draw()

    def finished(self, trades: int | None) -> None:
        """The backtest process ended (``trades`` None: it failed)."""
        if self.state.stage == TRAINING:
            self._end_training()
        seconds = time.perf_counter() - self._stage_began
        what = "failed" if trades is None else f"{trades} trades"
        if self._bars is not None:
            task = self._tasks.get(BACKTESTING)
            if task is not None:
                self._bars.update(task, total=1, completed=1, note=what)
        else:
            self._say(f"{BACKTESTING}: {what} ({seconds:.0f} s)")

    def _end_training(self) -> None:
        seconds = time.perf_counter() - self._stage_began
        self._stage_began = time.perf_counter()
        if self._bars is None:
            state = self.state
            self._say(
                f"{TRAINING}: {_count(len(state.pairs), 'pair')}, {state.windows} windows: "
                f"{state.windows - state.reused} trained, {state.reused} read back "
                f"({seconds:.0f} s)"
            )

    def _draw(self) -> None:
        if self._bars is None:
            return
        for pair, windows in self.state.pairs.items():
            if pair not in self._tasks:
                self._tasks[pair] = self._bars.add_task(
                    f"{pair} windows", total=windows.total, note=""
                )
            note = f"{windows.reused} read back" if windows.reused else ""
            self._bars.update(self._tasks[pair], completed=windows.done, note=note)
        if self.state.stage == BACKTESTING and BACKTESTING not in self._tasks:
            self._tasks[BACKTESTING] = self._bars.add_task(BACKTESTING, total=None, note="")

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)
