"""Reads every pane's workers share: the market source (None when offline), calls against it, and the
exchange's markets with the cache as the fallback. No Textual here. The demo market computes in Python,
so its calls run in a thread of their own; a ccxt source is awaited on the app's loop; SQLite in threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from perptui.domain.errors import PerptuiError

if TYPE_CHECKING:
    from perptui.domain.types import Market
    from perptui.services.marketdata import MarketData
    from perptui.ui.context import AppContext

T = TypeVar("T")


async def on_source(source: MarketData, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` against the source: the demo market computes in Python, so in a thread of its own."""
    if source.is_demo:
        return await asyncio.to_thread(lambda: asyncio.run(call()))  # type: ignore[arg-type]
    return await call()


async def source_of(ctx: AppContext) -> MarketData | None:
    """The market source, or None when offline (the cache is all there is)."""
    if ctx.settings.offline:
        return None
    return await asyncio.to_thread(ctx.source)


async def read_markets(
    ctx: AppContext, source: MarketData | None, exchange: str
) -> tuple[list[Market], bool, str]:
    """``(markets, from_cache, error)``: the exchange's markets (stored in the cache), else the cached
    ones with why the exchange was not used ("" when offline)."""
    store = await asyncio.to_thread(ctx.store)
    error = ""
    if source is not None:
        try:
            markets = await on_source(source, source.load_markets)
        except PerptuiError as exc:
            error = str(exc)
        else:
            await asyncio.to_thread(store.upsert_markets, exchange, markets, ctx.clock.now_ms())
            return markets, False, ""
    return await asyncio.to_thread(store.load_markets, exchange), True, error
