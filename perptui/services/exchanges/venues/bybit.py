"""Bybit v5 (linear perps).

- Funding history and klines answer a [startTime, endTime] window with its NEWEST ``limit`` rows
  (funding: max 200). ccxt sends the caller's ``until`` as endTime, so a long window gave its newest
  page only (a one-year backtest got 200 of 1005 prints). Here each request asks for a window of one
  page from ``since`` and fills back where a page came back full (``windows``).
- Tiers (/v5/market/risk-limit) come in pages linked by ``nextPageCursor``; ccxt's own cursor paging
  takes the last page's empty cursor for another cursor. Paged here until the cursor is empty.
- The minimum order value is ``lotSizeFilter.minNotionalValue`` ($5 on BTCUSDT), which ccxt leaves out.
- Tickers carry no time: stamped on receipt (the generic ``fix_ticker``).
"""

from __future__ import annotations

import time
from typing import Any

from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.venues import windows
from perptui.services.exchanges.venues.base import Venue, VenueApi

HOUR_MS = 3_600_000
#: /v5/market/risk-limit pages read at most (every linear market's tiers, a few hundred rows a page).
MAX_TIER_PAGES = 200


def _now_ms() -> int:
    return int(time.time() * 1000)


class BybitVenue(Venue):
    funding_page_limit = 200
    ohlcv_page_limit = 1000

    def funding_step_ms(self, api: VenueApi, symbol: str) -> int:
        """The market's funding interval (``fundingInterval`` in minutes), else the one learnt, else 8h."""
        info = api.raw_market(symbol).get("info") or {}
        minutes = conv.num(info.get("fundingInterval"))
        if minutes:
            return int(minutes * 60_000)
        hours = api.interval_hours(symbol)
        return int((hours or 8) * HOUR_MS)

    async def funding_history(
        self, api: VenueApi, symbol: str, since: int, until: int | None, limit: int | None
    ) -> list[dict[str, Any]]:
        page = min(limit or self.funding_page_limit or 200, 200)

        async def fetch(start: int, end: int) -> list[dict[str, Any]]:
            return await api.call(
                f"reading funding history of {symbol}",
                api.ex.fetch_funding_rate_history,
                symbol,
                start,
                page,
                {"until": end},
                symbol=symbol,
            )

        step = self.funding_step_ms(api, symbol)
        return await windows.from_since(
            fetch, since, until, _now_ms(), step, page, lambda r: int(r["timestamp"])
        )

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
        page = min(limit or self.ohlcv_page_limit or 1000, 1000)
        step = int(exchange.parse_timeframe(timeframe) * 1000)

        async def fetch(start: int, end: int) -> list[list[Any]]:
            return await api.call(
                f"reading {timeframe} candles of {symbol}",
                exchange.fetch_ohlcv,
                symbol,
                timeframe,
                start,
                page,
                {"until": end},
                symbol=symbol,
            )

        return await windows.from_since(fetch, since, until, _now_ms(), step, page, lambda r: int(r[0]))

    async def leverage_tiers(
        self, api: VenueApi, symbols: list[str] | None
    ) -> dict[str, list[dict[str, Any]]]:
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        params: dict[str, Any] = {"category": "linear"}
        for _ in range(MAX_TIER_PAGES):
            response = await api.call(
                "reading leverage tiers", api.ex.publicGetV5MarketRiskLimit, dict(params)
            )
            result = (response or {}).get("result") or {}
            rows.extend(result.get("list") or [])
            cursor = result.get("nextPageCursor")
            if not cursor or cursor in seen:
                break
            seen.add(cursor)
            params["cursor"] = cursor
        return api.ex.parse_leverage_tiers(rows, symbols, "symbol")

    def min_notional(self, market: dict[str, Any]) -> float | None:
        lot = (market.get("info") or {}).get("lotSizeFilter") or {}
        return conv.num(lot.get("minNotionalValue")) or super().min_notional(market)
