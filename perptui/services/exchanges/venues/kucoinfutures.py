"""KuCoin futures (USDT-margined): funding pages anchored at ``to``, tiers per symbol, no deduction.

- Funding history (``/api/v1/contract/funding-rates?symbol&from&to``, milliseconds, both required):
  newest first, at most 100 rows, the newest of the window; read with ``anchored_history``.
- Candles (``/api/v1/kline/query?symbol&granularity&from&to``, ms): at most 500 bars a request; a wider
  window answers with 500 of them, not those from ``from``. ccxt makes its window ``limit`` bars long
  (a limit over 500 lost the start) and passes ``until`` on as an unknown parameter; here each request
  asks the window of one page from ``since`` (``to`` set), and fills back where a page came back full
  (``windows``), also when the first window is empty (a market listed later). The volume counts lots
  (contracts): restated in base units.
- Tiers: the bulk call is the unified-account endpoint and needs symbols; the futures risk limit
  (``/api/v1/contracts/risk-limit/{symbol}``) is asked per symbol, for the symbols asked only.
  ``minRiskLimit``/``maxRiskLimit`` are position values in USDT. KuCoin's maintenance margin is the
  position value x the level's rate ("300,000 x 0.004 = 1,200",
  https://www.kucoin.com/support/26694703491737): no deduction, so ``maint_amount`` is 0.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from perptui.domain.types import LeverageTier
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.venues import windows
from perptui.services.exchanges.venues.anchored import anchored_history
from perptui.services.exchanges.venues.base import (
    MAX_PER_SYMBOL_TIER_REQUESTS,
    Venue,
    VenueApi,
    candle_page,
    funding_page,
)
from perptui.services.exchanges.venues.contract_units import volumes_in_base


class KucoinFuturesVenue(Venue):
    funding_page_limit = 100
    #: KuCoin's documented maximum bars a kline request answers with.
    ohlcv_page_limit = 500

    async def funding_history(
        self, api: VenueApi, symbol: str, since: int, until: int | None, limit: int | None
    ) -> list[dict[str, Any]]:
        async def fetch(low: int, high: int) -> list[dict[str, Any]]:
            return await funding_page(api, symbol, low, None, {"until": high})

        end = int(until) - 1 if until is not None else int(time.time() * 1000)
        page_limit = self.funding_page_limit
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
        top = self.ohlcv_page_limit or 500
        page = max(1, min(limit or top, top))
        step = int(exchange.parse_timeframe(timeframe) * 1000)

        async def fetch(start: int, end: int) -> list[list[Any]]:
            return await candle_page(api, exchange, symbol, timeframe, start, page, {"to": end})

        now = int(time.time() * 1000)
        rows = await windows.from_since(fetch, int(since), until, now, step, page, lambda r: int(r[0]))
        return volumes_in_base(rows, exchange.market(symbol))

    @staticmethod
    def _interval(api: VenueApi, symbol: str) -> float | None:
        ms = conv.num((api.raw_market(symbol).get("info") or {}).get("fundingRateGranularity"))
        return api.interval_hours(symbol) or (ms / 3_600_000 if ms else None)

    async def leverage_tiers(
        self, api: VenueApi, symbols: list[str] | None
    ) -> dict[str, list[dict[str, Any]]]:
        return {
            symbol: await api.call(
                f"reading leverage tiers of {symbol}",
                api.ex.fetch_market_leverage_tiers,
                symbol,
                symbol=symbol,
            )
            for symbol in (symbols or [])[:MAX_PER_SYMBOL_TIER_REQUESTS]
        }

    def tiers_from_ccxt(self, raw: list[dict[str, Any]], market: dict[str, Any]) -> list[LeverageTier]:
        return [dataclasses.replace(t, maint_amount=0.0) for t in conv.tiers_from_ccxt(raw)]
