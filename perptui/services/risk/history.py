"""Daily closes of the held assets: read from the cache, and the missing ones fetched from the source.

Only CLOSED daily bars count (open time + 1 day at or before the day start of ``now`` less a minute of
clock skew): the still-forming bar would put a partial day among full ones. ``fetch_missing`` fills
the last ``FETCH_DAYS`` (400: a year of returns for VaR with room for gaps) with the network on the
caller's event loop and every SQLite read and write in a thread (``asyncio.to_thread``); each page is
written with the coverage it proves in one transaction, as ``services.backfill`` does, so a symbol
listed less than 400 days ago is not asked for again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from perptui.domain.account import DAY_MS, day_start
from perptui.services.backfill import CLOSE_MARGIN_MS

if TYPE_CHECKING:
    from perptui.domain.types import Candle
    from perptui.services.marketdata import MarketData
    from perptui.services.risk.context import RiskContext
    from perptui.services.store import Store

TIMEFRAME = "1d"
FETCH_DAYS = 400
#: Returns replayed for historical VaR and fitted for the volatility forecasts.
RETURN_DAYS = 365


def closed_until(now: int) -> int:
    """Bars opened before this are closed (a minute of clock skew allowed)."""
    return day_start(now - CLOSE_MARGIN_MS)


def daily_closes(
    store: Store, exchange: str, symbols: Iterable[str], now: int
) -> dict[str, list[tuple[int, float]]]:
    """(open time, close) of each symbol's closed daily bars of the last ``RETURN_DAYS + 1`` days."""
    until = closed_until(now)
    since = until - (RETURN_DAYS + 1) * DAY_MS
    return {
        s: [(c.time, c.close) for c in store.load_ohlcv(exchange, s, TIMEFRAME, since, until)]
        for s in sorted(set(symbols))
    }


def _gaps(store: Store, exchange: str, symbol: str, now: int) -> list[tuple[int, int]]:
    until = closed_until(now)
    missing = store.missing(exchange, "ohlcv", symbol, TIMEFRAME, until - FETCH_DAYS * DAY_MS, until)
    return [(a, b if b is not None else until) for a, b in missing]


def _write(store: Store, exchange: str, symbol: str, rows: list[Candle], start: int, end: int) -> None:
    with store.transaction():
        if rows:
            store.upsert_ohlcv(exchange, symbol, TIMEFRAME, rows, fetched_at=None)
        store.add_coverage(exchange, "ohlcv", symbol, TIMEFRAME, start, end)


async def fetch_missing(ctx: RiskContext, source: MarketData, symbols: Iterable[str]) -> int:
    """Fetch the closed daily bars of ``symbols`` the cache lacks (last 400 days); bars added. A symbol
    found complete is not checked again until the next UTC day."""
    now = ctx.now()
    until = closed_until(now)
    added = 0
    for symbol in sorted(set(symbols)):
        if ctx.history_checked.get(symbol) == until:
            continue
        for start, end in await asyncio.to_thread(_gaps, ctx.store, ctx.exchange, symbol, now):
            cursor = start
            while cursor < end:
                page = await source.fetch_ohlcv(symbol, TIMEFRAME, cursor, end, None)
                fresh = sorted((c for c in page if cursor <= c.time < end), key=lambda c: c.time)
                # Past the last bar, or the last possible bar reached: [cursor, stop) is complete.
                stop = fresh[-1].time + 1 if fresh and fresh[-1].time + DAY_MS < end else end
                await asyncio.to_thread(_write, ctx.store, ctx.exchange, symbol, fresh, cursor, stop)
                added += len(fresh)
                cursor = stop
        ctx.history_checked = {**ctx.history_checked, symbol: until}
    return added
