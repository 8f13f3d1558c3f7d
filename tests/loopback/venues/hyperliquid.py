"""A loopback speaking Hyperliquid's info API (POST /info) as ccxt calls it: ``metaAndAssetCtxs``,
``spotMetaAndAssetCtxs``, ``perpDexs``, ``meta``, ``spotMeta``, ``fundingHistory`` and ``candleSnapshot``.

Shapes: the perps' ``meta`` universe and asset contexts are the raw records (``info``) of ccxt's
Hyperliquid market fixture (../shared/data/ccxt_static/markets/hyperliquid.json), split back into the
two halves of the ``metaAndAssetCtxs`` answer; the spot pair PURR/USDC likewise. Contexts carry no
time (tickers are stamped on receipt by the client). The universe holds the fixture's five perps in
order, so asset indices are 0..4 here (the fixture's ids 0, 1, 5, 65, 75 come from the full list).
No HIP-3 dex is listed (``perpDexs`` answers ``[null]``, the main dex only).

Funding history: Hyperliquid settles hourly and has no file in ../shared/data/multi_exchange, so the
real hourly histories of dYdX (BTC-USD and ETH-USD, 2022-2024) are served for BTC and ETH, said so here.
The documented paging: ascending from ``startTime``, ``endTime`` optional (default now), at most 500
rows a response. ``premium`` is derived (rate minus the 0.00125% hourly interest), not real.
Candles (``candleSnapshot``: ``req`` {coin, interval, startTime, endTime}): only the most recent 5000
candles of an interval exist (Hyperliquid's docs, as ccxt's ``fetchOHLCV`` limit states); those from the
one holding ``startTime`` (its close ``T`` at or after it, as ccxt's response fixture shows) to the last
opened by ``endTime`` (default now), oldest first. Daily bars (``1d``) of BTC and ETH only, from Binance's
real daily perp bars of the same coin (../shared/data/binance: the only real prices in ../shared, not
Hyperliquid's own); ``n`` (trade count) is not in those files and is served as 0. Another valid interval
answers 422 naming what is served; a coin without bars answers ``[]``.

Unknown request types answer 422 with Hyperliquid's plain-text deserialisation error.
"""

from __future__ import annotations

import bisect
import json
from typing import Any

from aiohttp import web

from tests.loopback.venues import common
from tests.loopback.venues.okx_hl_shared import ccxt_fixture, dec, funding_csv, require_shared
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: Hyperliquid's documented cap on a time-range response.
FUNDING_MAX_ROWS = 500
#: coin -> (pair, venue) of the real hourly history served.
FUNDING_SOURCES = {"BTC": ("BTC-USDT", "dydx"), "ETH": ("ETH-USDT", "dydx")}
META_KEYS = ("szDecimals", "name", "maxLeverage", "onlyIsolated")
HOURLY_INTEREST = 0.0000125
#: Hyperliquid keeps the most recent 5000 candles of each interval.
CANDLES_KEPT = 5000
#: Hyperliquid's intervals (ccxt's timeframes) -> the Binance bar series served for them and their length.
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
SERVED_INTERVALS = {"1d": ("1d", 86_400_000)}
#: coin -> the Binance perp whose real daily bars stand in for its prices.
BAR_SOURCES = {"BTC": "BTCUSDT", "ETH": "ETHUSDT"}


