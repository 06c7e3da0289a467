"""The simulated clock the replay exchange and the bot share through a memory-mapped file.

``sim_now = sim_anchor + (real_now - real_anchor) * speed``; the state lives in a 32-byte file
that the test process (which owns it) and the bot process (through the test-only
``sitecustomize`` written by :mod:`tests.support.bot`) both read. See the "Time scheme" section of
:mod:`tests.support.exchange` for why the bot runs on it.
"""

from __future__ import annotations

import mmap
import struct
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

CLOCK_FILE_ENV = "ITB_TEST_SIMCLOCK_FILE"
"""Environment variable naming the clock file in the bot process (read by the child shim)."""

CLOCK_LAYOUT = struct.Struct("<Qqqd")
"""Clock file layout: seqlock counter, sim anchor (ns), real anchor (ns), speed."""


class SimClock:
    """A clock that runs ``speed`` times faster than the wall clock, shared through a file.

    The state (sim anchor, real anchor, speed) is written to a memory-mapped file under a
    seqlock, so the bot process (through the shim installed by :mod:`tests.support.bot`) and
    this process compute the same sim time from their own wall clocks without any messaging.
    Sim time never goes backwards: speed changes re-anchor at the current sim time.

    :param path: file to create for the shared state.
    :param start: sim time at creation (timezone-aware).
    :param speed: sim seconds per real second (0 pauses the clock).
    """

    def __init__(self, path: Path, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock: start must be timezone-aware")
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.write_bytes(b"\0" * CLOCK_LAYOUT.size)
        self._file = self.path.open("r+b")
        self._map = mmap.mmap(self._file.fileno(), CLOCK_LAYOUT.size)
        self._seq = 0
        self._sim_anchor_ns = int(start.timestamp() * 1e9)
        self._real_anchor_ns = time.time_ns()
        self._speed = float(speed)
        self._publish()

    def _publish(self) -> None:
        # Seqlock: an odd counter tells readers a write is in progress.
        self._seq += 1
        struct.pack_into("<Q", self._map, 0, self._seq)
        state = (self._sim_anchor_ns, self._real_anchor_ns, self._speed)
        struct.pack_into("<qqd", self._map, 8, *state)
        self._seq += 1
        struct.pack_into("<Q", self._map, 0, self._seq)

    @property
    def speed(self) -> float:
        """Sim seconds per real second."""
        return self._speed

    def now_ns(self) -> int:
        """Current sim time in nanoseconds since the epoch."""
        elapsed = time.time_ns() - self._real_anchor_ns
        return self._sim_anchor_ns + int(elapsed * self._speed)

    def now_ms(self) -> int:
        """Current sim time in milliseconds since the epoch (Binance's unit)."""
        return self.now_ns() // 1_000_000

    def now(self) -> datetime:
        """Current sim time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ns() / 1e9, tz=UTC)

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on (0 pauses); sim time stays continuous."""
        with self._lock:
            self._sim_anchor_ns = self.now_ns()
            self._real_anchor_ns = time.time_ns()
            self._speed = float(speed)
            self._publish()

    def advance(self, seconds: float) -> None:
        """Jump forward by ``seconds`` of sim time."""
        if seconds < 0:
            raise ValueError("SimClock: cannot go back in time")
        with self._lock:
            self._sim_anchor_ns += int(seconds * 1e9)
            self._publish()

    def real_seconds(self, sim_seconds: float) -> float:
        """How many real seconds ``sim_seconds`` of sim time take at the current speed."""
        return sim_seconds / self._speed if self._speed > 0 else float("inf")

    def env(self) -> dict[str, str]:
        """Environment variables that put a child process on this clock (with the shim)."""
        return {CLOCK_FILE_ENV: str(self.path)}

    def close(self) -> None:
        """Release the memory map (the file stays for post-mortem reading)."""
        self._map.close()
        self._file.close()
