"""Resumable backfill of funding and OHLCV history from any MarketData source into the Store.

How it resumes. The store keeps, per series, the time ranges known complete (``Store.coverage``).
A backfill of [since, until) fetches only the gaps in those ranges, oldest first, page by page
(each page starts 1 ms after the last time returned). Every page is written in its own transaction
together with the coverage it proves, so killing the process at any moment (Ctrl-C, SIGKILL) loses at
most the page in flight, and a rerun fetches exactly what is missing: after the newest stored row,
before the oldest when ``since`` asks for older data, and any hole left by an interrupted older fill.
A series whose rows were stored without coverage (written by other code) counts as covered from its
oldest to its newest row, i.e. it resumes after the newest stored row.

It stops at ``until`` or when a page brings nothing at or after the cursor, so a source that keeps
returning the same page (or ignores ``since``) ends the loop instead of spinning.

Coverage is only what a page proves. A page whose first row is further from the cursor than one and a
half steps (the bar length, or the spacing of the prints seen; the half allows for prints a few
milliseconds late) did not start at the cursor: an exchange that
served the newest page of a longer window, or a market listed later. Only ``[first, last]`` is then
recorded; the hole before it is asked for again by the next backfill (and recorded empty once an
answer for just that span brings nothing).

The open bar. ``fetch_ohlcv`` returns the still-forming current bar too. It is stored (the TUI wants
the live bar) but not counted as covered: a bar is final only once ``open time + timeframe`` is a
minute (``CLOSE_MARGIN_MS``, for clock skew) behind the clock read before the page was requested.
The next backfill therefore starts at that bar again and the upsert overwrites it with its final
values. Funding prints are settled values, final when returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypeVar

from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Candle, FundingPrint
from perptui.services.clock import Clock, SystemClock
from perptui.services.marketdata import MarketData

if TYPE_CHECKING:
    from perptui.services.store import Store

Progress = Callable[[int, int], None]
R = TypeVar("R")

#: A bar counts as closed once its close time is this far behind the clock (exchange clock skew).
CLOSE_MARGIN_MS = 60_000


async def backfill_funding(
    source: MarketData,
    store: Store,
    symbol: str,
    since: int,
    until: int | None,
    on_progress: Progress | None = None,
    *,
    clock: Clock | None = None,
    limit: int | None = None,
    offload: bool = False,
) -> int:
    """Fetch settled funding prints of ``symbol`` in [since, until) that the store lacks; rows added.

    ``on_progress(rows_added_so_far, cursor_ms)`` is called after each page is stored. ``offload``: the
    store's reads and writes run in a thread (``asyncio.to_thread``), so a caller on the app's event
    loop is not held up by SQLite.
    """

    async def fetch(cursor: int, end: int | None) -> list[FundingPrint]:
        page = await source.fetch_funding_history(symbol, cursor, end, limit)
        return [p if p.symbol == symbol else FundingPrint(symbol, p.time, p.rate) for p in page]

    def write(rows: list[FundingPrint], fetched_at: int) -> int:
        return store.upsert_funding(source.name, rows, fetched_at=fetched_at)

    return await _backfill(
        source, store, "funding", symbol, "", 0, since, until, fetch, write, on_progress, clock, offload
    )


async def backfill_ohlcv(
    source: MarketData,
    store: Store,
    symbol: str,
    timeframe: str,
    since: int,
    until: int | None,
    on_progress: Progress | None = None,
    *,
    clock: Clock | None = None,
    limit: int | None = None,
    offload: bool = False,
) -> int:
    """Fetch ``timeframe`` bars of ``symbol`` (perp or spot) with open time in [since, until); rows added.

    The open bar is stored but refetched next time (see the module docstring). ``offload`` as for
    ``backfill_funding``.
    """
    tf_ms = timeframe_ms(timeframe)

    async def fetch(cursor: int, end: int | None) -> list[Candle]:
        return await source.fetch_ohlcv(symbol, timeframe, cursor, end, limit)

    def write(rows: list[Candle], fetched_at: int) -> int:
        return store.upsert_ohlcv(source.name, symbol, timeframe, rows, fetched_at=fetched_at)

    return await _backfill(
        source, store, "ohlcv", symbol, timeframe, tf_ms, since, until, fetch, write, on_progress, clock,
        offload,
    )  # fmt: skip


async def _backfill(
    source: MarketData,
    store: Store,
    kind: str,
    symbol: str,
    timeframe: str,
    tf_ms: int,
    since: int,
    until: int | None,
    fetch: Callable[[int, int | None], Awaitable[list]],
    write: Callable[[list, int], int],
    on_progress: Progress | None,
    clock: Clock | None,
    offload: bool = False,
) -> int:
    exchange = source.name
    # The demo market runs on its own (possibly frozen) clock; an exchange on the system's.
    clock = clock or getattr(source, "clock", None) or SystemClock()
    if until is not None and until <= since:
        return 0

    async def io(fn: Callable[..., R], *args: Any) -> R:
        """The store's work: in a thread with ``offload`` (the caller's loop keeps running), else inline."""
        return await asyncio.to_thread(fn, *args) if offload else fn(*args)

    def gaps() -> list[tuple[int, int | None]]:
        _seed_coverage(store, exchange, kind, symbol, timeframe, tf_ms)
        return store.missing(exchange, kind, symbol, timeframe, since, until)

    def nothing_in(cursor: int, end: int | None, fetched_at: int) -> None:
        # Nothing in [cursor, end): final knowledge only when that whole range is in the past.
        with store.transaction():
            if end is not None and end + tf_ms + _margin(tf_ms) <= fetched_at:
                store.add_coverage(exchange, kind, symbol, timeframe, cursor, end)
            store.mark_fetched(exchange, kind, fetched_at)

    def store_page(rows: list, fetched_at: int, cursor: int, covered_to: int) -> int:
        with store.transaction():
            n = write(rows, fetched_at)
            store.add_coverage(exchange, kind, symbol, timeframe, cursor, covered_to)
        return n

    added = 0
    step = tf_ms  # funding: learnt from the prints' spacing
    for start, end in await io(gaps):
        cursor = start
        while end is None or cursor < end:
            fetched_at = clock.now_ms()
            # Open-ended: nothing exists after the clock's now, so the source is asked up to it (a venue
            # that pages in windows stops there instead of walking on to the exchange's own clock).
            page = await fetch(cursor, end if end is not None else fetched_at + 1)
            fresh = sorted((r for r in page if r.time >= cursor and (end is None or r.time < end)), key=_time)
            if not fresh:
                await io(nothing_in, cursor, end, fetched_at)
                break
            first, last = fresh[0].time, fresh[-1].time
            step = max(step, _spacing(fresh))
            covered_from = cursor if first - cursor < step * 3 // 2 else first
            final = last + tf_ms + _margin(tf_ms) <= fetched_at
            added += await io(store_page, fresh, fetched_at, covered_from, last + 1 if final else last)
            cursor = last + 1
            if on_progress is not None:
                on_progress(added, cursor)
            if not final:
                break  # the open bar: nothing after it exists yet
    return added


def _time(row: FundingPrint | Candle) -> int:
    return row.time


def _spacing(rows: list) -> int:
    """The smallest gap between consecutive rows of a page (0 for a single row)."""
    gaps = [b.time - a.time for a, b in pairwise(rows) if b.time > a.time]
    return min(gaps, default=0)


def _margin(tf_ms: int) -> int:
    return CLOSE_MARGIN_MS if tf_ms else 0


def _seed_coverage(store: Store, exchange: str, kind: str, symbol: str, timeframe: str, tf_ms: int) -> None:
    """Rows stored without coverage (by other code) count as covered from the oldest to the newest."""
    if store.coverage(exchange, kind, symbol, timeframe):
        return
    bounds = store.funding_bounds(exchange, symbol) if kind == "funding" else None
    if kind == "ohlcv":
        bounds = store.ohlcv_bounds(exchange, symbol, timeframe)
    if bounds is not None:
        oldest, newest = bounds
        # The newest bar may have been stored while open: leave it to be refetched.
        store.add_coverage(exchange, kind, symbol, timeframe, oldest, newest if tf_ms else newest + 1)
