"""A fake Binance spot exchange on 127.0.0.1 that replays real candles on a simulated clock.

What it is
    :class:`ReplayExchange` is a threaded HTTP server speaking the part of Binance's REST API that
    ccxt's ``binance`` class uses when FreqTrade runs ``freqtrade trade`` on spot, dry-run or live.
    FreqTrade reaches it through its ordinary configuration: ``exchange.ccxt_config`` and
    ``exchange.ccxt_async_config`` carry ``{"urls": {"api": {...}}}`` (see :meth:`ReplayExchange.
    ccxt_config`), which ccxt deep-merges over its own URLs, so every line of FreqTrade and ccxt
    runs unchanged; nothing is patched in the bot process for the exchange.

Candles
    Real hourly candles from ``user_data/data/bitfinex/{BTC_USD,ETH_USD}-1h.feather``
    (Bitfinex, 2017-10..2019-09, see PROVENANCE.md there) are served as Binance's ``BTC/USDT``
    and ``ETH/USDT``: the quote currency is relabelled, prices are Bitfinex's USD prices. The
    candles keep their true dates: instead of re-stamping candles to today, the bot's clock is
    moved to the candles' era (see "Time scheme"). Source gaps (a few missing hours) stay gaps.

Time scheme
    ccxt's binance lists a ``1s`` timeframe, but FreqTrade 2026.9 rejects timeframes below 1m
    ("Timeframes < 1m are currently not supported") and judges candle freshness by its own wall
    clock, so with an untouched clock one candle could appear at most once a real minute.
    Instead the harness runs the bot on a *simulated clock* (:class:`SimClock`):
    ``sim_now = sim_anchor + (real_now - real_anchor) * speed``. Its state lives in a 32-byte
    memory-mapped file shared by the test process (the exchange, which owns it) and the bot
    process, where a test-only ``sitecustomize`` (written by :mod:`tests.support.bot`) makes
    ``time.time``, ``datetime.now`` and friends return sim time through ``time-machine`` and
    makes ``time.sleep`` wait for sim time to pass. Monotonic clocks stay real, so network
    timeouts (ccxt, Telegram, uvicorn) are real seconds. With the real ``1h`` timeframe and
    ``speed=1800`` one candle closes every 2 real seconds: a day of candles replays in 48 s, and
    the test can change the speed, pause or jump forward at any time.
    Limits: sim-time deadlines inside the bot shrink with the speed (JWTs of the REST API live
    ``900 / speed`` real seconds; ``unfilledtimeout`` is in sim minutes; FreqTrade's synchronous
    retry back-offs use ``time.sleep`` and are sim seconds, its asynchronous ones, e.g. for
    klines, use ``asyncio.sleep`` and stay real); everything the bot computes in real time
    (start-up, FreqAI training) costs ``speed`` times as much sim time; request timestamps of
    signed calls are not checked against ``recvWindow`` because a millisecond of real latency
    is ``speed`` ms of sim time (FreqTrade's start-up warns of a clock deviation of seconds).

Prices between candle boundaries
    Inside a candle the price follows a step path (:data:`PATH_STEPS`): the open for the first
    40 % of the candle, then the low and the high (high first on a down candle) for 20 % each,
    then the close. A step path keeps quotes stable while the bot turns them into orders, which
    at high speed takes sim minutes; an entry taken right after a candle closes fills at the
    next candle's open, as in FreqTrade's backtesting. The newest kline is the forming candle
    built from that path up to ``sim_now`` (its volume is pro-rated), as Binance does;
    FreqTrade drops it as incomplete. Tickers, the order book (a synthetic book around the path
    price, ``spread`` wide) and order fills use the same path, so a resting limit buy fills once
    the path has touched its price.

Orders (live mode)
    LIMIT, LIMIT_MAKER, MARKET, STOP_LOSS_LIMIT and STOP_LOSS orders with Binance's filters
    (PRICE_FILTER, LOT_SIZE, NOTIONAL) and balance checks, kept by the order book of
    :mod:`tests.support.orders` (its docstring has the rules). A marketable order fills at once at
    the path price (taker); a resting limit order fills at its limit price when the path crosses
    it (maker); a stop-limit order triggers when the path reaches its stop and fills at its limit.
    Commission (``fee``, 0.1 % by default) is charged in the asset received, like Binance without
    BNB. Orders are matched lazily, before answering any request, walking the path in time
    order, so every observer sees a consistent book. Signed endpoints check the API key and the
    HMAC-SHA256 signature.

Fault injection
    :meth:`ReplayExchange.fail_next` (HTTP 500, 429 with ``Retry-After``, any status),
    :meth:`ReplayExchange.stall_next` (answer after a delay longer than the client's timeout;
    with ``execute_first`` the request is served first: an order that timed out on the client
    but was executed on the exchange), both on any endpoint and optionally only for requests
    with given parameters (``params={"type": "STOP_LOSS_LIMIT"}``);
    :meth:`ReplayExchange.reject_next` (an order refused with Binance's error of one class),
    :meth:`ReplayExchange.partial_next` (partial fills: a fraction at first, the rest after a
    delay or never), :meth:`ReplayExchange.cancel_on_exchange` (an order cancelled or expired by
    the exchange); :meth:`ReplayExchange.drop_candle` (a gap in klines),
    :meth:`ReplayExchange.delay_candle` (that candle and the later ones stay out of klines until
    it is ``seconds`` old, as when the exchange lags: FreqTrade, which drops the last row as
    incomplete, sees its newest closed candle late and warns "Outdated history"). A
    :class:`RequestHook` (:attr:`ReplayExchange.hook`) draws faults and order plans per request,
    for seeded soaks (:mod:`tests.support.chaos`). Every request is logged
    (:attr:`ReplayExchange.requests`).

Endpoints
    Public: ``/api/v3/ping``, ``time``, ``exchangeInfo``, ``klines``, ``ticker/24hr``,
    ``ticker/price``, ``ticker/bookTicker``, ``depth``; ``/fapi/v1/exchangeInfo`` and
    ``/dapi/v1/exchangeInfo`` (empty: ccxt loads spot, linear and inverse markets);
    ``/sapi/v1/system/status``. Signed: ``/api/v3/account``, ``order`` (POST/GET/DELETE),
    ``openOrders``, ``allOrders``, ``myTrades``, ``/sapi/v1/capital/config/getall``,
    ``/sapi/v1/margin/allPairs`` and ``margin/isolated/allPairs`` (empty; ccxt's
    ``load_markets`` asks for them when it has keys), ``/sapi/v1/asset/tradeFee``,
    ``/sapi/v1/spot/delist-schedule``. Anything else answers 404 and is logged with
    ``unhandled=True``. Observed FreqTrade 2026.9 traffic: dry-run uses ``exchangeInfo`` (x3),
    ``time``, ``klines``, ``ticker/24hr`` and ``depth``; live adds ``account``, the three
    ``sapi`` market calls and ``order`` (POST/GET/DELETE); order fees come from the ``fills`` of
    the order answer, so ``myTrades`` is only asked when they are missing.

Example::

    clock = SimClock(tmp_path / "clock", start=datetime(2019, 5, 1, tzinfo=UTC), speed=1800)
    with ReplayExchange(clock, balances={"USDT": 1000}) as exchange:
        config["exchange"]["ccxt_config"] = exchange.ccxt_config(timeout_ms=3000)
        exchange.fail_next(3, status=500, path="/api/v3/klines")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from tests.support.clock import SimClock
from tests.support.http import LocalJSONServer
from tests.support.orders import (
    REJECTS,
    ExchangeError,
    ExchangeOrder,
    OrderBook,
    OrderPlan,
)
from tests.support.orders import fmt as _fmt
from tests.support.orders import round_to as _round_to

__all__ = [
    "BITFINEX_CANDLES",
    "DEFAULT_MARKETS",
    "HOUR_MS",
    "PATH_STEPS",
    "ROOT",
    "CandleSeries",
    "ExchangeError",
    "ExchangeOrder",
    "Fault",
    "LoggedRequest",
    "Market",
    "OrderPlan",
    "ReplayExchange",
    "RequestHook",
    "load_candles",
]

ROOT = Path(__file__).resolve().parents[2]
BITFINEX_CANDLES = ROOT / "user_data" / "data" / "bitfinex"

HOUR_MS = 3_600_000
_TIMEFRAME_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": 24 * HOUR_MS,
}
_SIGNED_PATHS = frozenset(
    {
        "/api/v3/account",
        "/api/v3/order",
        "/api/v3/openOrders",
        "/api/v3/allOrders",
        "/api/v3/myTrades",
    }
)


@dataclass(frozen=True)
class Market:
    """A spot market of the replay exchange and the candle file that feeds it.

    :param symbol: ccxt symbol, e.g. ``BTC/USDT``.
    :param candles: feather file with columns date, open, high, low, close, volume.
    :param tick_size: PRICE_FILTER tick size; :param step_size: LOT_SIZE step size;
    :param min_notional: NOTIONAL filter minimum (quote currency).
    """

    symbol: str
    candles: Path
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_notional: str = "5"

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]

    @property
    def exchange_id(self) -> str:
        """Binance's symbol id (``BTCUSDT``)."""
        return self.base + self.quote


