"""The sizing calculator's reads for one perp, live else the cache within a deadline: ``perptui size`` and
the sizing pane both go through here.

``read_snapshot``: the mark and funding from the exchange (``sizing_inputs.live_snapshot``), and with
``keep_ticker`` the perp's ticker alongside, stored for a later offline run; when the exchange fails or
the deadline passes, the last cached ticker and funding print (``cached_snapshot``), with a
``Freshness`` saying why and how old the cached mark is. ``read_atr_live_or_cached``: the ATR of the
candles topped up from the exchange first, else of the cached candles alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import ExchangeUnavailable, PerptuiError
from perptui.services.live_or_cache import Deadline, Freshness, on_source, unreachable_reason
from perptui.services.sizing_inputs import (
    AtrReading,
    MarketSnapshot,
    cached_snapshot,
    live_snapshot,
    read_atr,
)

if TYPE_CHECKING:
    from perptui.domain.types import Market, Ticker
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store


async def with_exchange_tiers(
    source: MarketData | None, store: Store, exchange: str, market: Market, now: int, deadline: Deadline
) -> Market:
    """The market with the exchange's own brackets when it was loaded with the approximate default ladder
    (exchanges that serve tiers only per symbol: OKX, Bitget, ...), asked within the deadline and kept in
    the cache for the next run; unchanged when they cannot be read (the ladder stays flagged)."""
    from perptui.services.symbol_tiers import fetch_symbol_tiers

    if source is None or not market.tiers_approximate:
        return market
    try:
        found, _problem = await deadline.run(
            lambda: on_source(source, lambda: fetch_symbol_tiers(source, [market], [market.symbol]))
        )
    except PerptuiError:
        return market
    tiered = found[0]
    if not tiered.tiers_approximate:
        await asyncio.to_thread(store.upsert_markets, exchange, [tiered], now)
    return tiered


@dataclass(frozen=True, slots=True)
class SnapshotRead:
    snapshot: MarketSnapshot
    freshness: Freshness


async def from_cache(store: Store, exchange: str, market: Market, now: int, reason: str) -> SnapshotRead:
    snapshot = await asyncio.to_thread(cached_snapshot, store, exchange, market, now)
    age = max(0, now - snapshot.as_of) if snapshot.mark is not None else None
    return SnapshotRead(snapshot, Freshness(False, reason, age))


async def read_snapshot(
    source: MarketData | None,
    store: Store,
    exchange: str,
    market: Market,
    now: int,
    deadline: Deadline,
    *,
    keep_ticker: bool = False,
    fall_back_on: type[PerptuiError] = ExchangeUnavailable,
) -> SnapshotRead:
    """The perp's mark and funding, live else cached (``source`` None: offline). Only a transient
    failure falls back to the cache unless ``fall_back_on`` says otherwise (a pane must show something)."""
    if source is None:
        return await from_cache(store, exchange, market, now, "offline")
    try:
        if keep_ticker:
            snapshot, tickers = await deadline.run(
                lambda: on_source(source, lambda: _with_ticker(source, market, now))
            )
            if tickers:
                await asyncio.to_thread(store.insert_tickers, exchange, list(tickers.values()))
        else:
            snapshot = await deadline.run(
                lambda: on_source(source, lambda: live_snapshot(source, market, now))
            )
    except fall_back_on as exc:
        return await from_cache(store, exchange, market, now, unreachable_reason(exchange, exc))
    return SnapshotRead(snapshot, Freshness.fresh())


async def _with_ticker(
    source: MarketData, market: Market, now: int
) -> tuple[MarketSnapshot, dict[str, Ticker]]:
    """The snapshot, and the ticker read alongside: a failure to read the ticker costs nothing but it."""
    read, tickers = await asyncio.gather(
        live_snapshot(source, market, now), source.fetch_tickers([market.symbol]), return_exceptions=True
    )
    if isinstance(read, BaseException):
        raise read
    if isinstance(tickers, BaseException):
        if not isinstance(tickers, PerptuiError):
            raise tickers  # a bug, not the exchange
        tickers = {}
    return read, tickers


@dataclass(frozen=True, slots=True)
class AtrResult:
    reading: AtrReading
    #: Why the cached candles alone were used after the exchange failed; "" when topped up (or offline).
    fallback: str = ""


async def read_atr_live_or_cached(
    store: Store,
    exchange: str,
    market: Market,
    timeframe: str,
    period: int,
    now: int,
    deadline: Deadline,
    *,
    source: MarketData | None,
    clock: Clock | None = None,
    fall_back_on: type[PerptuiError] = ExchangeUnavailable,
) -> AtrResult:
    """The ATR of the perp's candles, topped up from the source first within the deadline, else of the
    cached candles (``source`` None: offline)."""

    def compute(src: MarketData | None) -> Coroutine[Any, Any, AtrReading]:
        return read_atr(store, exchange, market.symbol, timeframe, period, now, source=src, clock=clock)

    if source is not None:
        try:
            return AtrResult(await deadline.run(lambda: on_source(source, lambda: compute(source))))
        except fall_back_on as exc:
            fallback = unreachable_reason(exchange, exc)
        return AtrResult(await asyncio.to_thread(lambda: asyncio.run(compute(None))), fallback)
    return AtrResult(await asyncio.to_thread(lambda: asyncio.run(compute(None))))
