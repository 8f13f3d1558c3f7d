"""Bybit v5 (linear perps).

- Funding history and klines answer a [startTime, endTime] window with its NEWEST ``limit`` rows
  (funding: max 200). ccxt sends the caller's ``until`` as endTime, so a long window gave its newest
  page only (a one-year backtest got 200 of 1005 prints). Here each request asks for a window of one
  page from ``since`` and fills back where a page came back full (``windows``).
- Tiers (/v5/market/risk-limit): 30 symbols a page linked by ``nextPageCursor``. ccxt stops its cursor
  paging after a fixed number of calls (``paginationCalls``: 50 until ccxt PR #30127 dropped ~94 of 844
  symbols, XRP/USDT:USDT among them; 200 now), whatever is left. Paged here until the cursor is empty;
  a few symbols are asked for one by one instead (``symbol=``).
- The minimum order value is ``lotSizeFilter.minNotionalValue`` ($5 on BTCUSDT), which ccxt leaves out.
- Tickers carry no time: stamped on receipt (the generic ``fix_ticker``).
"""

from __future__ import annotations

import time
from typing import Any

from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.venues import windows
from perptui.services.exchanges.venues.base import Venue, VenueApi, candle_page, funding_page

HOUR_MS = 3_600_000
#: /v5/market/risk-limit pages read at most (30 symbols a page: 30,000 symbols).
MAX_TIER_PAGES = 1000
#: Up to this many symbols, tiers are asked for per symbol rather than by the paged sweep.
PER_SYMBOL_TIERS = 5


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
            return await funding_page(api, symbol, start, page, {"until": end})

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
            return await candle_page(api, exchange, symbol, timeframe, start, page, {"until": end})

        return await windows.from_since(fetch, since, until, _now_ms(), step, page, lambda r: int(r[0]))

    async def leverage_tiers(
        self, api: VenueApi, symbols: list[str] | None
    ) -> dict[str, list[dict[str, Any]]]:
        rows: list[dict[str, Any]] = []
        if symbols and len(symbols) <= PER_SYMBOL_TIERS:
            for symbol in symbols:
                market_id = api.raw_market(symbol)["id"]
                params: dict[str, Any] = {"category": "linear", "symbol": market_id}
                response = await api.call(
                    f"reading leverage tiers of {symbol}",
                    api.ex.publicGetV5MarketRiskLimit,
                    params,
                    symbol=symbol,
                )
                rows.extend(((response or {}).get("result") or {}).get("list") or [])
            return api.ex.parse_leverage_tiers(rows, symbols, "symbol")
        seen: set[str] = set()
        params = {"category": "linear"}
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