DEFAULT_MARKETS = (
    Market("BTC/USDT", BITFINEX_CANDLES / "BTC_USD-1h.feather", "0.01", "0.00001", "5"),
    Market("ETH/USDT", BITFINEX_CANDLES / "ETH_USD-1h.feather", "0.01", "0.0001", "5"),
)
"""Bitfinex BTC/USD and ETH/USD hourly candles served as Binance BTC/USDT and ETH/USDT."""


PATH_STEPS = (0.0, 0.4, 0.6, 0.8)
"""Where, as fractions of a candle, the price path steps to open, extreme, extreme, close."""


class CandleSeries:
    """One pair's candles as arrays, with the intra-candle price path used for all prices.

    The path is a step function: the open holds for the first 40 % of the candle, then the
    first extreme (the low on an up candle, the high on a down candle), the second extreme, and
    the close from 80 % on. Holding each price for a while makes a quote and the order placed on
    it (some sim minutes later at high speed) see the same price, and makes entries taken at a
    candle boundary fill at the candle's open, as in FreqTrade's backtesting.

    :param frame: columns date (UTC), open, high, low, close, volume; one row per candle.
    :param timeframe_ms: candle length in milliseconds.
    """

    def __init__(self, frame: pd.DataFrame, timeframe_ms: int) -> None:
        dates = pd.to_datetime(frame["date"], utc=True)
        since_epoch = dates - pd.Timestamp(0, tz="UTC")
        self.open_ms = (since_epoch // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64)
        self.ohlcv = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
        self.timeframe_ms = timeframe_ms
        if len(self.open_ms) == 0 or np.any(np.diff(self.open_ms) <= 0):
            raise ValueError("CandleSeries: candles must be non-empty and strictly increasing")
        o, h, low, c = (self.ohlcv[:, i] for i in range(4))
        up = c >= o
        self.step_values = np.column_stack([o, np.where(up, low, h), np.where(up, h, low), c])
        """Per candle: the four prices of the path, in order."""
        self.step_offsets = (np.array(PATH_STEPS) * timeframe_ms).astype(np.int64)
        """Milliseconds after the open where each of the four prices starts."""

    def index_at(self, t_ms: int) -> int:
        """Index of the last candle opened at or before ``t_ms`` (-1 before the first)."""
        return int(np.searchsorted(self.open_ms, t_ms, side="right")) - 1

    def price_at(self, t_ms: int) -> float:
        """Path price at ``t_ms``; inside a source gap the last close holds."""
        i = self.index_at(t_ms)
        if i < 0:
            return float(self.ohlcv[0, 0])
        offset = t_ms - self.open_ms[i]
        if offset >= self.timeframe_ms:
            return float(self.ohlcv[i, 3])
        step = int(np.searchsorted(self.step_offsets, offset, side="right")) - 1
        return float(self.step_values[i, step])

    def path(self, t0_ms: int, t1_ms: int) -> list[tuple[int, float]]:
        """The path over ``[t0_ms, t1_ms]`` in time order: (time, price) at ``t0_ms``, then at
        every step inside ``(t0_ms, t1_ms]``."""
        points = [(t0_ms, self.price_at(t0_ms))]
        first, last = max(self.index_at(t0_ms), 0), self.index_at(t1_ms)
        if last >= first:
            times = self.open_ms[first : last + 1, None] + self.step_offsets[None, :]
            inside = (times > t0_ms) & (times <= t1_ms)
            # Row-major order is time order: candles ascend and steps ascend inside each.
            prices = self.step_values[first : last + 1][inside].tolist()
            steps = zip(times[inside].tolist(), prices, strict=True)
            points.extend((int(t), float(price)) for t, price in steps)
        return points

    def extremes(self, t0_ms: int, t1_ms: int) -> tuple[float, float]:
        """Lowest and highest path price over ``[t0_ms, t1_ms]``."""
        prices = [price for _, price in self.path(t0_ms, t1_ms)]
        return min(prices), max(prices)

    def forming(self, i: int, now_ms: int) -> np.ndarray:
        """OHLCV of candle ``i`` as seen at ``now_ms`` while it is still open."""
        start = int(self.open_ms[i])
        low, high = self.extremes(start, now_ms)
        fraction = min(max((now_ms - start) / self.timeframe_ms, 0.0), 1.0)
        close = self.price_at(now_ms)
        return np.array([self.ohlcv[i, 0], high, low, close, self.ohlcv[i, 4] * fraction])


def load_candles(path: Path, timeframe_ms: int = HOUR_MS) -> CandleSeries:
    """Read a FreqTrade feather candle file into a :class:`CandleSeries`."""
    return CandleSeries(pd.read_feather(path), timeframe_ms)


@dataclass
class LoggedRequest:
    """One request seen by a fake server, for assertions.

    ``params`` merges the query string and a form body; ``fault`` names an injected fault
    (``"status 500"``, ``"stall 3.0s"``); ``unhandled`` marks routes the fake does not serve.
    """

    method: str
    path: str
    params: dict[str, str]
    status: int
    sim_ms: int
    real_time: float
    fault: str | None = None
    unhandled: bool = False
    error: str | None = None


@dataclass
class Fault:
    """An injected fault waiting for its requests (see :meth:`ReplayExchange.fail_next`).

    :param kind: ``status`` (answer HTTP ``status``) or ``stall`` (answer ``seconds`` late).
    :param remaining: how many more matching requests it takes.
    :param path: only paths starting with this; :param method: only this HTTP method;
    :param params: only requests carrying these parameter values (e.g. ``{"type":
        "STOP_LOSS_LIMIT"}``), all of them.
    :param execute_first: a stall that serves the request before holding the answer: an order
        placed, cancelled or queried for real while the client times out.
    """

    kind: str
    remaining: int
    path: str | None
    method: str | None
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    params: Mapping[str, str] | None = None
    execute_first: bool = False

    def matches(self, method: str, path: str, params: Mapping[str, str] | None = None) -> bool:
        if self.path is not None and not path.startswith(self.path):
            return False
        if self.params and any((params or {}).get(k) != v for k, v in self.params.items()):
            return False
        return self.method is None or self.method == method

    def describe(self) -> str:
        """How the request log names it: ``status 500``, ``stall 3s``, ``stall 3s executed``."""
        if self.kind == "status":
            return f"status {self.status}"
        return f"stall {self.seconds}s" + (" executed" if self.execute_first else "")


class RequestHook(Protocol):
    """Faults and order plans drawn per request (a seeded soak plugs one in; see
    :mod:`tests.support.chaos`). Asked after the explicit faults and plans, under the lock."""

    def fault(self, method: str, path: str, params: Mapping[str, str]) -> Fault | None:
        """A fault for this request, or None."""
        ...

    def order_plan(self, symbol: str, params: Mapping[str, str]) -> OrderPlan | None:
        """A reject or partial fill for this order placement, or None."""
        ...


class ReplayExchange:
    """Fake Binance spot REST API on ``127.0.0.1:<free port>`` replaying real candles.

    :param clock: the simulated clock shared with the bot (see :class:`SimClock`).
    :param markets: markets to list; defaults to :data:`DEFAULT_MARKETS`.
    :param timeframe: native candle length of the files; klines of multiples are resampled.
    :param balances: starting free balances for live mode, e.g. ``{"USDT": 1000}``.
    :param api_key: key expected in ``X-MBX-APIKEY``; :param api_secret: HMAC secret.
    :param fee: commission rate for maker and taker fills.
    :param spread: relative bid/ask spread around the path price (0 = bid = ask).
    """

    def __init__(
        self,
        clock: SimClock,
        markets: Iterable[Market] = DEFAULT_MARKETS,
        *,
        timeframe: str = "1h",
        balances: Mapping[str, float] | None = None,
        api_key: str = "replay-key",
        api_secret: str = "replay-secret",
        fee: float = 0.001,
        spread: float = 0.0,
    ) -> None:
        self.clock = clock
        self.timeframe = timeframe
        self.timeframe_ms = _TIMEFRAME_MS[timeframe]
        self.markets = {market.symbol: market for market in markets}
        self._by_id = {market.exchange_id: market for market in self.markets.values()}
        self.candles = {
            symbol: load_candles(market.candles, self.timeframe_ms)
            for symbol, market in self.markets.items()
        }
        self.api_key, self.api_secret = api_key, api_secret
        self.fee = Decimal(str(fee))
        self.spread = spread
        self._lock = threading.RLock()
        self.book = OrderBook(self.candles, self._bid_ask, self.fee, balances)
        """Balances, orders and fills (read them through :meth:`balances`, :meth:`orders`)."""
        self._faults: list[Fault] = []
        self._plans: list[OrderPlan] = []
        self.hook: RequestHook | None = None
        """Faults and order plans drawn per request (a seeded soak); None: only explicit ones."""
        self._dropped: dict[str, set[int]] = {symbol: set() for symbol in self.markets}
        self._delayed: dict[str, dict[int, int]] = {symbol: {} for symbol in self.markets}
        self.requests: list[LoggedRequest] = []
        """Every request answered, oldest first."""
        self._stopping = threading.Event()
        self._server: LocalJSONServer | None = None
        self._routes: dict[tuple[str, str], Callable[[dict[str, str]], Any]] = {
            ("GET", "/api/v3/ping"): lambda p: {},
            ("GET", "/api/v3/time"): lambda p: {"serverTime": self.clock.now_ms()},
            ("GET", "/api/v3/exchangeInfo"): self._exchange_info,
            ("GET", "/fapi/v1/exchangeInfo"): self._empty_exchange_info,
            ("GET", "/dapi/v1/exchangeInfo"): self._empty_exchange_info,
            ("GET", "/sapi/v1/system/status"): lambda p: {"status": 0, "msg": "normal"},
            ("GET", "/api/v3/klines"): self._klines,
            ("GET", "/api/v3/ticker/24hr"): self._ticker_24hr,
            ("GET", "/api/v3/ticker/price"): self._ticker_price,
            ("GET", "/api/v3/ticker/bookTicker"): self._book_ticker,
            ("GET", "/api/v3/depth"): self._depth,
            ("GET", "/api/v3/account"): self._account,
            ("POST", "/api/v3/order"): self._create_order,
            ("GET", "/api/v3/order"): self._get_order,
            ("DELETE", "/api/v3/order"): self._cancel_order,
            ("GET", "/api/v3/openOrders"): self._open_orders,
            ("GET", "/api/v3/allOrders"): self._all_orders,
            ("GET", "/api/v3/myTrades"): self._my_trades,
            ("GET", "/sapi/v1/capital/config/getall"): self._currencies,
            ("GET", "/sapi/v1/asset/tradeFee"): self._trade_fees,
            ("GET", "/sapi/v1/spot/delist-schedule"): lambda p: [],
            ("GET", "/sapi/v1/margin/allPairs"): lambda p: [],
            ("GET", "/sapi/v1/margin/isolated/allPairs"): lambda p: [],
        }

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> ReplayExchange:
        """Start serving on a free port of 127.0.0.1 (in a daemon thread)."""
        self._server = LocalJSONServer(self._handle)
        return self

    def stop(self) -> None:
        """Stop serving; stalled answers are released at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()

    def __enter__(self) -> ReplayExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("ReplayExchange: not started")
        return self._server.port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self.port}"

    def ccxt_urls(self) -> dict[str, Any]:
        """ccxt ``urls`` override sending every Binance API section to this server.

        Each of ccxt's ``urls["api"]`` entries (sync class and ccxt.pro's websockets) keeps its
        path and loses its host, e.g. ``https://api.binance.com/api/v3`` becomes
        ``http://127.0.0.1:<port>/api/v3``, so a section the fake lacks gets a 404 here instead
        of reaching the internet.
        """
        return {"api": _rewrite_hosts(_ccxt_binance_api_urls(), self.url)}

    def ccxt_config(self, timeout_ms: int = 3000) -> dict[str, Any]:
        """Value for FreqTrade's ``exchange.ccxt_config`` and ``exchange.ccxt_async_config``."""
        return {"urls": self.ccxt_urls(), "timeout": timeout_ms, "enableRateLimit": True}

    # ----------------------------------------------------------------------------- market view
    def price(self, symbol: str, at_ms: int | None = None) -> float:
        """Path price of ``symbol`` at ``at_ms`` (default: sim now), rounded to the tick."""
        at = self.clock.now_ms() if at_ms is None else at_ms
        tick = Decimal(self.markets[symbol].tick_size)
        return float(_round_to(self.candles[symbol].price_at(at), tick))

    def last_closed_candle_ms(self, symbol: str, at_ms: int | None = None) -> int:
        """Open time of the newest closed candle visible in klines at ``at_ms`` (sim now)."""
        at = self.clock.now_ms() if at_ms is None else at_ms
        rows = self._visible_rows(symbol, at)
        return int(rows[-2, 0]) if len(rows) >= 2 else int(rows[-1, 0])

    def candle(self, symbol: str, open_ms: int) -> tuple[float, float, float, float, float]:
        """Full OHLCV of the source candle opening at ``open_ms``."""
        series = self.candles[symbol]
        i = series.index_at(open_ms)
        if i < 0 or series.open_ms[i] != open_ms:
            raise KeyError(f"{symbol}: no candle opens at {open_ms}")
        o, h, low, c, v = (float(x) for x in series.ohlcv[i])
        return o, h, low, c, v

    # ----------------------------------------------------------------------------- faults
    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path: str | None = None,
        method: str | None = None,
        retry_after: float | None = None,
        params: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with HTTP ``status``.

        Any endpoint: order placement (``path="/api/v3/order", method="POST"``), order status
        (``GET``), cancel (``DELETE``), balance (``/api/v3/account``), open orders
        (``/api/v3/openOrders``), market data.

        :param path: only requests whose path starts with this (e.g. ``/api/v3/klines``).
        :param retry_after: seconds for a ``Retry-After`` header (429/418 answers).
        :param params: only requests with these parameter values, e.g. ``{"side": "SELL"}``.
        """
        with self._lock:
            self._faults.append(
                Fault("status", count, path, method, status, retry_after, params=params)
            )

    def stall_next(
        self,
        count: int = 1,
        *,
        seconds: float,
        path: str | None = None,
        method: str | None = None,
        params: Mapping[str, str] | None = None,
        execute_first: bool = False,
    ) -> None:
        """Hold the next ``count`` matching requests ``seconds`` (real) before answering.

        Longer than the client's timeout (``ccxt_config(timeout_ms=...)``) it is a timeout for
        the bot; the request is logged when it is finally answered. Without ``execute_first``
        the request is served after the wait (an order placed after the client gave up); with
        it the request is served at once and only the answer is held back: an order that timed
        out on the client but was executed on the exchange.
        """
        with self._lock:
            self._faults.append(
                Fault(
                    "stall",
                    count,
                    path,
                    method,
                    seconds=seconds,
                    params=params,
                    execute_first=execute_first,
                )
            )

    def clear_faults(self) -> None:
        """Drop the injected faults still waiting (the exchange answers normally again)."""
        with self._lock:
            self._faults.clear()

    def faults_pending(self) -> int:
        """How many injected status/stall faults are still waiting for a request."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def reject_next(
        self,
        count: int = 1,
        *,
        reason: str,
        side: str | None = None,
        order_type: str | None = None,
        symbol: str | None = None,
    ) -> None:
        """Refuse the next ``count`` matching order placements with Binance's error for
        ``reason`` (a key of :data:`~tests.support.orders.REJECTS`: ``insufficient_balance``,
        ``lot_size``, ``min_notional``, ``price_filter``, ``would_trigger``).

        :param side: ``BUY``/``SELL``; :param order_type: Binance's type, e.g.
            ``STOP_LOSS_LIMIT``; :param symbol: e.g. ``BTC/USDT``; None matches any.
        """
        if reason not in REJECTS:
            raise ValueError(f"reject_next: unknown reason {reason!r}; one of {sorted(REJECTS)}")
        with self._lock:
            self._plans.append(OrderPlan("reject", count, side, order_type, symbol, reason))

    def partial_next(
        self,
        count: int = 1,
        *,
        fraction: float = 0.5,
        delay: float | None = None,
        side: str | None = None,
        order_type: str | None = None,
        symbol: str | None = None,
    ) -> None:
        """Fill only ``fraction`` of each of the next ``count`` matching orders at first.

        :param delay: sim seconds after the first fill before the rest may fill (at the next
            price at or beyond its limit); None: the rest never fills (it rests until
            cancelled). A market order expires its rest at once.
        """
        if not 0 < fraction < 1:
            raise ValueError("partial_next: fraction must be between 0 and 1")
        delay_ms = None if delay is None else int(delay * 1000)
        with self._lock:
            self._plans.append(
                OrderPlan("partial", count, side, order_type, symbol, "", fraction, delay_ms)
            )

    def plans_pending(self) -> int:
        """How many planned rejects and partial fills still wait for an order."""
        with self._lock:
            return sum(plan.remaining for plan in self._plans)

    def cancel_on_exchange(self, order_id: int, *, status: str = "CANCELED") -> ExchangeOrder:
        """Cancel (or with ``status="EXPIRED"`` expire) an open order from the exchange's side,
        as Binance does in maintenance or on self-trade prevention; the client is not told."""
        if status not in ("CANCELED", "EXPIRED"):
            raise ValueError("cancel_on_exchange: status must be CANCELED or EXPIRED")
        with self._lock:
            now = self.clock.now_ms()
            self.book.match(now)
            order = self.book.orders[order_id]
            if not order.is_open:
                raise ValueError(f"cancel_on_exchange: order {order_id} is {order.status}")
            self.book.close(order, now, status)
            order.cancelled_by_exchange = True
            return order

    def drop_candle(self, symbol: str, open_ms: int) -> None:
        """Leave the candle opening at ``open_ms`` out of every klines answer (a gap)."""
        with self._lock:
            self._dropped[symbol].add(int(open_ms))

    def delay_candle(self, symbol: str, open_ms: int, seconds: float) -> None:
        """Make the candle opening at ``open_ms`` appear ``seconds`` (sim) after it opens.

        Until then klines end with the previous candle, as when an exchange lags: the bot
        sees its newest closed candle one timeframe late.
        """
        with self._lock:
            self._delayed[symbol][int(open_ms)] = int(seconds * 1000)

    def next_candle_open_ms(self, after_ms: int | None = None) -> int:
        """Open time of the first candle boundary after ``after_ms`` (default: sim now)."""
        at = self.clock.now_ms() if after_ms is None else after_ms
        return (at // self.timeframe_ms + 1) * self.timeframe_ms

    # ----------------------------------------------------------------------------- log and book
    def requests_to(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        """Logged requests whose path starts with ``path`` (and with ``method`` if given)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path) and (method is None or r.method == method)
            ]

    def unhandled(self) -> list[LoggedRequest]:
        """Requests for routes the fake does not implement."""
        with self._lock:
            return [r for r in self.requests if r.unhandled]

    def balances(self) -> dict[str, tuple[float, float]]:
        """Live-mode balances: asset -> (free, locked), after matching open orders."""
        with self._lock:
            self.book.match(self.clock.now_ms())
            return {a: (float(f), float(lk)) for a, (f, lk) in self.book.balances.items()}

    def orders(self) -> list[ExchangeOrder]:
        """All orders placed on the exchange, oldest first, after matching."""
        with self._lock:
            self.book.match(self.clock.now_ms())
            return list(self.book.orders.values())

    def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Open orders (of ``symbol``), oldest first, after matching."""
        return [o for o in self.orders() if o.is_open and symbol in (None, o.symbol)]

    def stop_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        """Open stop orders (``STOP_LOSS_LIMIT``/``STOP_LOSS``) of ``symbol``, oldest first."""
        return [o for o in self.open_orders(symbol) if o.is_stop]

    def fills(self) -> list[dict[str, Any]]:
        """All trades (fills) in Binance's ``myTrades`` shape, oldest first."""
        with self._lock:
            return list(self.book.trades)

    # ----------------------------------------------------------------------------- HTTP plumbing
    def _handle(
        self, method: str, raw_path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path, query = split.path, split.query
        form = body.decode("utf-8", "replace") if body else ""
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(form, keep_blank_values=True))
        now = self.clock.now_ms()
        record = LoggedRequest(method, path, params, 200, now, time.time())
        fault = self._take_fault(method, path, params)
        record.fault = fault.describe() if fault is not None else None
        held = fault is not None and fault.kind == "stall"
        extra_headers: dict[str, str] = {}
        try:
            if held and fault is not None and not fault.execute_first:
                self._stopping.wait(fault.seconds)
            if fault is not None and fault.kind == "status":
                if fault.retry_after is not None:
                    extra_headers["Retry-After"] = f"{fault.retry_after:g}"
                if fault.status in (418, 429):
                    raise ExchangeError(fault.status, -1003, "Too many requests; injected fault")
                # A gateway-style failure without Binance's JSON error body.
                record.status, record.error = fault.status, "injected fault"
                with self._lock:
                    self.requests.append(record)
                return fault.status, {"Content-Type": "text/html"}, b"<html>injected fault</html>"
            route = self._routes.get((method, path))
            if route is None:
                record.unhandled = True
                raise ExchangeError(404, -1, f"replay exchange: no route {method} {path}")
            if path in _SIGNED_PATHS or (path.startswith("/sapi/") and "system/status" not in path):
                self._check_signature(headers, query if method in ("GET", "DELETE") else form)
            with self._lock:
                self.book.match(self.clock.now_ms())
                payload = route(params)
            status, data = 200, json.dumps(payload).encode()
        except ExchangeError as exc:
            status = exc.status
            record.error = exc.msg
            data = json.dumps({"code": exc.code, "msg": exc.msg}).encode()
        except Exception as exc:  # a bug in the fake: answer 500 and keep the message
            status = 500
            record.error = f"{type(exc).__name__}: {exc}"
            data = json.dumps({"code": -1000, "msg": record.error}).encode()
        record.status = status
        with self._lock:
            self.requests.append(record)
        if held and fault is not None and fault.execute_first:
            # Served and logged; the answer comes after the client has given up.
            self._stopping.wait(fault.seconds)
        return status, extra_headers, data

    def _take_fault(self, method: str, path: str, params: Mapping[str, str]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path, params):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return self.hook.fault(method, path, params) if self.hook is not None else None

    def _take_plan(self, symbol: str, params: Mapping[str, str]) -> OrderPlan | None:
        side, kind = params.get("side", "").upper(), params.get("type", "").upper()
        for plan in self._plans:
            if plan.remaining > 0 and plan.matches(side, kind, symbol):
                plan.remaining -= 1
                if plan.remaining == 0:
                    self._plans.remove(plan)
                return plan
        return self.hook.order_plan(symbol, params) if self.hook is not None else None

    def _check_signature(self, headers: Mapping[str, str], payload: str) -> None:
        if headers.get("X-MBX-APIKEY") != self.api_key:
            raise ExchangeError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        unsigned, sep, signature = payload.rpartition("&signature=")
        expected = hmac.new(self.api_secret.encode(), unsigned.encode(), hashlib.sha256)
        if not sep or not hmac.compare_digest(expected.hexdigest(), signature):
            raise ExchangeError(400, -1022, "Signature for this request is not valid.")

    def _market(self, params: Mapping[str, str]) -> Market:
        symbol_id = params.get("symbol", "")
        if symbol_id not in self._by_id:
            raise ExchangeError(400, -1121, "Invalid symbol.")
        return self._by_id[symbol_id]

    # ----------------------------------------------------------------------------- public
    def _symbol_info(self, market: Market) -> dict[str, Any]:
        return {
            "symbol": market.exchange_id,
            "status": "TRADING",
            "baseAsset": market.base,
            "baseAssetPrecision": 8,
            "quoteAsset": market.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": market.tick_size,
                    "maxPrice": "1000000.00000000",
                    "tickSize": market.tick_size,
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": market.step_size,
                    "maxQty": "9000.00000000",
                    "stepSize": market.step_size,
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": "0.00000000",
                    "maxQty": "100.00000000",
                    "stepSize": "0.00000000",
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": market.min_notional,
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _exchange_info(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": self.clock.now_ms(),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                },
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            ],
            "exchangeFilters": [],
            "symbols": [self._symbol_info(m) for m in self.markets.values()],
        }

    def _empty_exchange_info(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {"timezone": "UTC", "serverTime": self.clock.now_ms(), "symbols": []}

    def _visible_rows(self, symbol: str, now_ms: int) -> np.ndarray:
        """Native candles visible at ``now_ms``: [open_ms, o, h, l, c, v] rows, forming last."""
        series = self.candles[symbol]
        cutoff = now_ms
        for open_ms, delay_ms in self._delayed[symbol].items():
            if open_ms <= now_ms < open_ms + delay_ms:
                cutoff = min(cutoff, open_ms - 1)
        last = series.index_at(cutoff)
        if last < 0:
            return np.empty((0, 6))
        rows = np.column_stack(
            [series.open_ms[: last + 1].astype(np.float64), series.ohlcv[: last + 1]]
        )
        if now_ms < series.open_ms[last] + series.timeframe_ms:
            rows[-1, 1:] = series.forming(last, now_ms)
        if self._dropped[symbol]:
            keep = ~np.isin(series.open_ms[: last + 1], list(self._dropped[symbol]))
            rows = rows[keep]
        return rows

    def _klines(self, params: Mapping[str, str]) -> list[list[Any]]:
        market = self._market(params)
        interval = params.get("interval", "")
        interval_ms = _TIMEFRAME_MS.get(interval)
        if interval_ms is None or interval_ms % self.timeframe_ms:
            raise ExchangeError(400, -1120, "Invalid interval.")
        limit = min(int(params.get("limit", 500)), 1000)
        rows = self._visible_rows(market.symbol, self.clock.now_ms())
        if interval_ms != self.timeframe_ms and len(rows):
            rows = _resample(rows, interval_ms)
        opens = rows[:, 0]
        if "endTime" in params:
            rows = rows[opens <= int(params["endTime"])]
            opens = rows[:, 0]
        if "startTime" in params:
            rows = rows[opens >= int(params["startTime"])][:limit]
        else:
            rows = rows[-limit:]
        return [
            [
                int(r[0]),
                f"{r[1]:.8f}",
                f"{r[2]:.8f}",
                f"{r[3]:.8f}",
                f"{r[4]:.8f}",
                f"{r[5]:.8f}",
                int(r[0]) + interval_ms - 1,
                f"{r[5] * r[4]:.8f}",
                100,
                f"{r[5] / 2:.8f}",
                f"{r[5] * r[4] / 2:.8f}",
                "0",
            ]
            for r in rows
        ]

    def _bid_ask(self, market: Market, now_ms: int) -> tuple[Decimal, Decimal]:
        tick = Decimal(market.tick_size)
        price = self.candles[market.symbol].price_at(now_ms)
        bid = _round_to(price * (1 - self.spread / 2), tick)
        ask = max(_round_to(price * (1 + self.spread / 2), tick), bid)
        return bid, ask

    def _ticker(self, market: Market) -> dict[str, Any]:
        now = self.clock.now_ms()
        series = self.candles[market.symbol]
        tick = Decimal(market.tick_size)
        day_ago = now - 24 * HOUR_MS
        low, high = series.extremes(day_ago, now)
        first, last = max(series.index_at(day_ago), 0), series.index_at(now)
        volume = float(series.ohlcv[first : last + 1, 4].sum())
        bid, ask = self._bid_ask(market, now)
        last_price = _round_to(series.price_at(now), tick)
        open_price = _round_to(series.price_at(day_ago), tick)
        return {
            "symbol": market.exchange_id,
            "priceChange": _fmt(last_price - open_price),
            "priceChangePercent": f"{(last_price / open_price - 1) * 100:.3f}",
            "weightedAvgPrice": _fmt(last_price),
            "prevClosePrice": _fmt(open_price),
            "lastPrice": _fmt(last_price),
            "lastQty": "0.01000000",
            "bidPrice": _fmt(bid),
            "bidQty": "10.00000000",
            "askPrice": _fmt(ask),
            "askQty": "10.00000000",
            "openPrice": _fmt(open_price),
            "highPrice": _fmt(_round_to(high, tick)),
            "lowPrice": _fmt(_round_to(low, tick)),
            "volume": f"{volume:.8f}",
            "quoteVolume": f"{volume * float(last_price):.8f}",
            "openTime": day_ago,
            "closeTime": now,
            "firstId": 1,
            "lastId": 1000,
            "count": 1000,
        }

    def _ticker_24hr(self, params: Mapping[str, str]) -> Any:
        if "symbol" in params:
            return self._ticker(self._market(params))
        return [self._ticker(market) for market in self.markets.values()]

    def _ticker_price(self, params: Mapping[str, str]) -> Any:
        def one(market: Market) -> dict[str, str]:
            return {"symbol": market.exchange_id, "price": f"{self.price(market.symbol):.8f}"}

        if "symbol" in params:
            return one(self._market(params))
        return [one(market) for market in self.markets.values()]

    def _book_ticker(self, params: Mapping[str, str]) -> Any:
        def one(market: Market) -> dict[str, str]:
            bid, ask = self._bid_ask(market, self.clock.now_ms())
            return {
                "symbol": market.exchange_id,
                "bidPrice": _fmt(bid),
                "bidQty": "10.00000000",
                "askPrice": _fmt(ask),
                "askQty": "10.00000000",
            }

        if "symbol" in params:
            return one(self._market(params))
        return [one(market) for market in self.markets.values()]

    def _depth(self, params: Mapping[str, str]) -> dict[str, Any]:
        market = self._market(params)
        limit = min(int(params.get("limit", 100)), 5000)
        bid, ask = self._bid_ask(market, self.clock.now_ms())
        tick = Decimal(market.tick_size)
        step = max(tick, _round_to(float(bid) * 0.0001, tick))
        # About 50 000 quote units per level: deep enough for any test stake.
        qty = (Decimal(50_000) / ask).quantize(Decimal(market.step_size), ROUND_DOWN)
        return {
            "lastUpdateId": self.clock.now_ms(),
            "bids": [[_fmt(bid - i * step), _fmt(qty)] for i in range(limit)],
            "asks": [[_fmt(ask + i * step), _fmt(qty)] for i in range(limit)],
        }

    # ----------------------------------------------------------------------------- account
    def _account(self, params: Mapping[str, str]) -> dict[str, Any]:
        rate = _fmt(self.fee)
        return {
            "makerCommission": int(self.fee * 10_000),
            "takerCommission": int(self.fee * 10_000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": rate, "taker": rate, "buyer": "0", "seller": "0"},
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.clock.now_ms(),
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": _fmt(free), "locked": _fmt(locked)}
                for asset, (free, locked) in sorted(self.book.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 4242,
        }

    def _currencies(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        markets = self.markets.values()
        assets = sorted({m.base for m in markets} | {m.quote for m in markets})
        return [
            {
                "coin": asset,
                "name": asset,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "free": "0",
                "locked": "0",
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [
                    {
                        "network": asset,
                        "coin": asset,
                        "withdrawIntegerMultiple": "0.00000001",
                        "isDefault": True,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "depositDesc": "",
                        "withdrawDesc": "",
                        "name": asset,
                        "resetAddressStatus": False,
                        "withdrawFee": "0.0001",
                        "withdrawMin": "0.001",
                        "withdrawMax": "10000",
                        "minConfirm": 1,
                        "unLockConfirm": 1,
                        "sameAddress": False,
                        "busy": False,
                    }
                ],
            }
            for asset in assets
        ]

    def _trade_fees(self, params: Mapping[str, str]) -> list[dict[str, str]]:
        return [
            {
                "symbol": m.exchange_id,
                "makerCommission": _fmt(self.fee),
                "takerCommission": _fmt(self.fee),
            }
            for m in self.markets.values()
        ]

    # ----------------------------------------------------------------------------- orders
    def _create_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        market = self._market(params)
        plan = self._take_plan(market.symbol, params)
        order = self.book.place(market, params, self.clock.now_ms(), plan)
        answer = order.as_binance()
        answer.pop("time")
        answer["transactTime"] = order.created_ms
        answer["fills"] = list(order.fills)
        return answer

    def _get_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self.book.find(self._market(params), params).as_binance()

    def _cancel_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        market = self._market(params)
        try:
            order = self.book.find(market, params)
        except ExchangeError as exc:
            raise ExchangeError(400, -2011, "Unknown order sent.") from exc
        if not order.is_open:
            raise ExchangeError(400, -2011, "Unknown order sent.")
        self.book.close(order, self.clock.now_ms())
        answer = order.as_binance()
        answer["origClientOrderId"] = order.client_order_id
        answer["transactTime"] = order.updated_ms
        return answer

    def _open_orders(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        market = self._market(params) if "symbol" in params else None
        return [
            o.as_binance()
            for o in self.book.orders.values()
            if o.is_open and (market is None or o.market == market)
        ]

    def _all_orders(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        market = self._market(params)
        orders = [o for o in self.book.orders.values() if o.market == market]
        if "orderId" in params:
            orders = [o for o in orders if o.order_id >= int(params["orderId"])]
        if "startTime" in params:
            orders = [o for o in orders if o.created_ms >= int(params["startTime"])]
        if "endTime" in params:
            orders = [o for o in orders if o.created_ms <= int(params["endTime"])]
        return [o.as_binance() for o in orders[: min(int(params.get("limit", 500)), 1000)]]

    def _my_trades(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        market = self._market(params)
        trades = [t for t in self.book.trades if t["symbol"] == market.exchange_id]
        if "orderId" in params:
            trades = [t for t in trades if t["orderId"] == int(params["orderId"])]
        if "fromId" in params:
            trades = [t for t in trades if t["id"] >= int(params["fromId"])]
        if "startTime" in params:
            trades = [t for t in trades if t["time"] >= int(params["startTime"])]
        if "endTime" in params:
            trades = [t for t in trades if t["time"] <= int(params["endTime"])]
        return trades[: min(int(params.get("limit", 500)), 1000)]


def _resample(rows: np.ndarray, interval_ms: int) -> np.ndarray:
    """Aggregate native [open_ms, o, h, l, c, v] rows into ``interval_ms`` buckets."""
    buckets = (rows[:, 0].astype(np.int64) // interval_ms) * interval_ms
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(rows)] - 1
    return np.column_stack(
        [
            buckets[starts].astype(np.float64),
            rows[starts, 1],
            np.maximum.reduceat(rows[:, 2], starts),
            np.minimum.reduceat(rows[:, 3], starts),
            rows[ends, 4],
            np.add.reduceat(rows[:, 5], starts),
        ]
    )


_CCXT_URLS: dict[str, Any] = {}


def _ccxt_binance_api_urls() -> dict[str, Any]:
    """ccxt.pro's binance ``urls["api"]`` (REST sections plus websockets), read once."""
    if not _CCXT_URLS:
        import ccxt.pro

        _CCXT_URLS.update(ccxt.pro.binance().describe()["urls"]["api"])
    return _CCXT_URLS


def _rewrite_hosts(urls: Mapping[str, Any], base: str) -> dict[str, Any]:
    """Replace scheme and host of every URL (nested dicts too) with ``base``, keeping paths."""
    rewritten: dict[str, Any] = {}
    for key, value in urls.items():
        if isinstance(value, Mapping):
            rewritten[key] = _rewrite_hosts(value, base)
        elif isinstance(value, str) and "://" in value:
            path = urlsplit(value).path
            scheme_base = base.replace("http://", "ws://") if value.startswith("ws") else base
            rewritten[key] = scheme_base + path
        else:
            rewritten[key] = value
    return rewritten
