"""Bitget v2 mix (USDT-M perps).

- Funding history (/api/v2/mix/market/history-fund-rate) ignores time filters: it pages by
  ``pageNo``/``pageSize`` (max 100), newest first. ccxt sends neither page nor time, so it got the newest
  page and filtered it by ``since`` (a 90-day scan of a 4h market stored 100 of 540 prints). Here
  pages are read backwards until one reaches ``since``.
- Candles: ccxt picks the history endpoint for old bars and then asks for the ``limit`` bars that END at
  ``until`` (90 at most for daily swap bars), ignoring ``since``; so each request here asks for the
  window of one page from ``since``.
- Tickers: without symbols ccxt reads the SPOT tickers; perps ask for the USDT-M swap ones.
"""

from __future__ import annotations

import time
from typing import Any

from perptui.services.exchanges.venues import windows
from perptui.services.exchanges.venues.base import Venue, VenueApi, candle_page, funding_page

DAY_MS = 86_400_000
#: Funding-history pages read at most in one call (100 prints a page: 27 years of 8h prints).
MAX_FUNDING_PAGES = 300
#: ccxt caps a history-candle request of a swap at 90 days.
MAX_CANDLE_SPAN_MS = 90 * DAY_MS


class BitgetVenue(Venue):
    funding_page_limit = 100
    ohlcv_page_limit = 200

    async def funding_history(
        self, api: VenueApi, symbol: str, since: int, until: int | None, limit: int | None
    ) -> list[dict[str, Any]]:
        size = self.funding_page_limit or 100
        rows: dict[int, dict[str, Any]] = {}
        previous_oldest: int | None = None
        for page_no in range(1, MAX_FUNDING_PAGES + 1):
            page = await funding_page(api, symbol, None, size, {"pageNo": page_no})
            times = [int(r["timestamp"]) for r in page if r.get("timestamp") is not None]
            if not times:
                break
            oldest = min(times)
            if previous_oldest is not None and oldest >= previous_oldest:
                break  # the same page again: nothing older is served
            previous_oldest = oldest
            rows.update({int(r["timestamp"]): r for r in page if r.get("timestamp") is not None})
            if oldest <= since or len(page) < size:
                break
        return [rows[t] for t in sorted(rows) if t >= since and (until is None or t < until)]

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
        step = int(exchange.parse_timeframe(timeframe) * 1000)
        page = max(1, min(limit or self.ohlcv_page_limit or 200, 200, MAX_CANDLE_SPAN_MS // step))

        async def fetch(start: int, end: int) -> list[list[Any]]:
            return await candle_page(api, exchange, symbol, timeframe, start, page, {"until": end})

        now = int(time.time() * 1000)
        return await windows.from_since(fetch, since, until, now, step, page, lambda r: int(r[0]))

    def ticker_params(self) -> dict[str, Any]:
        return {"subType": "linear"}