class HyperliquidVenueApp:
    exchange_id = "hyperliquid"

    def __init__(self, now_ms: int | None = None) -> None:
        require_shared()
        common.require(common.BINANCE_DATA / "ohlcv_1d_perp")
        markets = ccxt_fixture("markets", "hyperliquid")
        self.perps = {s: m["info"] for s, m in markets.items() if m.get("swap")}
        self.spots = {s: m["info"] for s, m in markets.items() if m.get("spot")}
        self.symbol_of = {info["name"]: symbol for symbol, info in self.perps.items()}
        self._history = {coin: list(funding_csv(*source)) for coin, source in FUNDING_SOURCES.items()}
        latest = max(rows[-1][0] for rows in self._history.values())
        self.now_ms = latest if now_ms is None else int(now_ms)
        self._history = {
            c: [(t, r) for t, r in rows if t <= self.now_ms] for c, rows in self._history.items()
        }
        self.funding_symbols = tuple(self.symbol_of[coin] for coin in FUNDING_SOURCES)

    # ---------------------------------------------------------------------------- the registry API

    def served_funding(self, symbol: str) -> list[tuple[int, float]]:
        coin = self.perps[symbol]["name"]
        return [(t, float(r)) for t, r in self._history[coin]]

    def contract_size(self, symbol: str) -> float:
        return 1.0

    # ------------------------------------------------------------------------------------- dispatch

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        if request.path != "/info":
            return None
        if request.method != "POST":
            return web.Response(status=405, text="Method Not Allowed")
        try:
            body = await request.json()
        except (ValueError, json.JSONDecodeError):
            return _unreadable("expected value at line 1 column 1")
        kind = body.get("type") if isinstance(body, dict) else None
        answer = ANSWERS.get(kind)
        if answer is None:
            return _unreadable(f"unknown variant `{kind}`")
        try:
            return web.json_response(answer(self, body))
        except _Unreadable as err:
            return _unreadable(str(err))

    # ------------------------------------------------------------------------------------- answers

    def meta(self, body: dict[str, Any]) -> dict[str, Any]:
        universe = [{k: info[k] for k in META_KEYS if k in info} for info in self.perps.values()]
        for entry in universe:  # the API's types: numbers where the fixture kept strings
            entry["szDecimals"] = int(entry["szDecimals"])
            entry["maxLeverage"] = int(entry["maxLeverage"])
        return {"universe": universe}

    def meta_and_asset_ctxs(self, body: dict[str, Any]) -> list[Any]:
        if body.get("dex"):
            return [{"universe": []}, []]
        contexts = [
            {k: v for k, v in info.items() if k not in META_KEYS and k != "baseId"}
            for info in self.perps.values()
        ]
        return [self.meta(body), contexts]

    def spot_meta(self, body: dict[str, Any]) -> dict[str, Any]:
        tokens = [
            {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0, "isCanonical": True},
            {"name": "PURR", "szDecimals": 0, "weiDecimals": 5, "index": 1, "isCanonical": True},
        ]
        universe = [
            {"name": info["name"], "tokens": info["tokens"], "index": int(info["index"]), "isCanonical": True}
            for info in self.spots.values()
        ]
        return {"universe": universe, "tokens": tokens}

    def spot_meta_and_asset_ctxs(self, body: dict[str, Any]) -> list[Any]:
        keys = ("prevDayPx", "dayNtlVlm", "markPx", "midPx", "circulatingSupply", "coin")
        contexts = [{k: info[k] for k in keys if k in info} for info in self.spots.values()]
        return [self.spot_meta(body), contexts]

    def perp_dexs(self, body: dict[str, Any]) -> list[Any]:
        return [None]

    def funding_history(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        coin = body.get("coin")
        start = body.get("startTime")
        if not isinstance(start, int):
            raise _Unreadable("missing field `startTime`")
        end = body.get("endTime")
        end = self.now_ms if end is None else int(end)
        history = self._history.get(coin, [])
        times = [t for t, _ in history]
        lo = bisect.bisect_left(times, start)
        hi = bisect.bisect_right(times, end)
        rows = []
        for t, rate in history[lo : min(hi, lo + FUNDING_MAX_ROWS)]:
            premium = dec(float(rate) - HOURLY_INTEREST)
            rows.append({"coin": coin, "fundingRate": rate, "premium": premium, "time": t})
        return rows

    def candle_snapshot(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        req = body.get("req")
        if not isinstance(req, dict):
            raise _Unreadable("missing field `req`")
        for field in ("coin", "interval", "startTime"):
            if field not in req:
                raise _Unreadable(f"req: missing field `{field}`")
        coin, interval, start = req["coin"], req["interval"], req["startTime"]
        if interval not in INTERVALS:
            expected = ", ".join(f"`{i}`" for i in INTERVALS)
            raise _Unreadable(f"req.interval: unknown variant `{interval}`, expected one of {expected}")
        if interval not in SERVED_INTERVALS:
            raise _Unreadable(f"req.interval: the loopback serves {', '.join(SERVED_INTERVALS)} only")
        if not isinstance(start, int):
            raise _Unreadable("req.startTime: invalid type, expected u64")
        end = req.get("endTime")
        if end is not None and not isinstance(end, int):
            raise _Unreadable("req.endTime: invalid type, expected u64")
        end = self.now_ms if end is None else end
        timeframe, step = SERVED_INTERVALS[interval]
        source = BAR_SOURCES.get(coin)
        if source is None:
            return []
        kept = [b for b in common.binance_bars(source, timeframe) if b[0] <= self.now_ms][-CANDLES_KEPT:]
        return [
            {
                "t": t,
                "T": t + step - 1,
                "s": coin,
                "i": interval,
                "o": common.dec(o),
                "c": common.dec(c),
                "h": common.dec(h),
                "l": common.dec(low),
                "v": common.dec(volume),
                "n": 0,
            }
            for t, o, h, low, c, volume in kept
            if t + step - 1 >= start and t <= end
        ]


class _Unreadable(Exception):
    pass


def _unreadable(detail: str) -> web.Response:
    return web.Response(
        status=422, text=f"Failed to deserialize the JSON body into the target type: {detail}"
    )


ANSWERS = {
    "meta": HyperliquidVenueApp.meta,
    "metaAndAssetCtxs": HyperliquidVenueApp.meta_and_asset_ctxs,
    "spotMeta": HyperliquidVenueApp.spot_meta,
    "spotMetaAndAssetCtxs": HyperliquidVenueApp.spot_meta_and_asset_ctxs,
    "perpDexs": HyperliquidVenueApp.perp_dexs,
    "fundingHistory": HyperliquidVenueApp.funding_history,
    "candleSnapshot": HyperliquidVenueApp.candle_snapshot,
}

VENUE_LOOPBACKS["hyperliquid"] = HyperliquidVenueApp
