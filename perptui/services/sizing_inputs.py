"""What the sizing calculator needs from the market: mark, funding and ATR, live or from the cache.

Shared by ``perptui size`` and the sizing pane so both compute from the same numbers. Live reads go
through the market source; with ``offline`` (or when the source is unreachable) the last cached ticker
and funding print are used and flagged ``cached``. Candles for the ATR come from the cache, topped up
from the source first when online (a resumable backfill, so only missing bars are fetched).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Candle, Market
from perptui.domain.volatility import atr

if TYPE_CHECKING:
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """The live state of one perp as the calculator uses it; None where it is not known."""

    market: Market
    as_of: int
    mark: float | None
    funding_rate: float | None
    funding_interval_hours: float | None
    next_funding_time: int | None
    cached: bool  # read from the cache, not live


@dataclass(frozen=True, slots=True)
class AtrReading:
    value: float | None  # None: too few closed bars
    timeframe: str
    period: int
    bars: int  # closed bars available
    last_close_time: int | None  # close time of the newest bar used


async def live_snapshot(source: MarketData, market: Market, now: int) -> MarketSnapshot:
    """Mark and funding from the source (one funding-rates request; tickers only if it lacks a mark)."""
    rates = await source.fetch_funding_rates([market.symbol])
    fr = rates.get(market.symbol)
    mark = fr.mark if fr is not None else None
    if mark is None:
        tickers = await source.fetch_tickers([market.symbol])
        ticker = tickers.get(market.symbol)
        mark = ticker.mark if ticker is not None and ticker.mark is not None else None
    interval = fr.interval_hours if fr is not None and fr.interval_hours else market.funding_interval_hours
    return MarketSnapshot(
        market=market,
        as_of=fr.timestamp if fr is not None and fr.timestamp else now,
        mark=mark,
        funding_rate=fr.rate if fr is not None else None,
        funding_interval_hours=interval,
        next_funding_time=fr.next_funding_time if fr is not None else None,
        cached=False,
    )


def cached_snapshot(store: Store, exchange: str, market: Market, now: int) -> MarketSnapshot:
    """Mark from the last cached ticker and the funding rate of the last cached print (the latest
    settled rate: the best the cache knows of the current one)."""
    ticker = store.latest_tickers(exchange).get(market.symbol)
    bounds = store.funding_bounds(exchange, market.symbol)
    rate = None
    if bounds is not None:
        prints = store.load_funding(exchange, market.symbol, since=bounds[1])
        rate = prints[-1].rate if prints else None
    return MarketSnapshot(
        market=market,
        as_of=ticker.timestamp if ticker is not None else now,
        mark=ticker.mark if ticker is not None else None,
        funding_rate=rate,
        funding_interval_hours=market.funding_interval_hours,
        next_funding_time=None,
        cached=True,
    )


def closed_candles(candles: list[Candle], timeframe: str, now: int) -> list[Candle]:
    """Drop the still-forming bar: a bar counts once its close time is not after ``now``."""
    tf = timeframe_ms(timeframe)
    return [c for c in candles if c.time + tf <= now]


async def read_atr(
    store: Store,
    exchange: str,
    symbol: str,
    timeframe: str,
    period: int,
    now: int,
    *,
    source: MarketData | None = None,
    clock: Clock | None = None,
    warmup: int = 3,
) -> AtrReading:
    """Wilder's ATR(period) of ``symbol`` on ``timeframe`` from closed cached bars.

    With a source, the last ``warmup x period + 1`` bars are backfilled into the cache first (the
    Wilder smoothing settles within a few periods, so older bars barely move it)."""
    tf = timeframe_ms(timeframe)
    bars_wanted = warmup * period + 1
    since = now - (bars_wanted + 1) * tf
    if source is not None:
        from perptui.services.backfill import backfill_ohlcv

        await backfill_ohlcv(source, store, symbol, timeframe, since, None, clock=clock)
    candles = closed_candles(store.load_ohlcv(exchange, symbol, timeframe, since=since), timeframe, now)
    value = atr(candles, period)
    last = candles[-1].time + tf if candles else None
    return AtrReading(value, timeframe, period, len(candles), last)
