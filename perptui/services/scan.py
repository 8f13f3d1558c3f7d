"""The funding scanner's data: one row per linear perp of an exchange, live or as of a past time.

Live: the current funding state and tickers of every perp come from the source in two requests; the
history statistics come from the cache (``Store.load_funding_many``), which ``backfill_history`` fills
in the background. As of a past time (``--asof``) or offline, everything comes from the cache: the
current rate is the last print at or before that time, the mark and volume the last cached ticker.

Ticker snapshots are cached at most every ``TICKER_SNAPSHOT_EVERY_MS`` (they serve ``--asof`` and
offline runs; 500 perps every 30 s would be 1.4M rows a day).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeError, ExchangeUnavailable, UnknownSymbol
from perptui.domain.funding import apr
from perptui.domain.funding_stats import MAX_INTERVAL_H, FundingHistoryStats, history_stats_many
from perptui.domain.scanner import CarryCosts, ScanRow, scan_row
from perptui.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS
from perptui.domain.types import FundingRate, Market, Ticker

if TYPE_CHECKING:
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store

HISTORY_DAYS = 90
#: Backfill stages in days back from now: every perp's recent prints before anyone's older ones.
BACKFILL_STAGES: tuple[int, ...] = (7, 30, HISTORY_DAYS)
TICKER_SNAPSHOT_EVERY_MS = 10 * MINUTE_MS
TICKER_SNAPSHOT_KIND = "ticker_snapshot"
#: Up to this many markets, ``history_stats_of`` reads their series one by one instead of every
#: series of the exchange at once.
FEW_SERIES = 20
DEFAULT_COSTS = CarryCosts()

BackfillProgress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class ExchangeScan:
    exchange: str
    asof: int
    rows: list[ScanRow]
    live: bool  # the current rates were read from the exchange just now
    #: Why the cache stands in for the exchange (offline, unreachable, a past as-of time); None when live.
    cached_reason: str | None = None
    #: Time of the newest cached ticker used when not live (None: no ticker cached).
    cached_as_of: int | None = None


@dataclass(slots=True)
class BackfillReport:
    added: int = 0
    done: int = 0
    total: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # symbol -> why


def linear_perps(markets: Sequence[Market]) -> list[Market]:
    """The markets the scanner lists: active linear perps (settled in the quote currency)."""
    return [m for m in markets if m.active and m.settle == m.quote]


def history_stats_of(
    store: Store,
    exchange: str,
    markets: Sequence[Market],
    asof: int,
    current: dict[str, FundingRate] | None = None,
) -> dict[str, FundingHistoryStats]:
    """Funding statistics of each market from the cache, as of ``asof``; the z-score uses the live
    current rate when ``current`` has it, else the last print."""
    since, until = asof - (HISTORY_DAYS + 1) * DAY_MS, asof + 1
    data: dict[str, tuple[list[int], list[float]]]
    if len(markets) <= FEW_SERIES:  # a few symbols: their series only, not all of the exchange's
        data = {}
        for m in markets:
            found = store.load_funding(exchange, m.symbol, since, until)
            data[m.symbol] = ([p.time for p in found], [p.rate for p in found])
    else:
        data = store.load_funding_many(exchange, since=since, until=until)
    current_apr: dict[str, float | None] = {}
    for m in markets:
        fr = (current or {}).get(m.symbol)
        if fr is not None:
            # Binance states only adjusted intervals: an 8h market's comes from its prints' spacing.
            interval = fr.interval_hours or m.funding_interval_hours
            current_apr[m.symbol] = apr(fr.rate, interval or _last_spacing_h(data.get(m.symbol)))
    # All series at once; the same numbers as ``history_stats`` per market (tests/test_scan_service.py).
    return history_stats_many(
        data,
        asof,
        symbols=[m.symbol for m in markets],
        current_apr=current_apr,
        fallback_interval_h={m.symbol: m.funding_interval_hours for m in markets},
    )


def _last_spacing_h(series: tuple[Sequence[int], Sequence[float]] | None) -> float | None:
    """The interval the newest print settled, from its spacing (as ``print_intervals`` reads it)."""
    times = series[0] if series is not None else ()
    if len(times) < 2:
        return None
    hours = round((times[-1] - times[-2]) / HOUR_MS)
    return float(hours) if 0 < hours <= MAX_INTERVAL_H else None


async def live_scan(
    source: MarketData,
    store: Store,
    markets: Sequence[Market],
    now: int,
    costs: CarryCosts = DEFAULT_COSTS,
) -> ExchangeScan:
    """Rows from the exchange's current funding and tickers plus the cached history."""
    rates, tickers = await fetch_live(source)
    return live_rows(store, source.name, markets, rates, tickers, now, costs)


async def fetch_live(source: MarketData) -> tuple[dict[str, FundingRate], dict[str, Ticker]]:
    """The current funding state and the tickers of every perp, in two requests made at once; if
    either fails, the other is still awaited before the error goes up."""
    rates, tickers = await asyncio.gather(
        source.fetch_funding_rates(), source.fetch_tickers(), return_exceptions=True
    )
    for result in (rates, tickers):
        if isinstance(result, BaseException):
            raise result
    assert isinstance(rates, dict) and isinstance(tickers, dict)
    return rates, tickers


