"""The scanner's reads for one exchange, live else the cache within a deadline: ``perptui scan`` and the
scanner pane both go through here.

``scan_markets``: the current funding and tickers of ``markets`` (two requests), joined with the cached
history; optionally the missing history first (``backfill_history``, which may take long on a first
scan: it runs as long as pages keep arriving, and stops once the exchange is silent for the deadline's
length, the statistics then using what is cached). When the exchange fails or the deadline passes, the
rows come from the cache (``cached_scan``) and the ``Freshness`` says why and how old the tickers are.
``scan_exchange`` reads the markets first (``live_or_cache.read_markets``): what the CLI runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeUnavailable, PerptuiError
from perptui.domain.types import FundingRate, Market, Ticker
from perptui.services.live_or_cache import (
    Deadline,
    Freshness,
    MarketsRead,
    on_source,
    read_markets,
    unreachable_reason,
)
from perptui.services.scan import (
    DEFAULT_COSTS,
    BackfillProgress,
    BackfillReport,
    ExchangeScan,
    backfill_history,
    cached_scan,
    fetch_live,
    linear_perps,
    live_rows,
)

if TYPE_CHECKING:
    from perptui.domain.scanner import CarryCosts
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store

Fetched = tuple[dict[str, FundingRate], dict[str, Ticker]]


@dataclass(frozen=True, slots=True)
class Backfill:
    """Fetch the history the cache lacks for the scanned perps before the rows are made."""

    on_progress: BackfillProgress | None = None
    clock: Clock | None = None
    #: Stop once no page arrived for this long (seconds); None: the deadline's length.
    stall_s: float | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    scan: ExchangeScan
    freshness: Freshness
    #: The fetched rates and tickers (live scans), to recompute the statistics later without asking the
    #: exchange again; None when the cache stood in.
    fetched: Fetched | None = None
    backfill: BackfillReport | None = None
    #: Why the backfill stopped before the end (the rows use what is cached); "" when it did not.
    backfill_stopped: str = ""


def cached_freshness(scan: ExchangeScan, reason: str, now: int) -> Freshness:
    """The cache's age as a scan sees it: its newest ticker (the marks, volumes, open interest)."""
    age = None if scan.cached_as_of is None else max(0, now - scan.cached_as_of)
    return Freshness(False, reason, age)


async def from_cache(
    store: Store, exchange: str, markets: Sequence[Market], now: int, reason: str, costs: CarryCosts
) -> ScanResult:
    scan = await asyncio.to_thread(cached_scan, store, exchange, markets, now, reason, costs)
    return ScanResult(scan, cached_freshness(scan, reason, now))


async def scan_markets(
    source: MarketData | None,
    store: Store,
    exchange: str,
    markets: Sequence[Market],
    now: int,
    deadline: Deadline,
    *,
    costs: CarryCosts = DEFAULT_COSTS,
    backfill: Backfill | None = None,
    fall_back_on: type[PerptuiError] = ExchangeUnavailable,
) -> ScanResult:
    """The rows of ``markets`` as of ``now``: live rates and tickers with the cached history, else the
    cache alone (``source`` None: offline). Only a transient failure falls back to the cache unless
    ``fall_back_on`` says otherwise (a pane must show something)."""
    if source is None:
        return await from_cache(store, exchange, markets, now, "offline", costs)
    try:
        fetched = await deadline.run(lambda: on_source(source, lambda: fetch_live(source)))
    except fall_back_on as exc:
        return await from_cache(store, exchange, markets, now, unreachable_reason(exchange, exc), costs)
    report, stopped = None, ""
    if backfill is not None:
        report, stopped = await _backfill(source, store, markets, now, deadline, backfill)
    rates, tickers = fetched
    scan = await asyncio.to_thread(live_rows, store, exchange, markets, rates, tickers, now, costs)
    return ScanResult(scan, Freshness.fresh(), fetched, report, stopped)


async def _backfill(
    source: MarketData, store: Store, markets: Sequence[Market], now: int, deadline: Deadline, how: Backfill
) -> tuple[BackfillReport | None, str]:
    symbols = [m.symbol for m in linear_perps(markets)]

    async def run(progressed: Callable[[], None]) -> BackfillReport:
        def on_progress(done: int, total: int, symbol: str) -> None:
            progressed()
            if how.on_progress is not None:
                how.on_progress(done, total, symbol)

        return await backfill_history(source, store, symbols, now, clock=how.clock, on_progress=on_progress)

    try:
        return await deadline.run_while_progressing(run, how.stall_s), ""
    except ExchangeUnavailable as exc:
        return None, str(exc)


@dataclass(frozen=True, slots=True)
class ExchangeScanResult:
    markets: MarketsRead
    selected: list[Market]
    result: ScanResult


async def scan_exchange(
    source: MarketData | None,
    store: Store,
    exchange: str,
    now: int,
    deadline: Deadline,
    *,
    select: Callable[[list[Market]], list[Market]] = lambda markets: markets,
    costs: CarryCosts = DEFAULT_COSTS,
    backfill: Backfill | None = None,
) -> ExchangeScanResult:
    """The markets (live else cached; an error when neither), those ``select`` picks, and their rows.
    Markets read from the cache mean the exchange already failed: the rows come from the cache too."""
    read = await read_markets(source, store, exchange, deadline)
    markets = read.require(store, exchange)
    selected = select(markets)
    if not read.freshness.live:
        result = await from_cache(store, exchange, selected, now, read.freshness.reason, costs)
    else:
        result = await scan_markets(
            source, store, exchange, selected, now, deadline, costs=costs, backfill=backfill
        )
    return ExchangeScanResult(read, selected, result)
