"""A loopback Bybit (v5 public REST, linear perps) as ccxt calls it.

Data served:
- Markets: the raw ``info`` records of ccxt's markets fixture (../shared/data/ccxt_static/markets/bybit.json),
  by category (spot, linear, inverse; options have no record there and are served empty).
- Funding: BTC/USDT:USDT and ETH/USDT:USDT print for print from Bybit's real 8-hourly history
  (../shared/data/multi_exchange, 2021-2023). ZRX/USDT:USDT, the fixture's hourly market
  (fundingInterval 60), serves dYdX's real hourly BTC-USDT history (2022-2023): Bybit's own hourly
  history is not in ../shared.
- Prices: Binance's real daily BTC and ETH perp bars (ZRX gets BTC's): the only real prices in ../shared.
  Open interest is the last daily volume (no real figure exists); no test reads it.
- Tiers (/v5/market/risk-limit): no real Bybit tier response exists in ../shared, so each linear market
  gets a ladder in Bybit's shape and unit (riskLimitValue: position value in USDT); without a symbol,
  30 symbols a page linked by ``nextPageCursor`` (empty on the last page).

Wire behaviour, from Bybit's v5 docs as ccxt's source and request fixtures show it:
- /v5/market/funding/history: ``limit`` 1..200 (default 200); with startTime and endTime the NEWEST
  ``limit`` prints of the window, newest first; endTime alone: the newest up to it; startTime alone is
  refused; neither: the newest.
- /v5/market/kline: the newest ``limit`` bars (max 1000, default 200) of [start, end], newest first.
- Tickers carry no per-ticker time (only the envelope's ``time``).
- Errors: HTTP 200 with a non-zero ``retCode`` and ``retMsg``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from tests.loopback.faults import PARTIAL_FILL
from tests.loopback.venues.bybit_orders import BybitAccount, BybitOrderError, Lot
from tests.loopback.venues.common import (
    BINANCE_DATA,
    HOUR_MS,
    MULTI,
    STATIC,
    Bar,
    binance_bars,
    dec,
    funding_history,
    last_at_or_before,
    multi_file,
    require,
    static,
)
from tests.loopback.venues.registry import VENUE_LOOPBACKS

FUNDING_MAX_LIMIT = 200
KLINE_MAX_LIMIT = 1000
KLINE_DEFAULT_LIMIT = 200
#: Symbols per /v5/market/risk-limit page (all their tiers): Bybit's changelog of 2024-05-09, "When query
#: category=linear, API returns 30 symbols data set each request, please add request parameter cursor".
RISK_LIMIT_SYMBOLS_PER_PAGE = 30
#: Bybit kline interval -> the bar series served for it.
INTERVALS = {"D": "1d"}
#: unified symbol -> (funding file base, venue, Binance bars standing in for its prices)
SERVED = {
    "BTC/USDT:USDT": ("BTC", "bybit", "BTCUSDT"),
    "ETH/USDT:USDT": ("ETH", "bybit", "ETHUSDT"),
    "ZRX/USDT:USDT": ("BTC", "dydx", "BTCUSDT"),
}


class BybitError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


def _params_error(what: str) -> BybitError:
    return BybitError(10001, f"params error: {what}")


class BybitLoopback:
    exchange_id = "bybit"

    def __init__(
        self, now_ms: int | None = None, risk_limit_symbols_per_page: int = RISK_LIMIT_SYMBOLS_PER_PAGE
    ) -> None:
        self.risk_limit_symbols_per_page = risk_limit_symbols_per_page
        markets = static("markets", "bybit")
        self.markets = markets
        self.by_id: dict[tuple[str, str], dict[str, Any]] = {}
        for record in markets.values():
            info = record.get("info")
            if info:
                self.by_id[(self._category(record), info["symbol"])] = record
        self._funding = {
            s: funding_history(multi_file(base, venue)) for s, (base, venue, _) in SERVED.items()
        }
        newest = max(rows[-1][0] for rows in self._funding.values())
        self.now_ms = newest if now_ms is None else now_ms
        self.funding_symbols = tuple(SERVED)
        self.account = BybitAccount(
            self._lot, lambda market_id: float(self._ticker(self._unified(market_id))["markPrice"])
        )

    # ------------------------------------------------------------------------------ registry surface

    def served_funding(self, symbol: str) -> list[tuple[int, float]]:
        return [(t, r) for t, r in self._funding[symbol] if t <= self.now_ms]

    def contract_size(self, symbol: str) -> float:
        return float(self.markets[symbol]["contractSize"])

    def market_id(self, symbol: str) -> str:
        return self.markets[symbol]["info"]["symbol"]

    def interval_ms(self, symbol: str) -> int:
        return int(self.markets[symbol]["info"]["fundingInterval"]) * 60_000

    def bars(self, symbol: str, timeframe: str) -> list[Bar]:
        return [b for b in binance_bars(SERVED[symbol][2], timeframe) if b[0] <= self.now_ms]

    def tiers(self, market_id: str) -> list[dict[str, Any]]:
        """A risk-limit ladder in Bybit's shape: riskLimitValue in USDT of position value."""
        record = self.by_id[("linear", market_id)]
        top = float(record["info"]["leverageFilter"]["maxLeverage"])
        base = 2_000_000 if market_id in ("BTCUSDT", "ETHUSDT") else 200_000
        rows, mmr_prev, deduction = [], 0.0, 0.0
        for k in range(1, 7):
            mmr = 0.005 * k
            deduction += (mmr - mmr_prev) * base * (k - 1)
            rows.append(
                {
                    "id": k,
                    "symbol": market_id,
                    "riskLimitValue": dec(base * k),
                    "maintenanceMargin": dec(mmr),
                    "initialMargin": dec(max(1 / top, 0.01 * k)),
                    "isLowestRisk": 1 if k == 1 else 0,
                    "maxLeverage": f"{min(top, 100 / k):.2f}",
                    "mmDeduction": dec(deduction) if k > 1 else "",
                }
            )
            mmr_prev = mmr
        return rows

    @staticmethod
    def _category(record: dict[str, Any]) -> str:
        if record.get("spot"):
            return "spot"
        if record.get("option"):
            return "option"
        return "linear" if record.get("linear") else "inverse"

    # ------------------------------------------------------------------------------------- dispatch

    def _unified(self, market_id: str) -> str:
        return self.by_id[("linear", market_id)]["symbol"]

    def _lot(self, market_id: str) -> Lot | None:
        record = self.by_id.get(("linear", market_id))
        if record is None or record["symbol"] not in SERVED:
            return None
        info = record["info"]
        return Lot(
            tick=Decimal(info["priceFilter"]["tickSize"]),
            step=Decimal(info["lotSizeFilter"]["qtyStep"]),
            min_qty=Decimal(info["lotSizeFilter"]["minOrderQty"]),
            min_notional=Decimal(info["lotSizeFilter"].get("minNotionalValue") or "5"),
        )

    @staticmethod
    def reject_response(code: int, msg: str | None) -> web.StreamResponse:
        """A rejection as Bybit sends it: HTTP 200, the code in ``retCode`` (FaultPlan.reject)."""
        err = BybitOrderError(code, msg)
        return web.json_response(
            {"retCode": err.code, "retMsg": err.msg, "result": {}, "retExtInfo": {}, "time": _now()}
        )

    async def _handle_private(self, request: web.Request) -> web.StreamResponse | None:
        route = PRIVATE_ROUTES.get((request.method, request.path))
        if route is None:
            return None
        headers = request.headers
        if not (
            headers.get("X-BAPI-API-KEY") and headers.get("X-BAPI-SIGN") and headers.get("X-BAPI-TIMESTAMP")
        ):
            return self.reject_response(10003, "API key is invalid.")
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                return self.reject_response(10001, "params error: the body is not JSON")
            params |= body if isinstance(body, dict) else {}
        try:
            result = route(self, params, request.get(PARTIAL_FILL))
        except BybitOrderError as err:
            return self.reject_response(err.code, err.msg)
        return web.json_response(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": _now()}
        )

    # ------------------------------------------------------------------------------- private endpoints

    def _coins(self, q: Any, partial: Any) -> Any:
        """Currencies (ccxt reads them on load_markets when it has keys): none is needed for perps."""
        return {"rows": []}

    def _query_api(self, q: Any, partial: Any) -> Any:
        return {"id": "1", "note": "loopback", "apiKey": "loopback", "readOnly": 0, "secret": "",
                "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": ["AccountTransfer"]},
                "ips": ["*"], "type": 1, "unified": 0, "uta": 1, "isMaster": True}  # fmt: skip

    def _account_info(self, q: Any, partial: Any) -> Any:
        return {"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False,
                "spotHedgingStatus": "OFF", "updatedTime": str(_now())}  # fmt: skip

    def _create(self, q: Any, partial: Any) -> Any:
        return self.account.create(q, partial)

    def _realtime(self, q: Any, partial: Any) -> Any:
        return self.account.realtime(q)

    def _cancel(self, q: Any, partial: Any) -> Any:
        return self.account.cancel(q)

    def _cancel_all(self, q: Any, partial: Any) -> Any:
        return self.account.cancel_all(q)

    def _positions(self, q: Any, partial: Any) -> Any:
        return self.account.position_list(q)

    def _executions(self, q: Any, partial: Any) -> Any:
        return self.account.execution_list(q)

    def _trading_stop(self, q: Any, partial: Any) -> Any:
        return self.account.trading_stop(q)

    def _set_leverage(self, q: Any, partial: Any) -> Any:
        return self.account.set_leverage(q)

    def _wallet(self, q: Any, partial: Any) -> Any:
        return self.account.wallet_balance(q)

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        private = await self._handle_private(request)
        if private is not None:
            return private
        route = ROUTES.get(request.path)
        if route is None:
            return None
        try:
            result = route(self, request.query)
        except BybitError as err:
            return web.json_response(
                {"retCode": err.code, "retMsg": err.msg, "result": {}, "retExtInfo": {}, "time": _now()}
            )
        return web.json_response(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": _now()}
        )

    def _served_symbol(self, q: Any, category: str | None = None) -> str:
        market_id = q.get("symbol")
        if not market_id:
            raise _params_error("symbol is required")
        record = self.by_id.get((category or q.get("category", ""), market_id))
        if record is None or record["symbol"] not in SERVED:
            raise _params_error("Symbol Is Invalid")
        return record["symbol"]

    @staticmethod
    def _int(q: Any, key: str) -> int | None:
        value = q.get(key)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise _params_error(f"{key} invalid") from None

    @staticmethod
    def _limit(q: Any, default: int, top: int) -> int:
        value = BybitLoopback._int(q, "limit")
        return default if value is None else max(1, min(value, top))

    # ------------------------------------------------------------------------------------ endpoints

    def _time(self, q: Any) -> Any:
        now = _now()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def _instruments(self, q: Any) -> Any:
        category = q.get("category")
        if category not in ("spot", "linear", "inverse", "option"):
            raise _params_error("category invalid")
        listed = [] if q.get("status") == "PreLaunch" else [
            dict(r["info"]) for (c, _), r in self.by_id.items() if c == category
        ]  # fmt: skip
        return {"category": category, "list": listed, "nextPageCursor": ""}

    def _ticker(self, symbol: str) -> dict[str, Any]:
        bars = self.bars(symbol, "1d")
        bar = bars[-1]
        prev = bars[-2] if len(bars) > 1 else bar
        prints = self.served_funding(symbol)
        last_print = prints[-1]
        close = bar[4]
        return {
            "symbol": self.market_id(symbol),
            "lastPrice": dec(close),
            "indexPrice": dec(close),
            "markPrice": dec(close),
            "prevPrice24h": dec(prev[4]),
            "price24hPcnt": dec(round(close / prev[4] - 1, 6)),
            "highPrice24h": dec(bar[2]),
            "lowPrice24h": dec(bar[3]),
            "prevPrice1h": dec(close),
            "openInterest": dec(bar[5]),
            "openInterestValue": dec(round(bar[5] * close, 2)),
            "turnover24h": dec(round(bar[5] * close, 4)),
            "volume24h": dec(bar[5]),
            "fundingRate": dec(last_print[1]),
            "nextFundingTime": str(last_print[0] + self.interval_ms(symbol)),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": "1",
            "bid1Price": dec(close),
            "ask1Price": dec(close),
            "bid1Size": "1",
            "basis": "",
        }

    def _tickers(self, q: Any) -> Any:
        category = q.get("category")
        if category not in ("spot", "linear", "inverse", "option"):
            raise _params_error("category invalid")
        if category != "linear":
            return {"category": category, "list": []}
        if q.get("symbol"):
            return {"category": category, "list": [self._ticker(self._served_symbol(q))]}
        return {"category": category, "list": [self._ticker(s) for s in SERVED]}

    def _funding_history(self, q: Any) -> Any:
        symbol = self._served_symbol(q)
        limit = self._limit(q, FUNDING_MAX_LIMIT, FUNDING_MAX_LIMIT)
        start, end = self._int(q, "startTime"), self._int(q, "endTime")
        if start is not None and end is None:
            raise _params_error("endTime is required when startTime is passed")
        rows = [(t, r) for t, r in self.served_funding(symbol) if (start is None or t >= start)]
        rows = [(t, r) for t, r in rows if end is None or t <= end]
        newest = sorted(rows, reverse=True)[:limit]
        market_id = self.market_id(symbol)
        listed = [
            {"symbol": market_id, "fundingRate": dec(r), "fundingRateTimestamp": str(t)} for t, r in newest
        ]
        return {"category": q.get("category"), "list": listed}

    def _kline(self, q: Any) -> Any:
        symbol = self._served_symbol(q)
        timeframe = INTERVALS.get(q.get("interval", ""))
        if timeframe is None:
            raise _params_error(f"interval {q.get('interval')!r} not served by this loopback")
        limit = self._limit(q, KLINE_DEFAULT_LIMIT, KLINE_MAX_LIMIT)
        start, end = self._int(q, "start"), self._int(q, "end")
        rows = [b for b in self.bars(symbol, timeframe) if (start is None or b[0] >= start)]
        rows = [b for b in rows if end is None or b[0] <= end]
        newest = sorted(rows, reverse=True)[:limit]
        listed = [
            [str(b[0]), *(dec(v) for v in b[1:5]), dec(b[5]), dec(round(b[5] * b[4], 4))] for b in newest
        ]
        return {"symbol": self.market_id(symbol), "category": q.get("category"), "list": listed}

    def _open_interest(self, q: Any) -> Any:
        symbol = self._served_symbol(q)
        bar = last_at_or_before(tuple(self.bars(symbol, "1d")), self.now_ms)
        assert bar is not None
        row = {"openInterest": dec(bar[5]), "timestamp": str(self.now_ms - self.now_ms % HOUR_MS)}
        return {"symbol": self.market_id(symbol), "category": q.get("category"), "list": [row],
                "nextPageCursor": ""}  # fmt: skip

    def _risk_limit(self, q: Any) -> Any:
        category = q.get("category")
        if category not in ("linear", "inverse"):
            raise _params_error("category invalid")
        ids = sorted(i for c, i in self.by_id if c == category) if category == "linear" else []
        if q.get("symbol"):
            if q["symbol"] not in ids:
                raise _params_error("Symbol Is Invalid")
            return {"category": category, "list": self.tiers(q["symbol"]), "nextPageCursor": ""}
        start = 0
        cursor = q.get("cursor")
        if cursor:
            try:
                start = int(unquote(cursor).removeprefix("cursor="))
            except ValueError:
                raise _params_error("cursor invalid") from None
        following = start + self.risk_limit_symbols_per_page
        page = [row for market_id in ids[start:following] for row in self.tiers(market_id)]
        next_cursor = quote(f"cursor={following}") if following < len(ids) else ""
        return {"category": category, "list": page, "nextPageCursor": next_cursor}


