"""Run ``freqtrade trade`` (dry-run or live) as a child process against the local fakes.

:class:`BotProcess` writes a FreqTrade config that points at a :class:`~tests.support.
replay_exchange.ReplayExchange` (through ``exchange.ccxt_config``/``ccxt_async_config`` URL
overrides) and optionally at a :class:`~tests.support.fake_telegram.FakeTelegram`, enables the
REST API on a free port of 127.0.0.1 with the test's credentials, keeps the SQLite database
and the log in the bot's work folder, and starts ``python -m freqtrade trade`` with them.

The child runs with a *test-only* ``sitecustomize.py`` (written into ``<workdir>/shim`` and put
first on ``PYTHONPATH``; nothing in the repository or the venv changes). At interpreter start it

* puts the process on the exchange's :class:`~tests.support.replay_exchange.SimClock`:
  ``time-machine`` makes ``time.time``, ``time.time_ns``, ``datetime.now``/``utcnow``,
  ``time.gmtime``/``localtime``/``strftime`` and ``pandas.Timestamp.now`` read the shared sim
  clock; ``time.sleep`` is replaced by a sleep that waits until that much *sim* time has passed
  (so FreqTrade's throttling follows the clock's speed, pauses and jumps); monotonic clocks stay
  real, so network timeouts are real seconds;
* when :data:`~tests.support.fake_telegram.TELEGRAM_URL_ENV` is set, wraps
  ``telegram.ext.ApplicationBuilder.build`` to set ``base_url``/``base_file_url`` to the fake,
  because FreqTrade has no option for the Telegram server address.

Typical use (see tests/freqtrade/test_replay_harness.py)::

    with replay_session(tmp_path, datetime(2019, 5, 1, 15, tzinfo=UTC), strategy="SmaCross",
                        strategy_path=folder, mode="live", speed=1200) as session:
        bot, exchange = session.bot, session.exchange
        bot.wait_for(lambda: any(not t["is_open"] for t in bot.trades()), 90,
                     what="a closed trade")
        exchange.fail_next(2, status=500, path="/api/v3/klines")
        bot.kill()        # kill -9
        bot.start()       # same config and database
        bot.wait_ready()

or piece by piece: ``SimClock`` -> ``ReplayExchange(clock)`` -> ``FakeTelegram()`` ->
``BotProcess(workdir, exchange, strategy=..., strategy_path=..., telegram=...)`` -> ``start()``
-> ``wait_ready()``.

Using it for ITBStrategy (FreqAI)
    Pass ``strategy="ITBStrategy"``, ``strategy_path=ROOT / "user_data" / "strategies"``,
    ``extra_args=("--freqaimodel-path", str(ROOT / "user_data" / "freqaimodels"))`` and
    ``config_overrides={"freqaimodel": "ITBClassifier", "freqai": {...}}`` (deep-merged over
    the generated config; it may also replace ``stake_currency``, ``exchange.pair_whitelist``,
    ``unfilledtimeout``...). FreqAI trains in *real* seconds while the clock runs: pick a
    ``speed`` at which one bot iteration, training included, takes well under one candle
    (3600 / speed real seconds for 1h candles), e.g. 60-120 while models train, and raise it
    with ``clock.set_speed`` afterwards. Startup (imports, first download) should happen at a
    low ``startup_speed``; never start a bot on a paused clock (its start-up sleeps would wait
    for sim time that does not pass).

Limits
    Sim-time deadlines in the bot shrink with the speed: JWTs live ``900 / speed`` real seconds
    (use basic auth, the default of :meth:`BotProcess.api`), ``unfilledtimeout`` minutes are
    sim minutes, FreqTrade's synchronous retry back-offs are sim seconds (its asynchronous ones,
    e.g. for klines, stay real). At high speed FreqTrade warns that the system clock deviates
    from the exchange's by some seconds (a millisecond of latency is ``speed`` ms of sim time).
    SIGTERM with Telegram enabled takes about 10 real seconds (FreqTrade's Telegram thread
    sleeps 10 s between checks); sessions are torn down with kill -9 unless ``graceful_stop``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from itb_ext.config.files import deep_merge
from tests.support import warm
from tests.support.fake_telegram import TELEGRAM_URL_ENV, FakeTelegram
from tests.support.replay_exchange import (
    CLOCK_FILE_ENV,
    DEFAULT_MARKETS,
    Market,
    ReplayExchange,
    SimClock,
)

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]

SHIM_SOURCE = '''\
"""Test-only start-up shim written by tests/support/bot.py: never used outside the harness.

