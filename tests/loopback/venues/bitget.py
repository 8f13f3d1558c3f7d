"""A loopback Bitget (v2 public REST: mix USDT-M perps and spot) as ccxt calls it.

Data served:
- Markets: the raw ``info`` records of ccxt's markets fixture
  (../shared/data/ccxt_static/markets/bitget.json): spot symbols, and contracts by productType
  (USDT-FUTURES, COIN-FUTURES; the other types are empty).
- Funding: ../shared has no Bitget history, so BTC/USDT:USDT and ETH/USDT:USDT serve HTX's real
  8-hourly BTC-USDT and ETH-USDT histories (../shared/data/multi_exchange, 2021-2023), print for print.
- Prices: Binance's real daily BTC and ETH perp bars (the only real prices in ../shared). Open interest
  is the last daily volume (no real figure exists); no test reads it.
- Tiers (/api/v2/mix/market/query-position-lever): Bitget's real BTCUSDT ladder from ccxt's response
  fixture (0-150000 USDT at 125x and 0.4%, ...), in the v2 shape (startUnit/endUnit in USDT of
  position value), for every served perp.

Wire behaviour, from Bitget's v2 docs as ccxt's source and request fixtures show it:
- history-fund-rate ignores any time filter: ``pageSize`` (default 20, max 100) and ``pageNo`` (from 1),
  newest first.
- candles / history-candles: the newest ``limit`` bars (max 1000 / 200) of [startTime, endTime].
- Tickers carry ``ts``; spot tickers have no markPrice.
- Errors: HTTP 400 with ``{"code": "40034", "msg": "Parameter ... does not exist", "data": null}``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from tests.loopback.venues.common import (
    BINANCE_DATA,
    MULTI,
    STATIC,
    Bar,
    binance_bars,
    dec,
    funding_history,
    multi_file,
    require,
    static,
)
from tests.loopback.venues.registry import VENUE_LOOPBACKS

FUNDING_DEFAULT_PAGE = 20
FUNDING_MAX_PAGE = 100
CANDLES_MAX = {"/api/v2/mix/market/candles": 1000, "/api/v2/mix/market/history-candles": 200}
GRANULARITIES = {"1D": "1d", "1Dutc": "1d"}
#: unified symbol -> (funding file base, venue, Binance bars standing in for its prices)
SERVED = {
    "BTC/USDT:USDT": ("BTC", "htx", "BTCUSDT"),
    "ETH/USDT:USDT": ("ETH", "htx", "ETHUSDT"),
}
PRODUCT_TYPES = (
    "USDT-FUTURES",
    "COIN-FUTURES",
    "USDC-FUTURES",
    "SUSDT-FUTURES",
    "SCOIN-FUTURES",
    "SUSDC-FUTURES",
)


class BitgetError(Exception):
    def __init__(self, code: str, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


class BitgetLoopback:
    exchange_id = "bitget"

    def __init__(self, now_ms: int | None = None) -> None:
        self.markets = static("markets", "bitget")
        self._funding = {
            s: funding_history(multi_file(base, venue)) for s, (base, venue, _) in SERVED.items()
        }
        newest = max(rows[-1][0] for rows in self._funding.values())
        self.now_ms = newest if now_ms is None else now_ms
        self.funding_symbols = tuple(SERVED)
        self.swap_by_id = {r["info"]["symbol"]: s for s, r in self.markets.items() if r.get("linear")}
        self.spot_by_id = {r["info"]["symbol"]: s for s, r in self.markets.items() if r.get("spot")}

    # ------------------------------------------------------------------------------ registry surface

    def served_funding(self, symbol: str) -> list[tuple[int, float]]:
        return [(t, r) for t, r in self._funding[symbol] if t <= self.now_ms]

    def contract_size(self, symbol: str) -> float:
        return float(self.markets[symbol]["contractSize"])

    def market_id(self, symbol: str) -> str:
        return self.markets[symbol]["info"]["symbol"]

    def interval_ms(self, symbol: str) -> int:
        return int(self.markets[symbol]["info"]["fundInterval"]) * 3_600_000

    def bars(self, symbol: str, timeframe: str) -> list[Bar]:
        perp = symbol if symbol in SERVED else f"{symbol}:USDT"
        return [b for b in binance_bars(SERVED[perp][2], timeframe) if b[0] <= self.now_ms]

    def tiers(self, market_id: str) -> list[dict[str, Any]]:
        """Bitget's real BTCUSDT ladder (ccxt's UTA response fixture) in the v2 shape."""
        fixture = static("response", "bitget")["methods"]["fetchMarketLeverageTiers"][0]["httpResponse"]
        return [
            {
                "symbol": market_id,
                "level": row["tier"],
                "startUnit": row["minTierValue"],
                "endUnit": row["maxTierValue"],
                "leverage": row["leverage"],
                "keepMarginRate": row["mmr"],
            }
            for row in fixture["data"]
        ]

    # ------------------------------------------------------------------------------------- dispatch

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        route = ROUTES.get(request.path)
        if route is None:
            return None
        now = _now()
        try:
            data = route(self, request.query, request.path)
        except BitgetError as err:
            body = {"code": err.code, "msg": err.msg, "requestTime": now, "data": None}
            return web.json_response(body, status=err.status)
        return web.json_response({"code": "00000", "msg": "success", "requestTime": now, "data": data})

    def _served_symbol(self, q: Any) -> str:
        market_id = q.get("symbol")
        if not market_id:
            raise BitgetError("40019", "Parameter symbol cannot be empty")
        symbol = self.swap_by_id.get(market_id)
        if symbol not in SERVED:
            raise BitgetError("40034", f"Parameter {market_id} does not exist")
        self._product_type(q)
        return symbol

    @staticmethod
    def _product_type(q: Any) -> str:
        product = q.get("productType", "")
        if product.upper() not in PRODUCT_TYPES:
            raise BitgetError("40017", "Parameter verification failed: productType")
        return product.upper()

    @staticmethod
    def _int(q: Any, key: str, default: int | None = None) -> int | None:
        value = q.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise BitgetError("40017", f"Parameter verification failed: {key}") from None

    # ------------------------------------------------------------------------------------ endpoints

    def _time(self, q: Any, path: str) -> Any:
        return {"serverTime": str(_now())}

    def _contracts(self, q: Any, path: str) -> Any:
        product = self._product_type(q)
        wanted = {"USDT-FUTURES": "linear", "COIN-FUTURES": "inverse"}.get(product)
        return [dict(r["info"]) for r in self.markets.values() if wanted and r.get("swap") and r.get(wanted)]

    def _spot_symbols(self, q: Any, path: str) -> Any:
        return [dict(r["info"]) for r in self.markets.values() if r.get("spot")]

    def _margin_currencies(self, q: Any, path: str) -> Any:
        return []

    def _coins(self, q: Any, path: str) -> Any:
        """Spot coins (ccxt loads them with the markets); no deposit chains are served."""
        coins = sorted(
            {r["info"][k] for r in self.markets.values() if r.get("spot") for k in ("baseCoin", "quoteCoin")}
        )
        return [
            {"coinId": str(i), "coin": c, "transfer": "true", "chains": []} for i, c in enumerate(coins, 1)
        ]

    def _day(self, symbol: str) -> tuple[Bar, Bar]:
        bars = self.bars(symbol, "1d")
        return bars[-1], bars[-2] if len(bars) > 1 else bars[-1]

    def _mix_tickers(self, q: Any, path: str) -> Any:
        if self._product_type(q) != "USDT-FUTURES":
            return []
        symbols = [self._served_symbol(q)] if q.get("symbol") else list(SERVED)
        out = []
        for symbol in symbols:
            bar, prev = self._day(symbol)
            close = bar[4]
            out.append(
                {
                    "symbol": self.market_id(symbol),
                    "lastPr": dec(close),
                    "askPr": dec(close),
                    "bidPr": dec(close),
                    "bidSz": "1",
                    "askSz": "1",
                    "high24h": dec(bar[2]),
                    "low24h": dec(bar[3]),
                    "ts": str(self.now_ms),
                    "change24h": dec(round(close / prev[4] - 1, 5)),
                    "baseVolume": dec(bar[5]),
                    "quoteVolume": dec(round(bar[5] * close, 4)),
                    "usdtVolume": dec(round(bar[5] * close, 4)),
                    "openUtc": dec(bar[1]),
                    "changeUtc24h": dec(round(close / bar[1] - 1, 5)),
                    "indexPrice": dec(close),
                    "fundingRate": dec(self.served_funding(symbol)[-1][1]),
                    "holdingAmount": dec(bar[5]),
                    "deliveryStartTime": None,
                    "deliveryTime": None,
                    "deliveryStatus": "",
                    "open24h": dec(prev[4]),
                    "markPrice": dec(close),
                }
            )
        return out

    def _spot_tickers(self, q: Any, path: str) -> Any:
        out = []
        for symbol in SERVED:
            bar, prev = self._day(symbol)
            close = bar[4]
            out.append(
                {
                    "open": dec(prev[4]),
                    "symbol": self.market_id(symbol),
                    "high24h": dec(bar[2]),
                    "low24h": dec(bar[3]),
                    "lastPr": dec(close),
                    "quoteVolume": dec(round(bar[5] * close, 4)),
                    "baseVolume": dec(bar[5]),
                    "usdtVolume": dec(round(bar[5] * close, 4)),
                    "ts": str(self.now_ms),
                    "bidPr": dec(close),
                    "askPr": dec(close),
                    "bidSz": "1",
                    "askSz": "1",
                    "openUtc": dec(bar[1]),
                    "changeUtc24h": dec(round(close / bar[1] - 1, 5)),
                    "change24h": dec(round(close / prev[4] - 1, 5)),
                }
            )
        return out

    def _current_fund_rate(self, q: Any, path: str) -> Any:
        if self._product_type(q) != "USDT-FUTURES":
            return []
        symbols = [self._served_symbol(q)] if q.get("symbol") else list(SERVED)
        out = []
        for symbol in symbols:
            t, rate = self.served_funding(symbol)[-1]
            hours = self.interval_ms(symbol) // 3_600_000
            out.append(
                {
                    "symbol": self.market_id(symbol),
                    "fundingRate": dec(rate),
                    "fundingRateInterval": str(hours),
                    "nextUpdate": str(t + self.interval_ms(symbol)),
                    "minFundingRate": "-0.003",
                    "maxFundingRate": "0.003",
                }
            )
        return out

    def _history_fund_rate(self, q: Any, path: str) -> Any:
        symbol = self._served_symbol(q)
        size = min(max(self._int(q, "pageSize", FUNDING_DEFAULT_PAGE) or 1, 1), FUNDING_MAX_PAGE)
        page_no = max(self._int(q, "pageNo", 1) or 1, 1)
        newest_first = sorted(self.served_funding(symbol), reverse=True)
        page = newest_first[(page_no - 1) * size : page_no * size]
        market_id = self.market_id(symbol)
        return [{"symbol": market_id, "fundingRate": dec(r), "fundingTime": str(t)} for t, r in page]

    def _position_lever(self, q: Any, path: str) -> Any:
        symbol = self._served_symbol(q)
        return self.tiers(self.market_id(symbol))

    def _candles(self, q: Any, path: str) -> Any:
        symbol = self._served_symbol(q)
        timeframe = GRANULARITIES.get(q.get("granularity", ""))
        if timeframe is None:
            raise BitgetError("40017", f"Parameter verification failed: granularity {q.get('granularity')}")
        top = CANDLES_MAX[path]
        limit = min(max(self._int(q, "limit", 100) or 1, 1), top)
        start, end = self._int(q, "startTime"), self._int(q, "endTime")
        rows = [b for b in self.bars(symbol, timeframe) if (start is None or b[0] >= start)]
        rows = [b for b in rows if end is None or b[0] <= end][-limit:]
        return [[str(b[0]), *(dec(v) for v in b[1:5]), dec(b[5]), dec(round(b[5] * b[4], 4))] for b in rows]

    def _open_interest(self, q: Any, path: str) -> Any:
        symbol = self._served_symbol(q)
        bar, _ = self._day(symbol)
        return {
            "openInterestList": [{"symbol": self.market_id(symbol), "size": dec(bar[5])}],
            "ts": str(self.now_ms),
        }


def _now() -> int:
    return int(time.time() * 1000)


ROUTES = {
    "/api/v2/public/time": BitgetLoopback._time,
    "/api/v2/mix/market/contracts": BitgetLoopback._contracts,
    "/api/v2/spot/public/symbols": BitgetLoopback._spot_symbols,
    "/api/v2/margin/currencies": BitgetLoopback._margin_currencies,
    "/api/v2/spot/public/coins": BitgetLoopback._coins,
    "/api/v2/mix/market/tickers": BitgetLoopback._mix_tickers,
    "/api/v2/spot/market/tickers": BitgetLoopback._spot_tickers,
    "/api/v2/mix/market/current-fund-rate": BitgetLoopback._current_fund_rate,
    "/api/v2/mix/market/history-fund-rate": BitgetLoopback._history_fund_rate,
    "/api/v2/mix/market/query-position-lever": BitgetLoopback._position_lever,
    "/api/v2/mix/market/candles": BitgetLoopback._candles,
    "/api/v2/mix/market/history-candles": BitgetLoopback._candles,
    "/api/v2/mix/market/open-interest": BitgetLoopback._open_interest,
}


def make_bitget(now_ms: int | None) -> BitgetLoopback:
    require(STATIC / "markets" / "bitget.json", MULTI, BINANCE_DATA / "ohlcv_1d_perp")
    return BitgetLoopback(now_ms)


VENUE_LOOPBACKS["bitget"] = make_bitget
