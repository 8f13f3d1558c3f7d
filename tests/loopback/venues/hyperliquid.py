"""A loopback speaking Hyperliquid's info API (POST /info) as ccxt calls it: ``metaAndAssetCtxs``,
``spotMetaAndAssetCtxs``, ``perpDexs``, ``meta``, ``spotMeta`` and ``fundingHistory``.

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
Unknown request types answer 422 with Hyperliquid's plain-text deserialisation error.
"""

from __future__ import annotations

import bisect
import json
from typing import Any

from aiohttp import web

from tests.loopback.venues.okx_hl_shared import ccxt_fixture, dec, funding_csv, require_shared
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: Hyperliquid's documented cap on a time-range response.
FUNDING_MAX_ROWS = 500
#: coin -> (pair, venue) of the real hourly history served.
FUNDING_SOURCES = {"BTC": ("BTC-USDT", "dydx"), "ETH": ("ETH-USDT", "dydx")}
META_KEYS = ("szDecimals", "name", "maxLeverage", "onlyIsolated")
HOURLY_INTEREST = 0.0000125


class HyperliquidVenueApp:
    exchange_id = "hyperliquid"

    def __init__(self, now_ms: int | None = None) -> None:
        require_shared()
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
}

VENUE_LOOPBACKS["hyperliquid"] = HyperliquidVenueApp
