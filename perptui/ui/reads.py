"""Reads every pane's workers share: the market source (None when offline), calls against it, and the
exchange's markets with the cache as the fallback. No Textual here. The demo market computes in Python,
so its calls run in a thread of their own; a ccxt source is awaited on the app's loop; SQLite in threads.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from perptui.domain.errors import PerptuiError
from perptui.services.live_or_cache import on_source

__all__ = ["deadline", "on_source", "read_markets", "source_of"]

if TYPE_CHECKING:
    from perptui.domain.types import Market
    from perptui.services.live_or_cache import Deadline
    from perptui.services.marketdata import MarketData
    from perptui.ui.context import AppContext


async def source_of(ctx: AppContext) -> MarketData | None:
    """The market source, or None when offline (the cache is all there is)."""
    if ctx.settings.offline:
        return None
    return await asyncio.to_thread(ctx.source)


def deadline(ctx: AppContext, exchange: str | None = None) -> Deadline:
    """One refresh's deadline for the exchange's answers (``network.deadline_s``), starting now."""
    from perptui.services.live_or_cache import Deadline

    return Deadline(ctx.settings.network.deadline_s, exchange or ctx.exchange_name)


async def read_markets(
    ctx: AppContext, source: MarketData | None, exchange: str, within: Deadline | None = None
) -> tuple[list[Market], bool, str]:
    """``(markets, from_cache, error)``: the exchange's markets (stored in the cache) within the
    deadline, else the cached ones with why the exchange was not used ("" when offline)."""
    from perptui.services.live_or_cache import read_markets as read

    store = await asyncio.to_thread(ctx.store)
    found = await read(
        source,
        store,
        exchange,
        within or deadline(ctx, exchange),
        now=ctx.clock.now_ms(),
        fall_back_on=PerptuiError,
    )
    error = "" if found.error is None else str(found.error)
    return found.markets, not found.freshness.live, error
