"""What the sizing pane reads, run from its workers: markets, remembered form, account, mark and funding,
ATR. No Textual here. Blocking calls (SQLite, the demo market's numpy) go to threads; a ccxt source is
awaited on the app's loop. Live reads fall back to the cache when the exchange is unreachable or the app
is offline, and say so (``MarketSnapshot.cached``)."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import PerptuiError
from perptui.ui.panes.sizing import memory
from perptui.ui.panes.sizing.model import FormState
from perptui.ui.reads import deadline, read_markets, source_of

if TYPE_CHECKING:
    from perptui.domain.account import AccountSummary
    from perptui.domain.types import Market
    from perptui.services.live_or_cache import Deadline
    from perptui.services.marketdata import MarketData
    from perptui.services.sizing_inputs import AtrReading, MarketSnapshot
    from perptui.ui.context import AppContext


@dataclass(frozen=True, slots=True)
class Setup:
    """Read once, on the pane's first poll."""

    markets: dict[str, Market]
    remembered: memory.Remembered
    markets_cached: bool
    markets_error: str = ""


@dataclass(frozen=True, slots=True)
class Polled:
    setup: Setup | None
    symbol: str | None
    summary: AccountSummary | None
    account_error: str
    snapshot: MarketSnapshot | None
    snapshot_error: str
    #: The paper account's circuit breaker when tripped (new orders refused), said before any order.
    breaker_tripped: str = ""


async def setup(ctx: AppContext, source: MarketData | None, within: Deadline | None = None) -> Setup:
    store = await asyncio.to_thread(ctx.store)
    remembered = await asyncio.to_thread(memory.load, store, ctx.exchange_name)
    markets, cached, error = await read_markets(ctx, source, ctx.exchange_name, within)
    return Setup({m.symbol: m for m in markets}, remembered, markets_cached=cached, markets_error=error)


def choose_symbol(wanted: str, recent: tuple[str, ...], markets: dict[str, Market]) -> str | None:
    """The symbol to show: the one asked for, else the most recent, else the first BTC-like market."""
    for symbol in (wanted, *recent):
        if symbol in markets:
            return symbol
    if not markets:
        return None
    ms = list(markets.values())
    return min(
        ms,
        key=lambda m: (not m.base.upper().startswith("BTC"), m.settle != "USDT", len(m.base), m.symbol),
    ).symbol


async def read_summary(ctx: AppContext) -> tuple[AccountSummary | None, str]:
    try:
        account = await asyncio.to_thread(ctx.account)
        if ctx.read_only:
            result: Any = account.summary()
            return (await result if inspect.isawaitable(result) else result), ""
        return await asyncio.to_thread(account.summary), ""
    except PerptuiError as exc:
        return None, f"the account is not readable: {exc}"


async def read_snapshot(
    ctx: AppContext, source: MarketData | None, market: Market, within: Deadline | None = None
) -> tuple[MarketSnapshot | None, str]:
    """The perp's mark and funding through ``sizing_service`` (as ``perptui size``): live within the
    deadline, else the cache, with why the exchange was not used ("" when live or offline)."""
    from perptui.services.sizing_service import read_snapshot as read

    store = await asyncio.to_thread(ctx.store)
    now = ctx.clock.now_ms()
    found = await read(
        source,
        store,
        ctx.exchange_name,
        market,
        now,
        within or deadline(ctx),
        fall_back_on=PerptuiError,
    )
    reason = found.freshness.reason
    return found.snapshot, "" if reason in ("", "offline") else reason


async def exchange_tiers(
    ctx: AppContext, source: MarketData | None, market: Market, within: Deadline
) -> Market:
    """The market with the exchange's own brackets where it was loaded with the approximate ladder."""
    from perptui.services.clock import SystemClock
    from perptui.services.sizing_service import with_exchange_tiers

    store = await asyncio.to_thread(ctx.store)
    return await with_exchange_tiers(source, store, ctx.exchange_name, market, SystemClock().now_ms(), within)


async def poll(ctx: AppContext, wanted: str, recent: tuple[str, ...], first: Setup | None) -> Polled:
    """One refresh: setup on the first call (``first`` None), then the account and the market's snapshot."""
    source = await source_of(ctx)
    within = deadline(ctx)
    setup_now = await setup(ctx, source, within) if first is None else None
    known = setup_now or first
    assert known is not None
    if setup_now is not None and not wanted and setup_now.remembered.form is not None:
        wanted = setup_now.remembered.form.symbol
    symbol = choose_symbol(wanted, setup_now.remembered.recent if setup_now else recent, known.markets)
    summary, account_error = await read_summary(ctx)
    snapshot, snapshot_error = (None, "")
    if symbol is not None:
        known.markets[symbol] = await exchange_tiers(ctx, source, known.markets[symbol], within)
        snapshot, snapshot_error = await read_snapshot(ctx, source, known.markets[symbol], within)
    tripped = await asyncio.to_thread(breaker_tripped, ctx, summary)
    return Polled(setup_now, symbol, summary, account_error, snapshot, snapshot_error, tripped)


def breaker_tripped(ctx: AppContext, summary: AccountSummary | None) -> str:
    """ "circuit breaker TRIPPED until …: reason" while the paper account's breaker refuses new orders,
    else "". Blocking (one read of the breaker log)."""
    if ctx.read_only or summary is None:
        return ""
    from perptui.presentation.risk import breaker_text
    from perptui.services.paper.breaker import breaker_now

    state = breaker_now(ctx.store(), summary.account, ctx.clock.now_ms())
    return breaker_text(state) if state.tripped else ""


async def atr(ctx: AppContext, market: Market) -> AtrReading:
    """The ATR of the market's candles, topped up from the source first within the deadline (the cache
    alone when offline or when the source fails), through ``sizing_service`` as ``perptui size``."""
    from perptui.services.sizing_service import read_atr_live_or_cached

    source = await source_of(ctx)
    store = await asyncio.to_thread(ctx.store)
    s = ctx.settings.sizing
    found = await read_atr_live_or_cached(
        store,
        ctx.exchange_name,
        market,
        s.atr_timeframe,
        s.atr_period,
        ctx.clock.now_ms(),
        deadline(ctx),
        source=source,
        clock=ctx.clock,
        fall_back_on=PerptuiError,
    )
    return found.reading


def save(ctx: AppContext, recent: tuple[str, ...], form: FormState) -> None:
    """Remember the recent symbols and the form (call from a thread)."""
    memory.save(ctx.store(), ctx.exchange_name, recent, form, ctx.clock.now_ms())