Puts this process on the replay exchange's simulated clock and points python-telegram-bot at
the fake Telegram server. See the docstring of tests/support/bot.py.
"""
import os
import sys
import traceback


def _install_sim_clock(path):
    import mmap
    import struct
    import time

    import time_machine

    layout = struct.Struct("<Qqqd")
    handle = open(path, "rb")
    shared = mmap.mmap(handle.fileno(), layout.size, access=mmap.ACCESS_READ)
    real_ns = time.time_ns  # replaced by the escape hatch once travelling

    def state():
        while True:
            seq, sim_anchor, real_anchor, speed = layout.unpack_from(shared, 0)
            if seq % 2 == 0 and layout.unpack_from(shared, 0)[0] == seq:
                return sim_anchor, real_anchor, speed

    def sim_ns():
        sim_anchor, real_anchor, speed = state()
        return sim_anchor + int((real_ns() - real_anchor) * speed)

    traveller = time_machine.travel(sim_ns() / 1e9, tick=False).start()
    real_ns = time_machine.escape_hatch.time.time_ns
    traveller.time_ns = sim_ns
    real_sleep = time.sleep

    def sleep(seconds):
        """Sleep until ``seconds`` of sim time have passed (follows speed changes)."""
        target = sim_ns() + int(max(seconds, 0) * 1e9)
        while True:
            remaining = target - sim_ns()
            if remaining <= 0:
                real_sleep(0)
                return
            speed = state()[2]
            real_sleep(min(0.05, remaining / 1e9 / speed) if speed > 0 else 0.05)

    time.sleep = sleep


def _install_telegram(base):
    from telegram.ext import ApplicationBuilder

    original_build = ApplicationBuilder.build

    def build(self):
        self.base_url(base + "/bot")
        self.base_file_url(base + "/file/bot")
        return original_build(self)

    ApplicationBuilder.build = build


def _install():
    clock_file = os.environ.get("{clock_env}")
    telegram_url = os.environ.get("{telegram_env}")
    if clock_file:
        _install_sim_clock(clock_file)
    if telegram_url:
        _install_telegram(telegram_url)
    if clock_file or telegram_url:
        print(f"replay shim: sim clock {clock_file}, telegram {telegram_url}", file=sys.stderr)


try:
    _install()
except BaseException:
    # Never let the bot run on the real clock or reach the real Telegram by accident.
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(86)
'''.replace("{clock_env}", CLOCK_FILE_ENV).replace("{telegram_env}", TELEGRAM_URL_ENV)


def write_shim(folder: Path) -> Path:
    """Write the test-only ``sitecustomize.py`` into ``folder`` (put it first on PYTHONPATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sitecustomize.py"
    path.write_text(SHIM_SOURCE)
    return path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    predicate: Callable[[], T | bool | None],
    timeout: float,
    *,
    what: str,
    interval: float = 0.1,
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Poll ``predicate`` until it returns a truthy value, and return that value.

    :param timeout: real seconds before giving up with ``TimeoutError``.
    :param what: what is awaited, for the error message.
    :param on_timeout: extra diagnostics appended to the error (e.g. a log tail).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            details = on_timeout() if on_timeout else ""
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}\n{details}")
        time.sleep(interval)