def _now() -> int:
    return int(time.time() * 1000)


ROUTES = {
    "/v5/market/time": BybitLoopback._time,
    "/v5/market/instruments-info": BybitLoopback._instruments,
    "/v5/market/tickers": BybitLoopback._tickers,
    "/v5/market/funding/history": BybitLoopback._funding_history,
    "/v5/market/kline": BybitLoopback._kline,
    "/v5/market/open-interest": BybitLoopback._open_interest,
    "/v5/market/risk-limit": BybitLoopback._risk_limit,
}


PRIVATE_ROUTES: dict[tuple[str, str], Callable[[BybitLoopback, dict[str, Any], float | None], Any]] = {
    ("GET", "/v5/asset/coin/query-info"): BybitLoopback._coins,
    ("GET", "/v5/user/query-api"): BybitLoopback._query_api,
    ("GET", "/v5/account/info"): BybitLoopback._account_info,
    ("GET", "/v5/account/wallet-balance"): BybitLoopback._wallet,
    ("POST", "/v5/order/create"): BybitLoopback._create,
    ("GET", "/v5/order/realtime"): BybitLoopback._realtime,
    ("POST", "/v5/order/cancel"): BybitLoopback._cancel,
    ("POST", "/v5/order/cancel-all"): BybitLoopback._cancel_all,
    ("GET", "/v5/position/list"): BybitLoopback._positions,
    ("GET", "/v5/execution/list"): BybitLoopback._executions,
    ("POST", "/v5/position/trading-stop"): BybitLoopback._trading_stop,
    ("POST", "/v5/position/set-leverage"): BybitLoopback._set_leverage,
}


def make_bybit(now_ms: int | None) -> BybitLoopback:
    require(STATIC / "markets" / "bybit.json", MULTI, BINANCE_DATA / "ohlcv_1d_perp")
    return BybitLoopback(now_ms)


VENUE_LOOPBACKS["bybit"] = make_bybit
