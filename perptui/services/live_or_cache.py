"""Live, else the cache, within a deadline: what every read of market data shares.

A command (or one refresh of a pane) gets one ``Deadline`` (``network.deadline_s``). Each live read runs
within what is left of it; when the exchange fails (``ExchangeUnavailable``: unreachable, busy, unreadable,
after the adapter's retries) or the deadline passes (a silent server), the cache stands in and a
``Freshness`` says so, why, and how old the cached data is. The markets are the first such read
(``read_markets``); the scanner's (``scan_service``) and the sizing calculator's (``sizing_service``)
reads are built on the same pieces, used by the CLI and the panes alike.

SQLite runs in threads (``asyncio.to_thread``), so an app's loop is never held up by the store; the demo
market computes in Python, so its calls run in a thread of their own (``on_source``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from perptui.domain.errors import ExchangeUnavailable, PerptuiError
from perptui.services.clock import SystemClock

if TYPE_CHECKING:
    from perptui.domain.types import Market
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store

T = TypeVar("T")


class DeadlinePassed(ExchangeUnavailable):
    """The exchange did not answer within the command's deadline (a silent or very slow server)."""


class Deadline:
    """The time one command may wait for an exchange, started when it is made."""

    def __init__(self, seconds: float, exchange: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = float(seconds)
        self.exchange = exchange
        self._clock = clock
        self._end = clock() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def passed_error(self) -> DeadlinePassed:
        return DeadlinePassed(f"{self.exchange} did not answer within the {self.seconds:g} s deadline")

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` within what is left; DeadlinePassed when it runs out first."""
        left = self.remaining()
        if left <= 0:
            raise self.passed_error()
        try:
            async with asyncio.timeout(left) as scope:
                return await call()
        except TimeoutError:
            if scope.expired():
                raise self.passed_error() from None
            raise

    async def run_while_progressing(
        self, call: Callable[[Callable[[], None]], Awaitable[T]], window_s: float | None = None
    ) -> T:
        """``call(progressed)`` for work that may take long but keeps moving (a history backfill): it is
        stopped (DeadlinePassed) only after ``window_s`` (default: the deadline's length) without a call
        to ``progressed``."""
        window = self.seconds if window_s is None else window_s
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(window) as scope:

                def progressed() -> None:
                    scope.reschedule(loop.time() + window)

                return await call(progressed)
        except TimeoutError:
            if scope.expired():
                raise DeadlinePassed(f"{self.exchange} sent nothing for {window:g} s") from None
            raise


@dataclass(frozen=True, slots=True)
class Freshness:
    """Where a command's market data came from: the exchange just now, or the cache (why, how old)."""

    live: bool
    reason: str = ""  # why the cache stands in ("offline", "binanceusdm is unreachable (...)")
    age_ms: int | None = None  # age of the cached data; None when live or nothing is cached

    @classmethod
    def fresh(cls) -> Freshness:
        return cls(True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": "live" if self.live else "cache",
            "reason": self.reason or None,
            "cache_age_s": None if self.age_ms is None else round(self.age_ms / 1000, 3),
        }


def unreachable_reason(exchange: str, exc: BaseException) -> str:
    if isinstance(exc, DeadlinePassed):
        return str(exc)
    return f"{exchange} is unreachable ({exc})"


async def on_source(source: MarketData, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``call`` against the source: the demo market computes in Python, so in a thread of its own."""
    if source.is_demo:
        return await asyncio.to_thread(lambda: asyncio.run(call()))
    return await call()


@dataclass(frozen=True, slots=True)
class MarketsRead:
    markets: list[Market]
    freshness: Freshness
    #: The exchange's error when it failed, to re-raise when the cache holds nothing either.
    error: PerptuiError | None = None

    def require(self, store: Store, exchange: str) -> list[Market]:
        """The markets, or the error that says the exchange failed and the cache holds none."""
        if self.markets:
            return self.markets
        if self.error is None:
            raise PerptuiError(
                f"the cache holds no markets for {exchange}; run 'perptui markets --exchange {exchange}' "
                "online once first"
            )
        raise ExchangeUnavailable(f"{self.error}; the cache holds no markets for {exchange} yet")


async def cached_markets(store: Store, exchange: str, now: int, reason: str) -> MarketsRead:
    markets = await asyncio.to_thread(store.load_markets, exchange)
    age = await asyncio.to_thread(store.cache_age_ms, exchange, "markets", now)
    return MarketsRead(markets, Freshness(False, reason, age if markets else None))


async def read_markets(
    source: MarketData | None,
    store: Store,
    exchange: str,
    deadline: Deadline,
    *,
    now: int | None = None,
    fall_back_on: type[PerptuiError] = ExchangeUnavailable,
) -> MarketsRead:
    """The exchange's markets (stored in the cache) within the deadline, else the cached ones, with why.

    By default only an exchange that failed transiently (ExchangeUnavailable, the deadline) falls back to
    the cache, and any other error (a refusal, a bad setting) goes up; a pane, which must show something,
    passes ``fall_back_on=PerptuiError``. ``now`` is the cache's clock (wall time)."""
    stamp = SystemClock().now_ms() if now is None else now
    if source is None:
        return await cached_markets(store, exchange, stamp, "offline")
    try:
        markets = await deadline.run(lambda: on_source(source, source.load_markets))
    except fall_back_on as exc:
        read = await cached_markets(store, exchange, stamp, unreachable_reason(exchange, exc))
        return MarketsRead(read.markets, read.freshness, exc)
    await asyncio.to_thread(store.upsert_markets, exchange, markets, stamp)
    return MarketsRead(markets, Freshness.fresh())
