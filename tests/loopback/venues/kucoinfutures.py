"""A loopback KuCoin futures speaking the REST ccxt's ``kucoinfutures`` calls (api-futures and the
unified-account host both land here).

Sources. Contracts: the raw records (``info``) of ../shared/data/ccxt_static/markets/kucoinfutures.json
(eight USDT perps and the inverse XBTUSDM), which carry the ticker fields too (``lastTradePrice``,
``markPrice``, ``indexPrice``, ``volumeOf24h`` in base units, ``turnoverOf24h`` in USDT and no time: the
contract list is what ccxt reads as tickers). Funding history: the real XBTUSDTM and ETHUSDTM prints of
../shared/data/multi_exchange (kucoin files, written in UTC+3: 3 hours are subtracted, which puts them at
04/12/20 UTC, KuCoin's settlement hours).

Funding history (``GET /api/v1/contract/funding-rates``): ``symbol``, ``from`` and ``to`` (ms) are all
required; rows ``{symbol, fundingRate, timepoint}`` newest first, at most 100, the newest of the window
(the documented page lists no paging parameter; the cap of 100 and the anchoring at ``to`` are the
endpoint's observed behaviour).

Candles (``GET /api/v1/kline/query``): ../shared has no KuCoin candles, so XBTUSDTM and ETHUSDTM serve
Binance's real daily (and 8-hourly) perp bars as their prices, ``[time ms, open, high, low, close,
volume in lots]`` oldest first. As KuCoin documents it: ``symbol`` and ``granularity`` (minutes: 1, 5, 15,
30, 60, 120, 240, 480, 720, 1440, 10080; others are rejected) required, ``from``/``to`` in ms, at most 500
bars a request: a window holding more answers with 500 of them, the 500 closest to ``to`` (the docs say
so when only ``to`` is given and leave the both-bounds case unsaid: the loopback takes the end-anchored
reading, the one a client must guard against); ``from`` alone: the 500 from ``from``; neither: the 500
closest to now.

Risk limits (``GET /api/v1/contracts/risk-limit/{symbol}``): XBTUSDTM serves the three levels of KuCoin's
documented example response (0-500k 125x 0.4%, 500k-1M 100x 0.5%, 1M-2M 75x 0.7%; position values in
USDT); the other contracts one level from their fixture's ``maxRiskLimit``, ``maxLeverage``,
``initialMargin`` and ``maintainMargin``.

Spot symbols (asked because the adapter loads spot twins) are served empty and currencies (read while
loading markets) are the contracts' codes without chains: the fixtures hold no KuCoin
spot market. Errors are KuCoin's ``{"code": ..., "msg": ...}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.conftest import BINANCE_DATA
from tests.loopback.venues.gate_kucoin_shared import (
    MULTI,
    STATIC,
    BadParam,
    int_param,
    multi_exchange_funding,
    require_shared,
    stand_in_bars,
    static,
)
from tests.loopback.venues.registry import VENUE_LOOPBACKS

FUNDING_PAGE = 100
FUNDING_FILES = {"BTC/USDT:USDT": "BTC-USDT", "ETH/USDT:USDT": "ETH-USDT"}
UTC_PLUS_3 = 3
#: KuCoin's kline granularities (minutes) -> the bar series the loopback serves for them (None: not served).
GRANULARITIES = {1: None, 5: None, 15: None, 30: None, 60: None, 120: None, 240: None, 480: "8h", 720: None,
                 1440: "1d", 10080: None}  # fmt: skip
KLINE_MAX = 500

#: KuCoin's documented example answer of /api/v1/contracts/risk-limit/XBTUSDTM.
XBT_RISK_LIMITS: list[dict[str, Any]] = [
    {"symbol": "XBTUSDTM", "level": 1, "maxRiskLimit": 500000, "minRiskLimit": 0, "maxLeverage": 125,
     "initialMargin": 0.008, "maintainMargin": 0.004},
    {"symbol": "XBTUSDTM", "level": 2, "maxRiskLimit": 1000000, "minRiskLimit": 500000, "maxLeverage": 100,
     "initialMargin": 0.01, "maintainMargin": 0.005},
    {"symbol": "XBTUSDTM", "level": 3, "maxRiskLimit": 2000000, "minRiskLimit": 1000000, "maxLeverage": 75,
     "initialMargin": 0.0133, "maintainMargin": 0.007},
]  # fmt: skip


def kucoin_error(code: str, msg: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


def ok(data: Any) -> web.Response:
    return web.json_response({"code": "200000", "data": data})


class KucoinFuturesApp:
    exchange_id = "kucoinfutures"

    def __init__(self, now_ms: int | None = None) -> None:
        markets = static("markets", "kucoinfutures")
        self.contracts = {m["id"]: m["info"] for m in markets.values()}
        self.symbols = {m["id"]: s for s, m in markets.items()}
        self.sizes = {s: float(m["contractSize"]) for s, m in markets.items()}
        self._funding = {
            s: list(multi_exchange_funding(pair, "kucoin", UTC_PLUS_3)) for s, pair in FUNDING_FILES.items()
        }
        last = max(rows[-1][0] for rows in self._funding.values())
        self.now_ms = now_ms if now_ms is not None else last
        self.funding_symbols = tuple(FUNDING_FILES)

    # ----------------------------------------------------------------------------- registry surface

    def served_funding(self, symbol: str) -> list[tuple[int, float]]:
        return [(t, float(r)) for t, r in self._funding.get(symbol, []) if t <= self.now_ms]

    def contract_size(self, symbol: str) -> float:
        return self.sizes[symbol]

    def risk_limits_of(self, contract: str) -> list[dict[str, Any]]:
        if contract == "XBTUSDTM":
            return [dict(level) for level in XBT_RISK_LIMITS]
        info = self.contracts[contract]
        return [
            {
                "symbol": contract,
                "level": 1,
                "maxRiskLimit": info["maxRiskLimit"],
                "minRiskLimit": 0,
                "maxLeverage": info["maxLeverage"],
                "initialMargin": info["initialMargin"],
                "maintainMargin": info["maintainMargin"],
            }
        ]

    # ------------------------------------------------------------------------------------- routes

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        path, query = request.path, request.query
        try:
            if path == "/api/v1/contracts/active":
                return ok(list(self.contracts.values()))
            if path == "/api/v2/symbols":
                return ok([])
            if path == "/api/v3/currencies":
                return ok(self._currencies())
            if path == "/api/v1/contract/funding-rates":
                return self._funding_rates(query)
            if path.startswith("/api/v1/contracts/risk-limit/"):
                contract = path.rsplit("/", 1)[1]
                if contract not in self.contracts:
                    return kucoin_error("100001", "Contract does not exist")
                return ok(self.risk_limits_of(contract))
            if path.startswith("/api/v1/funding-rate/") and path.endswith("/current"):
                return self._current_funding(path.split("/")[4])
            if path == "/api/ua/v2/market/funding-rate":
                return ok([self._uta_funding(c) for c in self.contracts])
            if path == "/api/v1/kline/query":
                return self._klines(query)
            if path == "/api/ua/v1/market/open-interest":
                return self._open_interest(query)
        except BadParam as err:
            return kucoin_error("400100", str(err))
        return None

    def _currencies(self) -> list[dict[str, Any]]:
        """The contracts' currencies in KuCoin's shape (names and chains are not in the fixtures)."""
        codes = sorted({i[k] for i in self.contracts.values() for k in ("baseCurrency", "quoteCurrency")})
        return [{"currency": c, "name": c, "fullName": c, "precision": 8, "isMarginEnabled": False,
                 "isDebitEnabled": False, "chains": []} for c in codes]  # fmt: skip

    def _funding_rates(self, query: Any) -> web.Response:
        contract = query.get("symbol")
        if not contract:
            raise BadParam("symbol is required")
        start = int_param(query, "from", required=True)
        end = int_param(query, "to", required=True)
        if contract not in self.contracts:
            return kucoin_error("100001", "Contract does not exist")
        assert start is not None and end is not None
        rows = [(t, r) for t, r in self._funding.get(self.symbols[contract], []) if start <= t <= end]
        rows = [(t, r) for t, r in rows if t <= self.now_ms][-FUNDING_PAGE:][::-1]
        return ok([{"symbol": contract, "fundingRate": float(r), "timepoint": t} for t, r in rows])

    def _klines(self, query: Any) -> web.Response:
        contract = query.get("symbol")
        if not contract:
            raise BadParam("symbol is required")
        granularity = int_param(query, "granularity", required=True)
        if granularity not in GRANULARITIES:
            raise BadParam(f"granularity {granularity} is invalid, it must be one of {sorted(GRANULARITIES)}")
        if contract not in self.contracts:
            return kucoin_error("100001", "Contract does not exist")
        timeframe = GRANULARITIES[granularity]
        if timeframe is None:
            raise BadParam(f"granularity {granularity} is not served by this loopback (480 and 1440 are)")
        start, end = int_param(query, "from"), int_param(query, "to")
        bars = stand_in_bars(self.symbols[contract], timeframe, self.now_ms)
        rows = [b for b in bars if (start is None or b[0] >= start) and (end is None or b[0] <= end)]
        rows = rows[:KLINE_MAX] if start is not None and end is None else rows[-KLINE_MAX:]
        size = self.sizes[self.symbols[contract]]
        return ok([[t, o, h, low, c, round(base / size)] for t, o, h, low, c, base in rows])

    def _current_funding(self, contract: str) -> web.Response:
        info = self.contracts.get(contract)
        if info is None:
            return kucoin_error("100001", "Contract does not exist")
        granularity = int(info.get("fundingRateGranularity") or 28_800_000)
        return ok(
            {
                "symbol": info["fundingRateSymbol"],
                "granularity": granularity,
                "timePoint": self.now_ms - self.now_ms % granularity,
                "value": info["fundingFeeRate"],
                "predictedValue": info["predictedFundingFeeRate"],
            }
        )

    def _uta_funding(self, contract: str) -> dict[str, Any]:
        info = self.contracts[contract]
        granularity = int(info.get("fundingRateGranularity") or 28_800_000)
        return {
            "symbol": contract,
            "nextFundingRate": str(info["fundingFeeRate"]),
            "fundingTime": self.now_ms + int(info.get("nextFundingRateTime") or 0),
            "currentGranularity": granularity,
            "newGranularity": granularity,
        }

    def _open_interest(self, query: Any) -> web.Response:
        wanted = [s for s in (query.get("symbol") or "").split(",") if s] or list(self.contracts)
        return ok(
            [
                {"symbol": c, "openInterest": self.contracts[c]["openInterest"], "ts": self.now_ms}
                for c in wanted
                if c in self.contracts
            ]
        )


def make_kucoinfutures(now_ms: int | None = None) -> KucoinFuturesApp:
    require_shared(STATIC / "markets" / "kucoinfutures.json", MULTI, BINANCE_DATA / "ohlcv_1d_perp")
    return KucoinFuturesApp(now_ms)


VENUE_LOOPBACKS["kucoinfutures"] = make_kucoinfutures
