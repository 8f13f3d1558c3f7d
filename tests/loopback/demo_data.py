"""The loopback's demo source: the demo market, read through the MarketData protocol only, served in
Binance's REST shapes. A fresh clone has no ../shared data, and this keeps the ccxt path tested there.

Binance ids are the demo's ``Market.id`` (``BTCDEMOUSDT``); spot ids are base + quote.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from perptui.domain.types import Candle, FundingPrint, Market
from tests.loopback import binance_format as bf
from tests.loopback.binance_format import BinanceApiError

HOUR_MS = 3_600_000
MAX_INTERVAL_MS = 8 * HOUR_MS
FAR_FUTURE = 4_133_404_800_000  # Binance's deliveryDate of perpetuals


def _decimals(step: float | None) -> int:
    if not step:
        return 8
    return max(0, -math.floor(math.log10(step) + 1e-9))


def cap(notional: float) -> int | float:
    """Binance has no open-ended bracket: the last one gets a huge cap."""
    return bf.json_number(notional if math.isfinite(notional) else 9e15)


def _num(value: float | None) -> str:
    return bf.dec(repr(float(value))) if value is not None else ""


class DemoBinanceData:
    mode = "demo"

    def __init__(self, market: Any, now_ms: int) -> None:
        self.market = market  # a MarketData (the demo exchange)
        self._now = now_ms
        self._markets: list[Market] | None = None

    @classmethod
    def create(cls, seed: int = 7, now_ms: int | None = None) -> DemoBinanceData:
        from perptui.services.clock import FrozenClock
        from perptui.services.demo import DemoExchange  # type: ignore[attr-defined]
        from tests.conftest import FROZEN_NOW_MS

        now = now_ms if now_ms is not None else FROZEN_NOW_MS
        return cls(DemoExchange(seed=seed, clock=FrozenClock(now)), now)

    def now_ms(self) -> int:
        return self._now

    async def markets(self) -> list[Market]:
        if self._markets is None:
            self._markets = await self.market.load_markets()
        return self._markets

    async def _by_id(self, symbol_id: str | None) -> Market:
        for m in await self.markets():
            if m.id == symbol_id:
                return m
        raise bf.bad_symbol()

    async def _spot_by_id(self, symbol_id: str | None) -> str:
        for m in await self.markets():
            if m.spot_symbol and m.spot_symbol.replace("/", "") == symbol_id:
                return m.spot_symbol
        raise bf.bad_symbol()

    # ---------------------------------------------------------------------------------------- REST

    async def exchange_info(self) -> dict[str, Any]:
        symbols = []
        for m in await self.markets():
            filters = [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _num(m.price_tick),
                    "maxPrice": "10000000",
                    "tickSize": _num(m.price_tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "stepSize": _num(m.amount_step),
                    "minQty": _num(m.min_qty),
                    "maxQty": _num(m.max_qty),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "stepSize": _num(m.amount_step),
                    "minQty": _num(m.min_qty),
                    "maxQty": _num(m.max_qty),
                },
            ]
            if m.min_notional is not None:
                filters.append({"filterType": "MIN_NOTIONAL", "notional": _num(m.min_notional)})
            symbols.append(
                {
                    "symbol": m.id,
                    "pair": m.id,
                    "contractType": "PERPETUAL",
                    "deliveryDate": FAR_FUTURE,
                    "onboardDate": 1_640_995_200_000,
                    "status": "TRADING" if m.active else "SETTLING",
                    "baseAsset": m.base,
                    "quoteAsset": m.quote,
                    "marginAsset": m.settle,
                    "pricePrecision": _decimals(m.price_tick),
                    "quantityPrecision": _decimals(m.amount_step),
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "filters": filters,
                    # Binance's own lists for its perps (exchange_info_2022-05-04.json in ../shared)
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                        "TRAILING_STOP_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self._now,
            "rateLimits": [],
            "assets": [],
            "symbols": symbols,
        }

    async def spot_exchange_info(self) -> dict[str, Any]:
        symbols = []
        perps = await self.exchange_info()
        by_id = {s["symbol"]: s for s in perps["symbols"]}
        for m in await self.markets():
            if m.spot_symbol:
                base, _, quote = m.spot_symbol.partition("/")
                symbols.append(bf.spot_symbol_entry(base + quote, base, quote, by_id.get(m.id)))
        return {"timezone": "UTC", "serverTime": self._now, "rateLimits": [], "symbols": symbols}

    async def premium_index(self, symbol_id: str | None) -> Any:
        markets = await self.markets()
        wanted = [await self._by_id(symbol_id)] if symbol_id is not None else markets
        rates = await self.market.fetch_funding_rates([m.symbol for m in wanted])
        out = []
        for m in wanted:
            r = rates.get(m.symbol)
            if r is None:
                continue
            out.append(
                {
                    "symbol": m.id,
                    "markPrice": _num(r.mark),
                    "indexPrice": _num(r.index),
                    "estimatedSettlePrice": _num(r.index),
                    "lastFundingRate": _num(r.rate),
                    "interestRate": "0.00010000",
                    "nextFundingTime": r.next_funding_time or 0,
                    "time": r.timestamp,
                }
            )
        if symbol_id is not None:
            if not out:
                raise bf.bad_symbol()
            return out[0]
        return out

    async def _page(
        self,
        fetch: Callable[[int, int | None, int], Awaitable[list[Any]]],
        start: int | None,
        end: int | None,
        limit: int,
        step_ms: int,
    ) -> list[Any]:
        """Binance's window over a protocol source that may return short pages."""
        until = (end + 1) if end is not None else self._now + 1
        if start is None:
            rows = await self._collect(fetch, until - (limit + 1) * step_ms, until, 10**9)
            return rows[-limit:]
        return await self._collect(fetch, start, until, limit)

    @staticmethod
    async def _collect(
        fetch: Callable[[int, int | None, int], Awaitable[list[Any]]], since: int, until: int, limit: int
    ) -> list[Any]:
        out: list[Any] = []
        cursor = since
        while len(out) < limit and cursor < until:
            page = await fetch(cursor, until, min(1000, limit - len(out)))
            if not page:
                break
            out.extend(page)
            cursor = page[-1].time + 1
        return out[:limit]

    async def funding_rate(
        self, symbol_id: str | None, start: int | None, end: int | None, limit: int
    ) -> Any:
        if not symbol_id:
            raise BinanceApiError(400, -1102, "Mandatory parameter 'symbol' was not sent.")
        m = await self._by_id(symbol_id)

        async def fetch(since: int, until: int | None, n: int) -> list[FundingPrint]:
            return await self.market.fetch_funding_history(m.symbol, since, until, n)

        prints = await self._page(fetch, start, end, limit, MAX_INTERVAL_MS)
        return [
            {"symbol": m.id, "fundingTime": p.time, "fundingRate": _num(p.rate), "markPrice": ""}
            for p in prints
        ]

    async def funding_info(self) -> list[dict[str, Any]]:
        out = []
        for m in await self.markets():
            hours = m.funding_interval_hours
            if hours and hours != 8:
                out.append(
                    {
                        "symbol": m.id,
                        "adjustedFundingRateCap": "0.02000000",
                        "adjustedFundingRateFloor": "-0.02000000",
                        "fundingIntervalHours": int(hours),
                        "disclaimer": False,
                    }
                )
        return out

    async def klines(
        self, symbol_id: str | None, interval: str, start: int | None, end: int | None, limit: int, spot: bool
    ) -> list[list[Any]]:
        symbol = await self._spot_by_id(symbol_id) if spot else (await self._by_id(symbol_id)).symbol
        interval_ms = bf.INTERVAL_MS.get(interval)
        if interval_ms is None:
            raise BinanceApiError(400, -1120, "Invalid interval.")

        async def fetch(since: int, until: int | None, n: int) -> list[Candle]:
            return await self.market.fetch_ohlcv(symbol, interval, since, until, n)

        candles = await self._page(fetch, start, end, limit, interval_ms)
        return [bf.kline_row(c.time, interval_ms, c.open, c.high, c.low, c.close, c.volume) for c in candles]

    async def ticker_24hr(self, symbol_id: str | None) -> Any:
        markets = await self.markets()
        wanted = [await self._by_id(symbol_id)] if symbol_id is not None else markets
        tickers = await self.market.fetch_tickers([m.symbol for m in wanted])
        out = []
        for m in wanted:
            t = tickers.get(m.symbol)
            if t is None or t.last is None:
                continue
            quote = t.quote_volume_24h or 0.0
            out.append(
                {
                    "symbol": m.id,
                    "lastPrice": _num(t.last),
                    "openPrice": _num(t.last),
                    "highPrice": _num(t.last),
                    "lowPrice": _num(t.last),
                    "volume": _num(round(quote / t.last, 8)),
                    "quoteVolume": _num(quote),
                    "openTime": t.timestamp - 86_400_000,
                    "closeTime": t.timestamp,
                    "count": 1,
                }
            )
        if symbol_id is not None:
            if not out:
                raise bf.bad_symbol()
            return out[0]
        return out

    async def open_interest(self, symbol_id: str | None) -> dict[str, Any]:
        m = await self._by_id(symbol_id)
        t = (await self.market.fetch_tickers([m.symbol])).get(m.symbol)
        amount = t.open_interest if t is not None else None
        if amount is None and t is not None and t.open_interest_usd is not None and t.last:
            amount = t.open_interest_usd / t.last
        return {"openInterest": _num(amount or 0.0), "symbol": m.id, "time": self._now}

    async def leverage_brackets(self, symbol_id: str | None) -> Any:
        markets = await self.markets()
        wanted = [await self._by_id(symbol_id)] if symbol_id is not None else markets
        tiers = await self.market.fetch_leverage_tiers([m.symbol for m in wanted])
        out = []
        for m in wanted:
            brackets = []
            for i, t in enumerate(tiers.get(m.symbol) or m.tiers, start=1):
                brackets.append(
                    {
                        "bracket": i,
                        "initialLeverage": bf.json_number(t.max_leverage),
                        "notionalCap": bf.json_number(
                            t.max_notional if math.isfinite(t.max_notional) else 9e15
                        ),
                        "notionalFloor": bf.json_number(t.min_notional),
                        "maintMarginRatio": t.mmr,
                        "cum": t.maint_amount,
                    }
                )
            out.append({"symbol": m.id, "notionalCoef": 1.0, "brackets": brackets})
        return out
