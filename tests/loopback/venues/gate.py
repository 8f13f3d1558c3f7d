"""A loopback Gate (APIv4, USDT-settled perpetuals) speaking the REST ccxt's ``gate`` calls.

Sources. Contracts and spot pairs: the raw records (``info``) of ../shared/data/ccxt_static/markets/gate.json
(nine USDT perps, seven spot pairs). Funding history: the real BTC_USDT and ETH_USDT prints of
../shared/data/multi_exchange (gate files). Those two files are written in UTC, not UTC+3 like the other
venues' files: their prints fall at 00/08/16, Gate's settlement hours (the fixture's ``funding_next_apply``
1780300800 is 08:00 UTC), so no shift is applied.

Funding history, as Gate documents ``GET /futures/{settle}/funding_rate``: ``contract`` required, ``limit``
default 100 and at most 1000, ``from``/``to`` in seconds; ``to`` defaults to now and ``from`` to "the start
of the range returned by ``to`` and ``limit``": the page is anchored at ``to``, so a window holding more than
``limit`` prints answers with its newest ``limit``. Rows ``{"t": seconds, "r": "rate"}``, newest first.

Risk limit tiers (``GET /futures/{settle}/risk_limit_tiers``): ``risk_limit`` is the position value in USDT
that a tier allows, ``deduction`` the quick-calculation amount (maintenance margin = value x
maintenance_rate - deduction). BTC_USDT serves the ladder a public Gate client pinned from a live capture
(github: the ``BTC_TIERS_RAW`` rows, tiers 1, 2, 3 and 5, whose deductions 250/750/2500 are exactly
sum(risk_limit x step in maintenance_rate), which is what makes the unit USDT); the other contracts
serve one tier built from their fixture's ``risk_limit_base``, ``maintenance_rate`` and ``leverage_max``.
Without ``contract`` the endpoint pages over contracts (``limit``/``offset`` count contracts, not rows) and
each row carries its ``contract``.

Candles (``GET /futures/usdt/candlesticks``): ../shared has no Gate candles, so BTC_USDT and ETH_USDT serve
Binance's real daily (and 8-hourly) perp bars as their prices; ``v`` is the volume in contracts (base
volume / quanto_multiplier), ``sum`` the quote volume. As Gate documents it: ``contract``, ``interval``
(default 5m), ``from``/``to`` in seconds (``to`` defaults to now, ``from`` to ``to`` - 100 intervals),
every bar of [from, to] oldest first, at most 2000 points a request (a wider range is refused:
"Candlestick range too broad"), none older than 10000 intervals before now ("Candlestick too long ago");
``limit`` (at most 2000) returns the newest points and conflicts with ``from`` and ``to`` (refused with
either, as Gate's and ccxt's docs say).

Tickers (``GET /futures/usdt/tickers``) carry no time, as Gate's do; last/mark/index/funding come from the
contract records, and the 24h volume, which the fixtures lack, is the contract's ``position_size`` taken
as the 24h contract count (synthetic, stated here), with ``volume_24h_base``/``_quote`` derived from it.
Currencies (ccxt reads them while loading markets) are the spot pairs' codes without chains.
Margin pairs, BTC-settled perps, delivery futures and options are served empty. Errors are Gate's
``{"label": ..., "message": ...}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.conftest import BINANCE_DATA
from tests.loopback.venues.common import dec
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

PREFIX = "/api/v4"
FUNDING_DEFAULT_LIMIT = 100
FUNDING_MAX_LIMIT = 1000
TIERS_MAX_LIMIT = 100
FUNDING_FILES = {"BTC/USDT:USDT": "BTC-USDT", "ETH/USDT:USDT": "ETH-USDT"}
#: Gate's futures candle intervals (seconds); the loopback serves those it has real bars of.
CANDLE_INTERVALS = {"10s": 10, "30s": 30, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600,
                    "2h": 7200, "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400,
                    "7d": 604800, "1w": 604800, "30d": 2592000}  # fmt: skip
SERVED_INTERVALS = ("8h", "1d")
CANDLE_DEFAULT_INTERVAL = "5m"
CANDLE_DEFAULT_POINTS = 100
CANDLE_MAX_POINTS = 2000
#: Gate serves no candle opened more than this many intervals before now.
CANDLE_MAX_POINTS_AGO = 10000

#: BTC_USDT risk limit tiers as captured live by a public Gate client (see the module docstring).
BTC_TIERS: list[dict[str, Any]] = [
    {"tier": 1, "risk_limit": "500000", "initial_rate": "0.005", "maintenance_rate": "0.003",
     "leverage_max": "200", "deduction": "0"},
    {"tier": 2, "risk_limit": "1000000", "initial_rate": "0.006666", "maintenance_rate": "0.0035",
     "leverage_max": "150.01", "deduction": "250"},
    {"tier": 3, "risk_limit": "1500000", "initial_rate": "0.008", "maintenance_rate": "0.004",
     "leverage_max": "125", "deduction": "750"},
    {"tier": 5, "risk_limit": "3000000", "initial_rate": "0.01", "maintenance_rate": "0.005",
     "leverage_max": "100", "deduction": "2500"},
]  # fmt: skip


def gate_error(label: str, message: str, status: int = 400) -> web.Response:
    return web.json_response({"label": label, "message": message}, status=status)


class GateApp:
    exchange_id = "gate"

    def __init__(self, now_ms: int | None = None) -> None:
        markets = static("markets", "gate")
        self.contracts = {m["id"]: m["info"] for m in markets.values() if m.get("swap")}
        self.spot_pairs = [m["info"] for m in markets.values() if m.get("spot")]
        self.symbols = {m["id"]: s for s, m in markets.items() if m.get("swap")}
        self.sizes = {s: float(m["contractSize"]) for s, m in markets.items() if m.get("swap")}
        self._funding = {
            s: [(t, r) for t, r in multi_exchange_funding(pair, "gate", 0)]
            for s, pair in FUNDING_FILES.items()
        }
        last = max(rows[-1][0] for rows in self._funding.values())
        self.now_ms = now_ms if now_ms is not None else last
        self.funding_symbols = tuple(FUNDING_FILES)
        #: False: the contract listing of risk limit tiers is refused (tests of the per-symbol fallback).
        self.bulk_tiers = True

    # ----------------------------------------------------------------------------- registry surface

    def served_funding(self, symbol: str) -> list[tuple[int, float]]:
        return [(t, float(r)) for t, r in self._funding.get(symbol, []) if t <= self.now_ms]

    def contract_size(self, symbol: str) -> float:
        return self.sizes[symbol]

    def tiers_of(self, contract: str) -> list[dict[str, Any]]:
        """The raw risk limit tiers served for ``contract``."""
        if contract == "BTC_USDT":
            return [dict(t) for t in BTC_TIERS]
        info = self.contracts[contract]
        leverage = info.get("leverage_max")
        if leverage is None or info.get("risk_limit_base") is None:
            return []  # a record without risk limit fields (RAVE in the fixture)
        return [
            {
                "tier": 1,
                "risk_limit": info["risk_limit_base"],
                "initial_rate": repr(round(1 / float(leverage), 8)),
                "maintenance_rate": info["maintenance_rate"],
                "leverage_max": leverage,
                "deduction": "0",
            }
        ]

    # ------------------------------------------------------------------------------------- routes

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        path = request.path
        if not path.startswith(PREFIX):
            return None
        path = path[len(PREFIX) :]
        query = request.query
        try:
            if path == "/spot/currency_pairs":
                return web.json_response(self.spot_pairs)
            if path == "/spot/currencies":
                return web.json_response(self._currencies())
            if path in ("/margin/currency_pairs", "/futures/btc/contracts", "/delivery/usdt/contracts"):
                return web.json_response([])
            if path in ("/options/underlyings", "/delivery/btc/contracts"):
                return web.json_response([])
            if path == "/futures/usdt/contracts":
                return web.json_response(list(self.contracts.values()))
            if path.startswith("/futures/usdt/contracts/"):
                name = path.rsplit("/", 1)[1]
                if name not in self.contracts:
                    return gate_error("CONTRACT_NOT_FOUND", "Contract not found", 404)
                return web.json_response(self.contracts[name])
            if path == "/futures/usdt/tickers":
                return self._tickers(query)
            if path == "/futures/usdt/funding_rate":
                return self._funding_rate(query)
            if path == "/futures/usdt/risk_limit_tiers":
                return self._risk_limit_tiers(query)
            if path == "/futures/usdt/candlesticks":
                return self._candlesticks(query)
        except BadParam as err:
            return gate_error("INVALID_PARAM_VALUE", str(err))
        return None

    def _currencies(self) -> list[dict[str, Any]]:
        """The currencies of the spot pairs, in Gate's shape (name and chains are not in the fixtures)."""
        codes = sorted({p["base"] for p in self.spot_pairs} | {p["quote"] for p in self.spot_pairs})
        return [{"currency": c, "delisted": False, "deposit_disabled": False, "withdraw_disabled": False,
                 "trade_disabled": False, "chains": []} for c in codes]  # fmt: skip

    def _ticker(self, info: dict[str, Any]) -> dict[str, Any]:
        contracts = float(info.get("position_size") or 0)
        last = float(info["last_price"])
        base = contracts * float(info["quanto_multiplier"])
        return {
            "contract": info["name"],
            "last": info["last_price"],
            "change_percentage": "0",
            "total_size": info.get("position_size", "0"),
            "volume_24h": info.get("position_size", "0"),
            "volume_24h_base": repr(round(base, 8)),
            "volume_24h_quote": repr(round(base * last, 4)),
            "volume_24h_settle": repr(round(base * last, 4)),
            "mark_price": info["mark_price"],
            "funding_rate": info.get("funding_rate", "0"),
            "funding_rate_indicative": info.get("funding_rate_indicative", "0"),
            "index_price": info["index_price"],
        }

    def _tickers(self, query: Any) -> web.Response:
        contract = query.get("contract")
        if contract is not None and contract not in self.contracts:
            return gate_error("CONTRACT_NOT_FOUND", "Contract not found", 404)
        infos = [self.contracts[contract]] if contract else list(self.contracts.values())
        # RAVE's sparse record (no prices, no status) is a contract not trading yet: no ticker.
        return web.json_response([self._ticker(info) for info in infos if info.get("last_price")])

    def _funding_rate(self, query: Any) -> web.Response:
        contract = query.get("contract")
        if not contract:
            return gate_error("MISSING_REQUIRED_PARAM", "Missing required parameter: contract")
        if contract not in self.contracts:
            return gate_error("CONTRACT_NOT_FOUND", "Contract not found", 404)
        limit = int_param(query, "limit")
        limit = FUNDING_DEFAULT_LIMIT if limit is None else limit
        if not 1 <= limit <= FUNDING_MAX_LIMIT:
            raise BadParam(f"invalid argument: limit must be between 1 and {FUNDING_MAX_LIMIT}")
        start, end = int_param(query, "from"), int_param(query, "to")
        to_ms = self.now_ms if end is None else min(end * 1000, self.now_ms)
        from_ms = 0 if start is None else start * 1000
        rows = [(t, r) for t, r in self._funding.get(self.symbols[contract], []) if from_ms <= t <= to_ms]
        page = rows[-limit:][::-1]  # anchored at ``to``: the newest ``limit``, newest first
        return web.json_response([{"t": t // 1000, "r": r} for t, r in page])

    def _candlesticks(self, query: Any) -> web.Response:
        contract = query.get("contract")
        if not contract:
            return gate_error("MISSING_REQUIRED_PARAM", "Missing required parameter: contract")
        if contract not in self.contracts:
            return gate_error("CONTRACT_NOT_FOUND", "Contract not found", 404)
        interval = query.get("interval", CANDLE_DEFAULT_INTERVAL)
        seconds = CANDLE_INTERVALS.get(interval)
        if seconds is None:
            raise BadParam(f"Invalid request parameter `interval` value: {interval}")
        if interval not in SERVED_INTERVALS:
            raise BadParam(f"interval {interval} is not served by this loopback (it has {SERVED_INTERVALS})")
        limit, start, end = (int_param(query, k) for k in ("limit", "from", "to"))
        conflicting = start is not None or end is not None
        if limit is not None and (conflicting or not 1 <= limit <= CANDLE_MAX_POINTS):
            raise BadParam(f"Invalid request parameter `limit` value: {limit}")
        bars = stand_in_bars(self.symbols[contract], interval, self.now_ms)
        now = self.now_ms // 1000
        if limit is not None or (start is None and end is None):
            page = bars[-(limit or CANDLE_DEFAULT_POINTS) :]
        else:
            end = now if end is None else end
            start = end - CANDLE_DEFAULT_POINTS * seconds if start is None else start
            if (end - start) // seconds + 1 > CANDLE_MAX_POINTS:
                raise BadParam(
                    f"Candlestick range too broad. Maximum {CANDLE_MAX_POINTS} data points are allowed"
                    " per request"
                )
            if start < now - CANDLE_MAX_POINTS_AGO * seconds:
                raise BadParam(
                    f"Candlestick too long ago. Maximum {CANDLE_MAX_POINTS_AGO} points ago are allowed"
                )
            page = [b for b in bars if start * 1000 <= b[0] <= end * 1000]
        size = self.sizes[self.symbols[contract]]
        return web.json_response([self._candle(bar, size) for bar in page])

    @staticmethod
    def _candle(bar: tuple[int, float, float, float, float, float], size: float) -> dict[str, Any]:
        """A futures candle as Gate writes it: ``v`` in contracts, ``sum`` in the settle currency."""
        t, o, h, low, c, base = bar
        return {"t": t // 1000, "v": round(base / size), "c": dec(c), "h": dec(h), "l": dec(low), "o": dec(o),
                "sum": dec(round(base * c, 4))}  # fmt: skip

    def _risk_limit_tiers(self, query: Any) -> web.Response:
        contract = query.get("contract")
        if contract:
            if contract not in self.contracts:
                return gate_error("CONTRACT_NOT_FOUND", "Contract not found", 404)
            return web.json_response(self.tiers_of(contract))
        if not self.bulk_tiers:
            return gate_error("MISSING_REQUIRED_PARAM", "Missing required parameter: contract")
        limit = int_param(query, "limit") or TIERS_MAX_LIMIT
        offset = int_param(query, "offset") or 0
        if not 1 <= limit <= TIERS_MAX_LIMIT:
            raise BadParam(f"invalid argument: limit must be between 1 and {TIERS_MAX_LIMIT}")
        names = list(self.contracts)[offset : offset + limit]
        return web.json_response([{**row, "contract": name} for name in names for row in self.tiers_of(name)])


def make_gate(now_ms: int | None = None) -> GateApp:
    require_shared(STATIC / "markets" / "gate.json", MULTI, BINANCE_DATA / "ohlcv_1d_perp")
    return GateApp(now_ms)


VENUE_LOOPBACKS["gate"] = make_gate