class BotProcess:
    """A ``freqtrade trade`` child process wired to the fakes, with its config, DB and log.

    :param workdir: folder for config.json, tradesv3.sqlite, freqtrade.log (FreqTrade's
        ``--logfile``: one unwrapped line per record), console.log (stdout and stderr, for
        crashes before logging starts), user_data and the shim.
    :param exchange: the replay exchange (its clock drives the bot).
    :param strategy: strategy class name; :param strategy_path: folder holding its file.
    :param mode: ``"dry_run"`` (FreqTrade simulates orders on the exchange's prices) or
        ``"live"`` (orders go to the exchange's order endpoints with its API key).
    :param telegram: fake Telegram to talk to, or None to disable Telegram.
    :param pairs: whitelist; :param timeframe: strategy timeframe (the exchange's by default).
    :param stake_amount: stake per trade in USDT; :param dry_run_wallet: dry-run balance.
    :param throttle_seconds: minimum real duration of a bot iteration, converted to sim
        seconds for ``internals.process_throttle_secs`` at ``run_speed``.
    :param run_speed: clock speed the bot will mostly run at (default: the clock's speed when
        the config is written); FreqTrade also wakes at every candle boundary regardless.
    :param ccxt_timeout_ms: ccxt request timeout (real milliseconds).
    :param config_overrides: deep-merged over the generated config.
    :param extra_args: more command-line arguments for ``freqtrade trade``.
    """

    def __init__(
        self,
        workdir: Path,
        exchange: ReplayExchange,
        *,
        strategy: str,
        strategy_path: Path,
        mode: Literal["dry_run", "live"] = "dry_run",
        telegram: FakeTelegram | None = None,
        pairs: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        timeframe: str | None = None,
        stake_amount: float | str = 100,
        dry_run_wallet: float = 1000,
        throttle_seconds: float = 0.5,
        run_speed: float | None = None,
        ccxt_timeout_ms: int = 3000,
        config_overrides: Mapping[str, Any] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self.exchange, self.telegram = exchange, telegram
        self.strategy, self.strategy_path = strategy, Path(strategy_path)
        self.mode = mode
        self.pairs, self.timeframe = tuple(pairs), timeframe or exchange.timeframe
        self.stake_amount, self.dry_run_wallet = stake_amount, dry_run_wallet
        self.throttle_seconds, self.ccxt_timeout_ms = throttle_seconds, ccxt_timeout_ms
        self.run_speed = run_speed
        self.config_overrides = dict(config_overrides or {})
        self.extra_args = tuple(extra_args)
        self.api_port = free_port()
        self.api_username, self.api_password = "replay", "replay-password"
        self.config_path = self.workdir / "config.json"
        self.db_path = self.workdir / "tradesv3.sqlite"
        self.log_path = self.workdir / "freqtrade.log"
        self.console_path = self.workdir / "console.log"
        self.userdir = self.workdir / "user_data"
        self.shim_dir = self.workdir / "shim"
        self.process: subprocess.Popen[bytes] | warm.WarmProcess | None = None
        self.starts = 0
        self._log_offset = 0

    # ------------------------------------------------------------------ config
    def build_config(self) -> dict[str, Any]:
        """The FreqTrade configuration this bot runs with (before writing it)."""
        ccxt_config = self.exchange.ccxt_config(timeout_ms=self.ccxt_timeout_ms)
        speed = self.run_speed or self.exchange.clock.speed
        throttle = max(1, round(self.throttle_seconds * speed))
        live = self.mode == "live"
        config: dict[str, Any] = {
            "bot_name": "replay-bot",
            "initial_state": "running",
            "max_open_trades": 2,
            "stake_currency": "USDT",
            "stake_amount": self.stake_amount,
            "tradable_balance_ratio": 0.99,
            "dry_run": not live,
            "dry_run_wallet": self.dry_run_wallet,
            "cancel_open_orders_on_exit": False,
            "trading_mode": "spot",
            "margin_mode": "",
            "timeframe": self.timeframe,
            "unfilledtimeout": {
                "entry": 10,
                "exit": 10,
                "exit_timeout_count": 0,
                "unit": "minutes",
            },
            "entry_pricing": {
                "price_side": "same",
                "use_order_book": False,
                "price_last_balance": 0.0,
            },
            "exit_pricing": {"price_side": "same", "use_order_book": False},
            "exchange": {
                "name": "binance",
                "key": self.exchange.api_key if live else "",
                "secret": self.exchange.api_secret if live else "",
                "ccxt_config": ccxt_config,
                "ccxt_async_config": ccxt_config,
                "enable_ws": False,
                "pair_whitelist": list(self.pairs),
                "pair_blacklist": [],
            },
            "pairlists": [{"method": "StaticPairList"}],
            "telegram": (
                self.telegram.config()
                if self.telegram
                else {"enabled": False, "token": "", "chat_id": ""}
            ),
            "api_server": {
                "enabled": True,
                "listen_ip_address": "127.0.0.1",
                "listen_port": self.api_port,
                "verbosity": "error",
                "enable_openapi": False,
                "jwt_secret_key": "replay-jwt-secret-0123456789abcdef",
                "ws_token": "replay-ws-token",
                "CORS_origins": [],
                "username": self.api_username,
                "password": self.api_password,
            },
            "force_entry_enable": True,
            "dataformat_ohlcv": "feather",
            "internals": {"process_throttle_secs": throttle, "heartbeat_interval": 0},
        }
        return deep_merge(config, self.config_overrides)

    def write_config(self) -> Path:
        """Write config.json, the user_data folders and the child shim into ``workdir``."""
        for sub in ("", "logs", "data", "models", "backtest_results", "plot", "strategies"):
            (self.userdir / sub).mkdir(parents=True, exist_ok=True)
        write_shim(self.shim_dir)
        self.config_path.write_text(json.dumps(self.build_config(), indent=1))
        return self.config_path

    def child_env(self) -> dict[str, str]:
        """Environment of the child: the shim first on PYTHONPATH, the fakes' addresses."""
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
        paths = [str(self.shim_dir), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        env.update(self.exchange.clock.env())
        if self.telegram is not None:
            env.update(self.telegram.env())
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    # ------------------------------------------------------------------ process control
    def start(self) -> None:
        """Start ``python -m freqtrade trade`` (same config and DB on every start)."""
        if self.running:
            raise RuntimeError("BotProcess: already running")
        if not self.config_path.exists():
            self.write_config()
        argv = [
            sys.executable, "-m", "freqtrade", "trade",
            "--config", str(self.config_path),
            "--userdir", str(self.userdir),
            "--strategy", self.strategy,
            "--strategy-path", str(self.strategy_path),
            "--db-url", f"sqlite:///{self.db_path}",
            "--logfile", str(self.log_path),
            *self.extra_args,
        ]  # fmt: skip
        self.starts += 1
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.console_path.open("ab") as console:
            console.write(f"\n===== harness: start {self.starts} =====\n".encode())
            console.flush()
            with open(os.devnull, "rb") as nothing:
                self.process = warm.start(
                    argv,
                    cwd=self.workdir,
                    env=self.child_env(),
                    stdin=nothing.fileno(),
                    stdout=console.fileno(),
                    stderr=console.fileno(),
                    new_session=True,
                )
            if self.process is None:
                self.process = subprocess.Popen(
                    argv,
                    cwd=self.workdir,
                    env=self.child_env(),
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("BotProcess: never started")
        return self.process.pid

    def wait_ready(self, timeout: float = 90) -> None:
        """Wait until the REST API answers and the worker reached state RUNNING."""
        self.wait_for(lambda: self.ping(), timeout, what="the REST API to answer /ping")
        self.wait_for_log(r"Changing state.* to: RUNNING", timeout)

    def stop(self, timeout: float = 30) -> int:
        """Ask FreqTrade to stop (SIGTERM: its clean shutdown); kill -9 after ``timeout``."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)

    def kill(self) -> None:
        """``kill -9`` the bot: no clean-up, as a crash or power cut would leave it."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def restart(self, timeout: float = 90) -> None:
        """Stop (gracefully) if running, start again with the same config and DB, wait ready."""
        self.stop()
        self.start()
        self.wait_ready(timeout)

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(timeout=20)

    # ------------------------------------------------------------------ log
    def log_text(self, *, all_starts: bool = False) -> str:
        """FreqTrade's log (``--logfile``) since the last start, or all of it."""
        if not self.log_path.exists():
            return ""
        data = self.log_path.read_bytes()
        return data[0 if all_starts else self._log_offset :].decode("utf-8", "replace")

    def console_text(self) -> str:
        """Everything the bot printed on stdout/stderr, all starts."""
        return self.console_path.read_text("utf-8", "replace") if self.console_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        """Last log lines, plus the console's when the process has exited (crash reports)."""
        tail = "\n".join(self.log_text(all_starts=True).splitlines()[-lines:])
        if self.process is not None and self.process.poll() is not None:
            console = "\n".join(self.console_text().splitlines()[-lines:])
            tail += f"\n--- console ---\n{console}"
        return tail

    def wait_for_log(
        self, pattern: str | re.Pattern[str], timeout: float, *, after: int = 0
    ) -> re.Match[str]:
        """First match of ``pattern`` in the log of the current start, from offset ``after``."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        return self.wait_for(
            lambda: regex.search(self.log_text(), after),
            timeout,
            what=f"log line matching {regex.pattern!r}",
        )

    def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float,
        *,
        what: str = "condition",
        interval: float = 0.1,
    ) -> T:
        """Poll ``predicate``; fail fast with the log tail if the bot process dies."""

        def check() -> T | bool | None:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"bot exited with {self.process.returncode} while waiting for {what}\n"
                    + self.log_tail()
                )
            return predicate()

        return wait_until(check, timeout, what=what, interval=interval, on_timeout=self.log_tail)

    # ------------------------------------------------------------------ REST API
    def api(
        self,
        path: str,
        *,
        method: str = "GET",
        body: Mapping[str, Any] | None = None,
        auth: Literal["basic", "jwt"] = "basic",
        timeout: float = 10,
    ) -> Any:
        """Call the bot's REST API (``/api/v1/...``) and return the decoded JSON.

        :param auth: ``basic`` (username/password) or ``jwt`` (log in for a fresh access token;
            tokens expire after ``900 / speed`` real seconds on the sim clock).
        :raises urllib.error.HTTPError: on an error status.
        """
        if auth == "jwt":
            token = self.api("/api/v1/token/login", method="POST")["access_token"]
            header = f"Bearer {token}"
        else:
            pair = f"{self.api_username}:{self.api_password}".encode()
            header = "Basic " + base64.b64encode(pair).decode()
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}",
            data=data,
            method=method,
            headers={"Authorization": header, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"null")

    def ping(self) -> bool:
        """True when the REST API answers ``/api/v1/ping``."""
        try:
            return bool(self.api("/api/v1/ping", timeout=2).get("status") == "pong")
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def status(self) -> list[dict[str, Any]]:
        """``/api/v1/status``: the open trades as the bot reports them."""
        result: list[dict[str, Any]] = self.api("/api/v1/status")
        return result

    def pair_candles(self, pair: str, timeframe: str | None = None, limit: int = 50) -> Any:
        """``/api/v1/pair_candles``: the analysed dataframe of a pair."""
        tf = timeframe or self.timeframe
        return self.api(f"/api/v1/pair_candles?pair={pair}&timeframe={tf}&limit={limit}")

    def force_enter(self, pair: str, **extra: Any) -> dict[str, Any]:
        """``/api/v1/forceenter`` (long); needs ``force_entry_enable`` (on by default here)."""
        result: dict[str, Any] = self.api(
            "/api/v1/forceenter", method="POST", body={"pair": pair, "side": "long", **extra}
        )
        return result

    def force_exit(self, trade_id: int | str, ordertype: str | None = None) -> Any:
        """``/api/v1/forceexit`` of one trade (``"all"`` for every open trade)."""
        body: dict[str, Any] = {"tradeid": str(trade_id)}
        if ordertype:
            body["ordertype"] = ordertype
        return self.api("/api/v1/forceexit", method="POST", body=body)

    # ------------------------------------------------------------------ database
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only SQL query on the bot's SQLite database ([] before it exists)."""
        if not self.db_path.exists():
            return []
        connection = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            connection.row_factory = sqlite3.Row
            try:
                rows = connection.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise
            return [dict(row) for row in rows]
        finally:
            connection.close()

    def trades(self) -> list[dict[str, Any]]:
        """All rows of FreqTrade's ``trades`` table, by id."""
        return self.query("SELECT * FROM trades ORDER BY id")

    def orders(self) -> list[dict[str, Any]]:
        """All rows of FreqTrade's ``orders`` table, by id."""
        return self.query("SELECT * FROM orders ORDER BY id")


@dataclass
class ReplaySession:
    """A ready bot on the replay: clock, exchange, fake Telegram (or None) and bot process."""

    clock: SimClock
    exchange: ReplayExchange
    telegram: FakeTelegram | None
    bot: BotProcess

    def sim_hours_since(self, start: datetime) -> float:
        """Sim hours elapsed since ``start`` (e.g. to count replayed candles)."""
        return (self.clock.now() - start).total_seconds() / 3600


@contextmanager
def replay_session(
    workdir: Path,
    start: datetime,
    *,
    strategy: str,
    strategy_path: Path,
    speed: float = 1200,
    startup_speed: float = 120,
    mode: Literal["dry_run", "live"] = "dry_run",
    telegram: bool = True,
    balances: Mapping[str, float] | None = None,
    markets: Iterable[Market] = DEFAULT_MARKETS,
    ready_timeout: float = 120,
    graceful_stop: bool = False,
    **bot_options: Any,
) -> Iterator[ReplaySession]:
    """Start clock, exchange, fake Telegram and a ``freqtrade trade`` bot; yield them ready.

    The clock starts at ``start`` running at ``startup_speed`` so that FreqTrade's start-up
    (several real seconds) costs few sim minutes; once the bot is ready the clock switches to
    ``speed``. On exit the bot is killed (``graceful_stop=False``, fast) or stopped with
    SIGTERM, and the fakes are shut down. ``bot_options`` go to :class:`BotProcess`.

    :param balances: live-mode exchange balances (default 1000 USDT).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    clock = SimClock(workdir / "simclock", start=start, speed=startup_speed)
    exchange = ReplayExchange(clock, markets, balances=balances or {"USDT": 1000})
    fake_telegram = FakeTelegram() if telegram else None
    exchange.start()
    if fake_telegram is not None:
        fake_telegram.start()
    bot = BotProcess(
        workdir / "bot",
        exchange,
        strategy=strategy,
        strategy_path=strategy_path,
        mode=mode,
        telegram=fake_telegram,
        run_speed=speed,
        **bot_options,
    )
    try:
        bot.start()
        bot.wait_ready(ready_timeout)
        clock.set_speed(speed)
        yield ReplaySession(clock, exchange, fake_telegram, bot)
    finally:
        if graceful_stop:
            bot.stop(timeout=20)
        else:
            bot.kill()
        exchange.stop()
        if fake_telegram is not None:
            fake_telegram.stop()
        clock.close()
