"""OKX: funding history newest-first in windows, tiers in contracts, swap tickers with volume in contracts.

- Funding history (/api/v5/public/funding-rate-history) answers newest first, at most 100 rows, between
  ``before`` and ``after`` (both exclusive). ccxt's unified call sends only ``before=since-1``, so it gets
  the newest 100 of everything after ``since``. Here each page asks for the window
  ``(since - 1, since + 99 intervals)``; when that window holds more than 100 prints (an interval
  shorter than assumed) the older rows are walked down with ``after`` = the oldest row received until
  the window is whole, so a page is every print from ``since`` to its last row.
- Candles (/api/v5/market/candles, and history-candles for bars older than the latest 1,440) page the
  same way: newest first between ``before`` and ``after``, at most 100 (history-candles; 300 on candles).
  ccxt sends ``before=since-1`` and ``after`` = the caller's ``until``, so a long window gave its newest
  page only. Here each request asks for the window of one page from ``since`` (``windows``), its
  ``after`` one past the window's last bar (OKX's ``after`` is exclusive).
- Position tiers (/api/v5/public/position-tiers, per instrument family only) bound positions by size in
  contracts; ccxt copies ``minSz``/``maxSz`` into ``minNotional``/``maxNotional`` unchanged. Notional
  brackets are contracts x contract size x the mark price read with them, and OKX's maintenance margin
  is the tier's rate on the whole position (no deduction), so ``maint_amount`` is 0.
- Tickers: without a swap symbol ccxt asks for the SPOT tickers, so the swap ones are asked for. ccxt's
  ``baseVolume`` for a swap is ``vol24h``, in contracts, and ``quoteVolume`` is left empty.
"""

from __future__ import annotations

import math
from typing import Any

from perptui.domain.funding import interval_hours_from_times
from perptui.domain.types import LeverageTier
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.venues import windows
from perptui.services.exchanges.venues.base import (
    MAX_PER_SYMBOL_TIER_REQUESTS,
    Venue,
    VenueApi,
    candle_page,
    funding_page,
)

HOUR_MS = 3_600_000
#: Assumed funding interval before one is known (OKX's usual 8h); a shorter one costs extra requests only.
DEFAULT_INTERVAL_HOURS = 8.0
#: Requests walking down one window at most (a 1h market under the 8h assumption needs 8).
MAX_WINDOW_REQUESTS = 40
#: The mark price a tier ladder was converted at is kept in each raw tier under this key.
REFERENCE_PRICE = "perptuiReferencePrice"


class OkxVenue(Venue):
    funding_page_limit = 100
    #: history-candles' maximum (candles, for the latest 1,440 bars only, serves 300).
    ohlcv_page_limit = 100

    def __init__(self) -> None:
        self._learned_hours: dict[str, float] = {}

    # ------------------------------------------------------------------------------------ history

    def _interval_ms(self, api: VenueApi, symbol: str) -> int:
        hours = api.interval_hours(symbol) or self._learned_hours.get(symbol) or DEFAULT_INTERVAL_HOURS
        return int(hours * HOUR_MS)

    async def funding_history(
        self, api: VenueApi, symbol: str, since: int, until: int | None, limit: int | None
    ) -> list[dict[str, Any]]:
        page = max(1, min(limit or self.funding_page_limit, self.funding_page_limit))
        interval = self._interval_ms(api, symbol)
        # page - 1 intervals wide: the window holds at most page - 1 prints wherever it starts, so a
        # short answer proves it whole in one request.
        span = (page - 1) * interval
        end = int(until) if until is not None else int(api.ex.milliseconds()) + span
        top = since
        rows: dict[int, dict[str, Any]] = {}
        while not rows and top < end:
            # The window grows by one page while it is empty (a market listed later), never skipping
            # past `since`: whatever is returned starts at the first print after it.
            top = min(top + span, end)
            rows = await self._window(api, symbol, since, top, page)
        times = sorted(rows)
        hours = interval_hours_from_times(times)
        if hours:
            self._learned_hours[symbol] = hours
        return [rows[t] for t in times]

    async def _window(
        self, api: VenueApi, symbol: str, since: int, top: int, page: int
    ) -> dict[int, dict[str, Any]]:
        """Every print in [since, top): OKX's newest page below ``after``, walked down to ``since``."""
        rows: dict[int, dict[str, Any]] = {}
        after = top
        for _ in range(MAX_WINDOW_REQUESTS):
            batch = await funding_page(api, symbol, int(since), page, {"after": after})
            batch = [
                r for r in batch or [] if r.get("timestamp") is not None and since <= r["timestamp"] < after
            ]
            for row in batch:
                rows[int(row["timestamp"])] = row
            oldest = min((int(r["timestamp"]) for r in batch), default=None)
            # A short page, or one reaching `since`, is the bottom of the window.
            if oldest is None or len(batch) < page or oldest <= since:
                break
            after = oldest
        return rows

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
        page = max(1, min(limit or self.ohlcv_page_limit, self.ohlcv_page_limit))

        async def fetch(start: int, end: int) -> list[list[Any]]:
            # ccxt: before = start - 1, after = until; both exclusive on OKX, so [start, end].
            return await candle_page(api, exchange, symbol, timeframe, start, page, {"until": end + 1})

        step = int(exchange.parse_timeframe(timeframe) * 1000)
        now = int(exchange.milliseconds())
        return await windows.from_since(fetch, since, until, now, step, page, lambda r: int(r[0]))

    # -------------------------------------------------------------------------------------- tiers

    async def leverage_tiers(
        self, api: VenueApi, symbols: list[str] | None
    ) -> dict[str, list[dict[str, Any]]]:
        """Per instrument family, for the symbols asked for only; each tier carries the mark price its
        contract bounds are converted at."""
        if not symbols:
            return {}
        wanted = symbols[:MAX_PER_SYMBOL_TIER_REQUESTS]
        marks = await api.call("reading mark prices", api.ex.fetch_mark_prices, wanted)
        raw: dict[str, list[dict[str, Any]]] = {}
        for symbol in wanted:
            price = conv.num((marks.get(symbol) or {}).get("markPrice"))
            if not price:
                continue
            tiers = await api.call(
                f"reading leverage tiers of {symbol}",
                api.ex.fetch_market_leverage_tiers,
                symbol,
                symbol=symbol,
            )
            raw[symbol] = [{**tier, REFERENCE_PRICE: price} for tier in tiers or []]
        return raw

    def tiers_from_ccxt(self, raw: list[dict[str, Any]], market: dict[str, Any]) -> list[LeverageTier]:
        """Contract bounds -> notional at the reference mark; the tier's rate on the whole notional."""
        size = conv.num(market.get("contractSize")) or 1.0
        result = []
        for tier in sorted(raw, key=lambda t: conv.num(t.get("minNotional")) or 0.0):
            price = conv.num(tier.get(REFERENCE_PRICE))
            if not price:
                return []
            low = (conv.num(tier.get("minNotional")) or 0.0) * size * price
            high = conv.num(tier.get("maxNotional"))
            result.append(
                LeverageTier(
                    min_notional=low,
                    max_notional=math.inf if high is None else high * size * price,
                    mmr=conv.num(tier.get("maintenanceMarginRate")) or 0.0,
                    maint_amount=0.0,
                    max_leverage=conv.num(tier.get("maxLeverage")) or 1.0,
                )
            )
        return result

    # ------------------------------------------------------------------------------------ tickers

    def ticker_params(self) -> dict[str, Any]:
        return {"type": "swap"}

    def base_volume_unit(self, market: dict[str, Any]) -> float:
        return conv.num(market.get("contractSize")) or 1.0