def live_rows(
    store: Store,
    exchange: str,
    markets: Sequence[Market],
    rates: dict[str, FundingRate],
    tickers: dict[str, Ticker],
    now: int,
    costs: CarryCosts = DEFAULT_COSTS,
) -> ExchangeScan:
    """Join fetched rates and tickers with the cached history (blocking: SQLite and numpy; the app
    calls it from a thread). Caches a ticker snapshot when the last one is old enough."""
    perps = linear_perps(markets)
    keep_ticker_snapshot(store, exchange, tickers, now)
    stats = history_stats_of(store, exchange, perps, now, rates)
    rows = [
        scan_row(
            m,
            funding=rates.get(m.symbol),
            ticker=tickers.get(m.symbol),
            stats=stats[m.symbol],
            as_of=now,
            costs=costs,
        )
        for m in perps
    ]
    return ExchangeScan(exchange, now, rows, live=True)


def keep_ticker_snapshot(store: Store, exchange: str, tickers: dict[str, Ticker], now: int) -> None:
    """Cache the tickers (for --asof and offline runs) when the last snapshot is old enough. Throttled
    by the snapshot's own log entry: 'tickers' is also marked by the commands that store one market's
    ticker (perptui size), which must not hold back a snapshot of all."""
    age = store.cache_age_ms(exchange, TICKER_SNAPSHOT_KIND, now)
    if tickers and (age is None or age >= TICKER_SNAPSHOT_EVERY_MS):
        with store.transaction():
            store.insert_tickers(exchange, list(tickers.values()))
            store.mark_fetched(exchange, "tickers", now)
            store.mark_fetched(exchange, TICKER_SNAPSHOT_KIND, now)


def cached_scan(
    store: Store,
    exchange: str,
    markets: Sequence[Market],
    asof: int,
    reason: str,
    costs: CarryCosts = DEFAULT_COSTS,
) -> ExchangeScan:
    """Rows from the cache alone as of ``asof``: the current rate is the last print at or before it."""
    perps = linear_perps(markets)
    tickers = store.latest_tickers(exchange, asof)
    stats = history_stats_of(store, exchange, perps, asof)
    rows = [
        scan_row(
            m, funding=None, ticker=tickers.get(m.symbol), stats=stats[m.symbol], as_of=asof, costs=costs
        )
        for m in perps
    ]
    newest = max((t.timestamp for t in tickers.values()), default=None)
    return ExchangeScan(exchange, asof, rows, live=False, cached_reason=reason, cached_as_of=newest)


async def backfill_history(
    source: MarketData,
    store: Store,
    symbols: Sequence[str],
    now: int,
    *,
    clock: Clock | None = None,
    on_progress: BackfillProgress | None = None,
    stages: Sequence[int] = BACKFILL_STAGES,
) -> BackfillReport:
    """Fetch the funding prints the cache lacks for ``symbols`` over the last ``stages[-1]`` days.

    Stage by stage, every symbol's recent gap before anyone's older one, so the short windows fill
    first and the oldest gaps come last: the first stage fetches from ``stages[0]`` days back up to
    now (after the newest cached print, once the cache holds it), each later stage only the older
    slice ``[now - stages[i] days, now - stages[i - 1] days)``. Resumable: each stage fetches only what
    is missing, so a second run asks each symbol once, for the prints newer than its newest, and not
    at all while the newest print's interval has not passed (no newer print exists yet). A symbol
    the exchange refuses is skipped with the reason; an unreachable exchange stops the backfill
    (ExchangeUnavailable) with everything fetched so far kept."""
    from perptui.services.backfill import backfill_funding

    report = BackfillReport(total=len(symbols) * len(stages))
    exchange = source.name
    recent = store.load_funding_many(exchange, since=now - 2 * DAY_MS, until=now + 1)

    def nothing_due(symbol: str, since: int) -> bool:
        """The cache is complete since ``since`` and the newest print's interval has not passed yet:
        no newer print can exist, so the open-ended first stage need not ask (one request per perp
        and run would soon hit the exchange's rate limits)."""
        times = recent.get(symbol, ((), ()))[0]
        if len(times) < 2:
            return False
        spacing = min(times[-1] - times[-2], int(MAX_INTERVAL_H * HOUR_MS))
        if spacing <= 0 or now >= times[-1] + spacing:
            return False
        gaps = store.missing(exchange, "funding", symbol, "", since, None)
        return len(gaps) == 1 and gaps[0][0] > times[-1]

    newer: int | None = None  # the end of each stage's slice: None (now, open-ended) for the first
    for days in stages:
        since = now - days * DAY_MS
        for symbol in symbols:
            wanted = newer is None or since < newer
            if wanted and newer is None and nothing_due(symbol, since):
                wanted = False
            if symbol not in report.skipped and wanted:
                try:
                    report.added += await backfill_funding(source, store, symbol, since, newer, clock=clock)
                except ExchangeUnavailable:
                    raise
                except (UnknownSymbol, ExchangeError) as exc:
                    report.skipped[symbol] = str(exc)
            report.done += 1
            if on_progress is not None:
                on_progress(report.done, report.total, symbol)
        newer = since if newer is None else min(newer, since)
    return report
