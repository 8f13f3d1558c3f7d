"""``refresh_inputs``: bring what ``build_report`` needs from the source (async, on the caller's loop).

Network on the loop, SQLite in threads (``asyncio.to_thread``). Paper: the funding rates (with marks)
of the held symbols, tickers for any mark missing, then the engine's ``on_marks``/``on_funding_rates``
(which fill stops, liquidate, settle funding: their events are returned for notifications). Exchange:
markets once (brackets), balance, positions and their funding rates; an equity snapshot at most once a
minute for the drawdown. Both: the held symbols' missing daily candles (400 days). Offline (``source``
None) or unreachable: nothing is fetched, the context says why, the report uses the cache.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from perptui.domain.account import MINUTE_MS
from perptui.domain.errors import ExchangeUnavailable
from perptui.services.risk.context import ExchangeRead
from perptui.services.risk.history import fetch_missing

if TYPE_CHECKING:
    from perptui.domain.types import FundingRate
    from perptui.services.marketdata import MarketData
    from perptui.services.paper.engine import PaperEngine
    from perptui.services.paper.events import PaperEvent
    from perptui.services.risk.context import RiskContext
    from perptui.services.store import Store


async def refresh_inputs(
    ctx: RiskContext, source: MarketData | None, *, history: bool = True
) -> list[PaperEvent]:
    """One refresh: marks and funding (and the exchange's account), then missing daily candles.
    Never raises for an unreachable source: ``ctx.live`` turns False and ``ctx.stale`` says why."""
    if source is None:
        ctx.live, ctx.stale = False, "offline: marks and candles from the cache"
        return []
    try:
        events = await refresh_marks(ctx, source)
        if history:
            await refresh_history(ctx, source)
    except ExchangeUnavailable as exc:
        ctx.live, ctx.stale = (
            False,
            f"{ctx.exchange} is unreachable ({exc}): figures from the last known marks",
        )
        return []
    ctx.live, ctx.stale = True, None
    return events


async def held_symbols(ctx: RiskContext) -> list[str]:
    if ctx.kind == "paper":
        assert ctx.engine is not None
        return await asyncio.to_thread(_paper_held, ctx.engine)
    return sorted({p.symbol for p in ctx.read.positions}) if ctx.read else []


def _paper_held(engine: PaperEngine) -> list[str]:
    from perptui.domain.risk_pairs import perp_of

    held = {p.symbol for p in engine.positions()} | {perp_of(h.symbol) for h in engine.spot_holdings()}
    return sorted(held)


async def refresh_history(ctx: RiskContext, source: MarketData) -> int:
    """Fetch the held symbols' missing closed daily candles; bars added."""
    return await fetch_missing(ctx, source, await held_symbols(ctx))


async def refresh_marks(ctx: RiskContext, source: MarketData) -> list[PaperEvent]:
    if ctx.kind == "paper":
        return await _paper_marks(ctx, source)
    await _exchange_read(ctx, source)
    return []


async def _paper_marks(ctx: RiskContext, source: MarketData) -> list[PaperEvent]:
    engine = ctx.engine
    assert engine is not None
    symbols = await asyncio.to_thread(engine.watched_symbols)
    if not symbols:
        return []
    rates = await source.fetch_funding_rates(symbols)
    marks = {s: r.mark for s, r in rates.items() if r.mark}
    missing = [s for s in symbols if s not in marks]
    if missing:
        tickers = await source.fetch_tickers(missing)
        marks |= {s: m for s, t in tickers.items() if (m := t.mark or t.last)}
    return await asyncio.to_thread(_apply, engine, marks, rates, ctx.now())


def _apply(
    engine: PaperEngine, marks: dict[str, float], rates: dict[str, FundingRate], now: int
) -> list[PaperEvent]:
    events = engine.on_marks(marks, now) + engine.on_funding_rates(rates, now)
    spot = {}
    for symbol, rate in rates.items():  # the spot twins' prices: the index (spot holdings, pairs)
        market = engine.book.get(symbol)
        if rate.index and market is not None and market.spot_symbol is not None:
            spot[market.spot_symbol] = rate.index
    engine.on_spot_marks(spot, now)
    return events


async def _exchange_read(ctx: RiskContext, source: MarketData) -> None:
    if not ctx.markets:
        markets = await source.load_markets()
        ctx.markets = {m.symbol: m for m in markets}
        await asyncio.to_thread(ctx.store.upsert_markets, ctx.exchange, markets, ctx.now())
    balance = await source.fetch_balance()
    positions = await source.fetch_positions()
    held = sorted({p.symbol for p in positions})
    rates = await source.fetch_funding_rates(held) if held else {}
    now = ctx.now()
    ctx.read = ExchangeRead(now, balance, tuple(positions), dict(rates))
    if balance.total is not None:
        await asyncio.to_thread(_snapshot_if_due, ctx.store, ctx.account, now, balance.total)


def _snapshot_if_due(store: Store, account: str, now: int, equity: float) -> None:
    """The exchange account's equity, at most once a minute (as ``ExchangeAccount.summary`` records it)."""
    with store.transaction():
        last = store.last_equity_time(account)
        if last is None or now - last >= MINUTE_MS:
            store.record_equity(account, now, equity, None)
