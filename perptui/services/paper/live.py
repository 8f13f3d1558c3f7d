"""The engine against a live market data source (async): start-up catch-up and one poll.

``prepare`` at start-up: ``fetch_history`` (the funding prints and candles the open positions and
resting orders need since they were last checked, at most ``catch_up_days``), then ``engine.catch_up``
from the cache; with the source unreachable it catches up from whatever the cache holds. ``refresh`` is
one poll: funding rates (with marks) for the watched symbols, tickers for any mark missing, then
``on_marks`` and ``on_funding_rates``. The engine's calls are blocking SQLite work: in the app, call
the fetches on the source's loop and the engine in a thread (or run all in a thread worker with its own
event loop, as for the demo market).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.account import DAY_MS
from perptui.domain.errors import ExchangeUnavailable
from perptui.services.paper.events import PaperEvent

if TYPE_CHECKING:
    from perptui.services.marketdata import MarketData
    from perptui.services.paper.engine import PaperEngine


async def prepare(engine: PaperEngine, source: MarketData, now: int | None = None) -> list[PaperEvent]:
    """Fetch the history the book needs, then settle what fell due. Returns the catch-up's events."""
    now = engine.now(now)
    await fetch_history(engine, source, now)
    return engine.catch_up(now)


async def fetch_history(engine: PaperEngine, source: MarketData, now: int) -> None:
    """Backfill the funding prints and candles the open positions and resting orders need since they
    were last checked (at most ``catch_up_days``). An unreachable source leaves the cache as it is."""
    from perptui.services.backfill import backfill_funding, backfill_ohlcv

    st = engine.read_state()
    floor = now - int(engine.config.catch_up_days * DAY_MS)
    tf = engine.config.catch_up_timeframe
    try:
        for symbol in engine.watched_symbols():
            pos = st.position(engine.exchange, symbol)
            starts = [o.created_at for o in st.orders_of(engine.exchange, symbol)]
            if pos is not None:
                starts.append(pos.checked_at)
                await backfill_funding(
                    source, engine.store, symbol, max(floor, pos.funding_until + 1), None, clock=engine.clock
                )
            if not starts:  # watched for its spot price only (spot held): no history to catch up
                continue
            await backfill_ohlcv(
                source, engine.store, symbol, tf, max(floor, min(starts)), None, clock=engine.clock
            )
    except ExchangeUnavailable:
        pass  # the cache is what we have: catch up from it


async def refresh(
    engine: PaperEngine,
    source: MarketData,
    now: int | None = None,
    extra: list[str] | None = None,
    *,
    cache_tickers: bool = False,
) -> list[PaperEvent]:
    """One poll of the watched symbols (and ``extra`` ones, e.g. the symbol about to be ordered).
    ``cache_tickers``: also fetch their tickers and store them (the marks a later --offline run uses);
    a poll every few seconds should not."""
    symbols = sorted(set(engine.watched_symbols()) | set(extra or ()))
    if not symbols:
        return []
    rates = await source.fetch_funding_rates(symbols)
    marks = {s: r.mark for s, r in rates.items() if r.mark}
    # the spot twin's price: the index (the demo market's is its spot market's price)
    index = {s: r.index for s, r in rates.items() if r.index}
    missing = [s for s in symbols if s not in marks or s not in index]
    if missing or cache_tickers:
        tickers = await source.fetch_tickers(symbols if cache_tickers else missing)
        if cache_tickers:
            engine.store.insert_tickers(engine.exchange, list(tickers.values()))
        found = {s: t.mark or t.last for s, t in tickers.items() if s not in marks}
        marks |= {s: m for s, m in found.items() if m}
        index |= {s: t.index for s, t in tickers.items() if t.index and s not in index}
    now = engine.now(now)
    spot = {}
    for symbol, price in index.items():
        market = engine.book.get(symbol)
        if market is not None and market.spot_symbol is not None:
            spot[market.spot_symbol] = price
    events = engine.on_marks(marks, now)
    engine.on_spot_marks(spot, now)
    events += engine.on_funding_rates(rates, now)
    return events
