"""What the scanner pane reads, run from its workers: one poll (the perps, the remembered view, one
scan, live else the cache, and the other exchanges' rates for the cross-exchange view), the history
backfill, and one perp's prints for the side panel. No Textual here. Network calls are awaited on the
app's loop (the demo market computes, so it runs in a thread of its own); SQLite and the statistics run
in threads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perptui.domain.errors import PerptuiError
from perptui.ui.panes.scanner import memory
from perptui.ui.reads import deadline, on_source, read_markets, source_of

if TYPE_CHECKING:
    from perptui.domain.scanner import CarryCosts, ScanRow
    from perptui.domain.types import FundingRate, Market, Ticker
    from perptui.services.live_or_cache import Deadline
    from perptui.services.marketdata import MarketData
    from perptui.services.scan import BackfillProgress, BackfillReport, ExchangeScan
    from perptui.ui.context import AppContext

HISTORY_DAYS = 90
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Perps:
    """The exchange's linear perps, from the exchange or (offline, unreachable) the cache."""

    markets: list[Market]
    cached: bool
    error: str = ""


@dataclass(frozen=True, slots=True)
class Scanned:
    scan: ExchangeScan
    #: The fetched rates and tickers (live scans), kept to recompute the statistics after a backfill
    #: without asking the exchange again.
    fetched: tuple[dict[str, FundingRate], dict[str, Ticker]] | None
    error: str = ""  # why the cache stands in, when it does


@dataclass(frozen=True, slots=True)
class Poll:
    perps: Perps
    view: memory.ScanView | None  # read on the first poll only
    scanned: Scanned
    others: list[ExchangeScan] = field(default_factory=list)
    other_notes: list[str] = field(default_factory=list)


async def poll(
    ctx: AppContext, known: Perps | None, view: memory.ScanView, *, view_loaded: bool, costs: CarryCosts
) -> Poll:
    """The perps (``known`` again unless they came from the cache and the exchange answers now), the
    remembered view (unless ``view_loaded``; ``view`` stands in for what was never stored), one scan,
    and the other exchanges while the cross-exchange view is shown. The exchange's answers are awaited
    within one deadline (``network.deadline_s``), after which the cache stands in."""
    exchange = ctx.exchange_name
    within = deadline(ctx)
    source = await source_of(ctx)
    found = known
    if found is None or (found.cached and source is not None):
        found = await perps(ctx, source, exchange, within)
    remembered = None
    if not view_loaded:
        store = await asyncio.to_thread(ctx.store)
        remembered = await asyncio.to_thread(memory.load, store, exchange, view)
    scanned = await scan(ctx, source, exchange, found.markets, costs, within)
    if not (view.cross or (remembered is not None and remembered.cross)):
        return Poll(found, remembered, scanned)
    others, notes = await other_exchanges(ctx, costs, {m.base for m in found.markets})
    return Poll(found, remembered, scanned, others, notes)


async def perps(
    ctx: AppContext, source: MarketData | None, exchange: str, within: Deadline | None = None
) -> Perps:
    from perptui.services.scan import linear_perps

    markets, cached, error = await read_markets(ctx, source, exchange, within)
    return Perps(linear_perps(markets), cached=cached, error=error)


async def scan(
    ctx: AppContext,
    source: MarketData | None,
    exchange: str,
    markets: list[Market],
    costs: CarryCosts,
    within: Deadline | None = None,
) -> Scanned:
    """One scan as of now: live rates and tickers with the cached history, else the cache alone
    (``scan_service``, as ``perptui scan``)."""
    from perptui.domain.errors import PerptuiError
    from perptui.services.scan_service import scan_markets

    store = await asyncio.to_thread(ctx.store)
    now = ctx.clock.now_ms()
    found = await scan_markets(
        source,
        store,
        exchange,
        markets,
        now,
        within or deadline(ctx, exchange),
        costs=costs,
        fall_back_on=PerptuiError,
    )
    return Scanned(found.scan, found.fetched, found.freshness.reason)


