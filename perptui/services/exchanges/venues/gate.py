"""Gate (APIv4) USDT perpetuals: funding pages anchored at ``to``, risk limit tiers in USDT with Gate's
own deduction, swap tickers for perps.

- Funding history (``/futures/usdt/funding_rate``): at most 1000 rows, ``from``/``to`` in seconds, and the
  page is the newest ``limit`` of the window (``from`` defaults to "the start of what ``to`` and ``limit``
  return"), so it is read with ``anchored_history``.
- Tiers: ccxt's bulk ``fetch_leverage_tiers`` refuses to run without ``{'type': 'swap'}`` (Gate's
  default type is spot) and the adapter then had no tiers at all. It is asked with the swap type
  (``/futures/usdt/risk_limit_tiers``, paged by contract), and per symbol when that fails.
  ``risk_limit`` is the position value in USDT a tier allows (ccxt's min/maxNotional, no conversion);
  Gate states the maintenance margin as value x ``maintenance_rate`` - ``deduction`` and the deduction is
  taken as given (it is not continuous where Gate skips a tier).
- Candles (``/futures/usdt/candlesticks``): ccxt asks ``from`` = since and ``to`` one page later (1999
  bars; Gate refuses a range of more than 2000 points), so a page is every bar of its window. But an
  EMPTY window (a market listed after ``since``, a gap) came back as [], which the backfill reads as
  "nothing up to the end" and a recently listed market got no bars at all; here the next window is
  asked until one holds bars or the end is reached. ``v`` counts contracts: restated in base units.
- Tickers: ``fetch_tickers()`` without symbols reads the spot tickers unless asked for swaps.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from perptui.domain.errors import PerptuiError
from perptui.domain.types import LeverageTier
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.venues.anchored import anchored_history
from perptui.services.exchanges.venues.base import (
    MAX_PER_SYMBOL_TIER_REQUESTS,
    Venue,
    VenueApi,
    candle_page,
    funding_page,
)
from perptui.services.exchanges.venues.contract_units import volumes_in_base
from perptui.services.exchanges.venues.windows import MAX_REQUESTS

SWAP = {"type": "swap"}
#: Bars ccxt asks for in one window (``from`` and ``to`` inclusive): contracts (Gate's 2000-point cap), spot.
CONTRACT_CANDLE_PAGE = 1999
SPOT_CANDLE_PAGE = 1000


class GateVenue(Venue):
    funding_page_limit = 1000
    ohlcv_page_limit = CONTRACT_CANDLE_PAGE

    async def funding_history(
        self, api: VenueApi, symbol: str, since: int, until: int | None, limit: int | None
    ) -> list[dict[str, Any]]:
        page_limit = min(limit or self.funding_page_limit, self.funding_page_limit)

        async def fetch(low: int, high: int) -> list[dict[str, Any]]:
            return await funding_page(api, symbol, low, page_limit, {"until": high})

        end = int(until) - 1 if until is not None else int(time.time() * 1000)
        return await anchored_history(fetch, int(since), end, page_limit, self._interval(api, symbol))

    async def ohlcv(
        self,
        api: VenueApi,
        exchange: Any,
        symbol: str,
        timeframe: str,
        since: int,
        until: int | None,
        limit: int | None,
    ) -> list[list[Any]]:
        """Every bar of the first window from ``since`` that holds any (windows of one page each)."""
        market = exchange.market(symbol)
        cap = CONTRACT_CANDLE_PAGE if market.get("contract") else SPOT_CANDLE_PAGE
        page = max(1, min(limit or cap, cap))
        step = int(exchange.parse_timeframe(timeframe) * 1000)
        last = int(until) - 1 if until is not None else int(time.time() * 1000)
        start = int(since)
        for _ in range(MAX_REQUESTS):
            if start > last:
                break
            high = min(start + (page - 1) * step, last)
            rows = await candle_page(api, exchange, symbol, timeframe, start, page, {"until": high})
            if rows:
                return volumes_in_base(rows, market)
            start = high + 1
        return []

    @staticmethod
    def _interval(api: VenueApi, symbol: str) -> float | None:
        seconds = conv.num((api.raw_market(symbol).get("info") or {}).get("funding_interval"))
        return api.interval_hours(symbol) or (seconds / 3600 if seconds else None)

    async def leverage_tiers(
        self, api: VenueApi, symbols: list[str] | None
    ) -> dict[str, list[dict[str, Any]]]:
        try:
            return await api.call("reading leverage tiers", api.ex.fetch_leverage_tiers, symbols, SWAP) or {}
        except PerptuiError:
            if not symbols:
                raise
        return {
            symbol: await api.call(
                f"reading leverage tiers of {symbol}",
                api.ex.fetch_market_leverage_tiers,
                symbol,
                symbol=symbol,
            )
            for symbol in symbols[:MAX_PER_SYMBOL_TIER_REQUESTS]
        }

    def tiers_from_ccxt(self, raw: list[dict[str, Any]], market: dict[str, Any]) -> list[LeverageTier]:
        tiers = conv.tiers_from_ccxt(raw)
        rows = sorted(raw, key=lambda t: conv.num(t.get("minNotional")) or 0.0)
        deductions = [conv.num((t.get("info") or {}).get("deduction")) for t in rows]
        if len(deductions) != len(tiers) or any(d is None for d in deductions):
            return tiers
        return [
            dataclasses.replace(t, maint_amount=float(d or 0.0))
            for t, d in zip(tiers, deductions, strict=True)
        ]

    def ticker_params(self) -> dict[str, Any]:
        return dict(SWAP)