def restat(ctx: AppContext, last: Scanned, markets: list[Market], costs: CarryCosts) -> Scanned:
    """The last scan again with the statistics of the history cached since (call from a thread)."""
    from perptui.services.scan import cached_scan, live_rows

    store, exchange, asof = ctx.store(), last.scan.exchange, last.scan.asof
    if last.fetched is None:
        return Scanned(cached_scan(store, exchange, markets, asof, last.error, costs), None, last.error)
    rates, tickers = last.fetched
    return Scanned(live_rows(store, exchange, markets, rates, tickers, asof, costs), last.fetched)


async def other_exchanges(
    ctx: AppContext, costs: CarryCosts, bases: set[str]
) -> tuple[list[ExchangeScan], list[str]]:
    """The configured other exchanges' rows (``[scan] exchanges``) and a note per one not read. Only
    the perps of ``bases`` (the assets of the primary exchange) are compared."""
    scans: list[ExchangeScan] = []
    notes: list[str] = []
    for exchange in ctx.settings.scan.exchanges:
        if exchange.strip().lower() in (ctx.exchange_name, ""):
            continue
        try:
            source = None if ctx.settings.offline else await asyncio.to_thread(ctx.other_source, exchange)
            found = await perps(ctx, source, exchange)
            markets = [m for m in found.markets if m.base in bases]
            if not markets:
                notes.append(
                    f"{exchange}: no perps of the same assets known ({found.error or 'none listed'})"
                )
                continue
            if source is not None:
                await _recent_prints(ctx, source, markets)
            scanned = await scan(ctx, source, exchange, markets, costs)
        except PerptuiError as exc:
            notes.append(f"{exchange}: {exc}")
            continue
        scans.append(scanned.scan)
        if scanned.error:
            notes.append(scanned.error)
    return scans, notes


async def _recent_prints(ctx: AppContext, source: MarketData, markets: list[Market]) -> None:
    """A few days of prints for the perps whose funding interval the exchange does not state (Binance
    states only adjusted ones): the interval is read from their spacing. Once cached, a later call asks
    only for prints newer than the cache's."""
    from perptui.services.scan import backfill_history

    unknown = [m.symbol for m in markets if m.funding_interval_hours is None]
    if unknown:
        store = await asyncio.to_thread(ctx.store)
        now = ctx.clock.now_ms()
        await on_source(
            source, lambda: backfill_history(source, store, unknown, now, clock=ctx.clock, stages=(3,))
        )


async def backfill(ctx: AppContext, symbols: list[str], progress: BackfillProgress) -> BackfillReport | None:
    """Fetch the funding history the cache lacks for ``symbols`` (None: offline, nothing to fetch)."""
    from perptui.services.scan import backfill_history

    source = await source_of(ctx)
    if source is None:
        return None
    store = await asyncio.to_thread(ctx.store)
    now = ctx.clock.now_ms()
    return await on_source(
        source, lambda: backfill_history(source, store, symbols, now, clock=ctx.clock, on_progress=progress)
    )


def backfill_order(rows: dict[str, ScanRow], shown: list[str]) -> list[str]:
    """The symbols to backfill: the perps in the table's order first (what the trader sees), then the
    filtered-out ones."""
    first = [rows[key].symbol for key in shown if key in rows]
    listed = set(first)
    return first + [row.symbol for row in rows.values() if row.symbol not in listed]


def history(ctx: AppContext, exchange: str, symbol: str) -> list[tuple[int, float]]:
    """One perp's cached prints over the last 90 days, oldest first (call from a thread)."""
    now = ctx.clock.now_ms()
    found = ctx.store().load_funding(exchange, symbol, now - HISTORY_DAYS * DAY_MS, now + 1)
    return [(p.time, p.rate) for p in found]
