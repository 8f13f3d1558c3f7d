"""A loopback exchange speaking Binance USDⓈ-M futures REST (or another exchange's, through a venue
app), for pointing real ccxt at in tests.

It runs an aiohttp server on 127.0.0.1 (a free port) in a background thread with its own event loop,
so async tests (``asyncio.run``) and subprocess CLI tests can both use ``base_url``. Every request is
recorded; faults are injected through ``faults``; paths it does not serve answer 404 and are listed in
``unknown_paths`` (the fixtures fail the test on them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import binance_format as bf
from tests.loopback.binance_format import BinanceApiError
from tests.loopback.binance_orders import BinanceOrders, Filters
from tests.loopback.binance_orders import reject as binance_reject
from tests.loopback.faults import PARTIAL_FILL, FaultPlan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    signed: bool  # carried an API-key header, a timestamp and a signature
    fault: str | None  # the fault applied, if any
    body: Any = None  # a POST/PUT body: JSON (Hyperliquid, Bybit) or a form as a dict (Binance), else None
    at: float = field(default_factory=time.monotonic)


@dataclass
class LoopbackAccount:
    """The state behind the signed endpoints: one settle asset, open positions (Binance fields), the
    marks orders fill at (``set_mark``) and the orders (``orders``, tests/loopback/binance_orders.py)."""

    asset: str = "USDT"
    wallet_balance: float = 1000.0
    leverage: int = 10  # of positions the orders open (without a per-symbol setting)
    #: POST /fapi/v1/leverage and /fapi/v1/marginType: per symbol, as Binance keeps them.
    symbol_leverage: dict[str, int] = field(default_factory=dict)
    margin_types: dict[str, str] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=lambda: {"BTCUSDT": 61000.0})
    positions: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "symbol": "BTCUSDT",
                "positionAmt": "0.010",
                "entryPrice": "60000.0",
                "markPrice": "61000.0",
                "leverage": "10",
                "marginType": "cross",
                "positionSide": "BOTH",
            }
        ]
    )

    def __post_init__(self) -> None:
        self.orders = BinanceOrders(self)

    def set_mark(self, symbol: str, price: float) -> None:
        """Move ``symbol``'s mark (Binance id, e.g. BTCUSDT): positions revalue, resting limits fill and
        conditional orders whose trigger it crosses fire."""
        self.marks[symbol] = float(price)
        for raw in self.positions:
            if raw["symbol"] == symbol:
                raw["markPrice"] = bf.dec(price)
        self.orders.on_mark(symbol)

    def _pos(self, raw: dict[str, Any], version: int) -> dict[str, Any]:
        amount = float(raw["positionAmt"])
        entry, mark = float(raw["entryPrice"]), float(raw["markPrice"])
        leverage = float(raw.get("leverage", 10))
        notional = amount * mark
        pnl = amount * (mark - entry)
        initial = abs(notional) / leverage
        # An isolated position's own wallet (the margin put in at the entry) and margin balance: how
        # clients (ccxt) tell isolated from cross in v3, whose rows have no marginType.
        isolated = raw.get("marginType") == "isolated"
        own_wallet = abs(amount) * entry / leverage if isolated else 0.0
        out = {
            "symbol": raw["symbol"],
            "positionSide": raw.get("positionSide", "BOTH"),
            "positionAmt": raw["positionAmt"],
            "entryPrice": raw["entryPrice"],
            "breakEvenPrice": raw["entryPrice"],
            "markPrice": raw["markPrice"],
            "unRealizedProfit": bf.dec(round(pnl, 8)),
            "liquidationPrice": raw.get("liquidationPrice", "0"),
            "isolatedMargin": bf.dec(round(own_wallet + pnl, 8)) if isolated else "0",
            "notional": bf.dec(round(notional, 8)),
            "isolatedWallet": bf.dec(round(own_wallet, 8)) if isolated else "0",
            "updateTime": 1_700_000_000_000,
        }
        if version >= 3:
            out |= {
                "initialMargin": bf.dec(round(initial, 8)),
                "maintMargin": bf.dec(round(abs(notional) * 0.004, 8)),
                "positionInitialMargin": bf.dec(round(initial, 8)),
                "openOrderInitialMargin": "0",
                "adl": 1,
                "bidNotional": "0",
                "askNotional": "0",
                "marginAsset": self.asset,
            }
        else:
            out |= {
                "leverage": raw.get("leverage", "10"),
                "maxNotionalValue": "1000000",
                "marginType": raw.get("marginType", "cross"),
                "isAutoAddMargin": "false",
                "isolated": raw.get("marginType") == "isolated",
                "adlQuantile": 1,
            }
        return out

    def totals(self) -> dict[str, float]:
        pnl = sum(
            float(p["positionAmt"]) * (float(p["markPrice"]) - float(p["entryPrice"])) for p in self.positions
        )
        initial = sum(
            abs(float(p["positionAmt"]) * float(p["markPrice"])) / float(p.get("leverage", 10))
            for p in self.positions
        )
        margin_balance = self.wallet_balance + pnl
        return {"pnl": pnl, "initial": initial, "margin": margin_balance, "free": margin_balance - initial}

    def balance(self) -> list[dict[str, Any]]:
        t = self.totals()
        return [
            {
                "accountAlias": "loopback",
                "asset": self.asset,
                "balance": bf.dec(self.wallet_balance),
                "crossWalletBalance": bf.dec(self.wallet_balance),
                "crossUnPnl": bf.dec(round(t["pnl"], 8)),
                "availableBalance": bf.dec(round(t["free"], 8)),
                "maxWithdrawAmount": bf.dec(round(t["free"], 8)),
                "marginAvailable": True,
                "updateTime": 1_700_000_000_000,
            }
        ]

    def account(self, version: int) -> dict[str, Any]:
        t = self.totals()
        asset = {
            "asset": self.asset,
            "walletBalance": bf.dec(self.wallet_balance),
            "unrealizedProfit": bf.dec(round(t["pnl"], 8)),
            "marginBalance": bf.dec(round(t["margin"], 8)),
            "maintMargin": "0",
            "initialMargin": bf.dec(round(t["initial"], 8)),
            "positionInitialMargin": bf.dec(round(t["initial"], 8)),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": bf.dec(self.wallet_balance),
            "crossUnPnl": bf.dec(round(t["pnl"], 8)),
            "availableBalance": bf.dec(round(t["free"], 8)),
            "maxWithdrawAmount": bf.dec(round(t["free"], 8)),
            "updateTime": 1_700_000_000_000,
        }
        return {
            "totalInitialMargin": asset["initialMargin"],
            "totalMaintMargin": "0",
            "totalWalletBalance": asset["walletBalance"],
            "totalUnrealizedProfit": asset["unrealizedProfit"],
            "totalMarginBalance": asset["marginBalance"],
            "availableBalance": asset["availableBalance"],
            "maxWithdrawAmount": asset["maxWithdrawAmount"],
            "assets": [asset],
            "positions": [self._pos(p, version) for p in self.positions],
        }

    def position_risk(self, version: int) -> list[dict[str, Any]]:
        return [self._pos(p, version) for p in self.positions]


class LoopbackExchange:
    """The server. ``source`` is a data source (``RealBinanceData``, ``DemoBinanceData``) or a
    zero-argument factory for one, called in the server's thread on first use.

    A source with an async ``handle(request) -> web.StreamResponse | None`` is a *venue app* speaking
    another exchange's REST (``tests/loopback/venues``): it answers every request itself (None for a path
    it does not serve), and the Binance routes below are not used. Faults and the request log apply to
    every venue alike.
    """

    def __init__(
        self, source: Any | Callable[[], Any], *, mode: str | None = None, host: str = "127.0.0.1"
    ) -> None:
        self._source_or_factory = source
        self._mode = mode or getattr(source, "mode", None) or "?"
        self._source: Any = None
        self.host = host
        self.port: int | None = None
        self.faults = FaultPlan()
        self.account = LoopbackAccount()
        self._requests: list[RecordedRequest] = []
        self._unknown: list[str] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # ------------------------------------------------------------------------------ public surface

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("loopback exchange not started")
        return f"http://{self.host}:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def source(self) -> Any:
        if self._source is None:
            candidate = self._source_or_factory
            is_source = hasattr(candidate, "exchange_info") or hasattr(candidate, "handle")
            self._source = candidate if is_source else candidate()
        return self._source

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def non_get_requests(self) -> list[RecordedRequest]:
        """Every request that was not a GET (orders placed, cancelled, edited): what a read-only flow
        must never send."""
        return [r for r in self.requests if r.method != "GET"]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    @property
    def unknown_paths(self) -> list[str]:
        with self._lock:
            return list(self._unknown)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def start(self) -> LoopbackExchange:
        self._thread = threading.Thread(target=self._run, name="loopback-exchange", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"loopback exchange did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> LoopbackExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------ plumbing

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _startup(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def _shutdown(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        path = request.path
        query = dict(request.query)
        delay, fault = self.faults.take(path)
        body = await _read_body(request)  # aiohttp keeps the body: the handler reads it again
        params = query | body if isinstance(body, dict) else query
        headers = request.headers
        signed = (
            bool(headers.get("X-MBX-APIKEY")) and "signature" in params and "timestamp" in params
        ) or bool(
            headers.get("X-BAPI-API-KEY") and headers.get("X-BAPI-SIGN")  # Bybit v5
        )
        with self._lock:
            self._requests.append(
                RecordedRequest(request.method, path, query, signed, fault.kind if fault else None, body)
            )
        if delay:
            await asyncio.sleep(delay)
        if fault is not None:
            if fault.kind == "accept_timeout":
                # The exchange acts on the request (the order is placed) but the answer never arrives
                # within the client's timeout: the client must look the order up, not send it again.
                response = await handler(request)
                assert self._stopping is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), fault.delay_s or 30.0)
                return response
            if fault.kind == "reject":
                return self._reject_response(fault.code, fault.msg)
            if fault.kind == "partial":
                request[PARTIAL_FILL] = fault.fraction
                return await handler(request)
            if fault.kind == "timeout":
                assert self._stopping is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), fault.delay_s or 30.0)
                return web.json_response(
                    {"code": -1007, "msg": "Timeout waiting for response from backend."}, status=408
                )
            if fault.kind == "status":
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                if fault.status in (418, 429):
                    body = {
                        "code": -1003,
                        "msg": "Too many requests; current limit is 2400 requests per minute.",
                    }
                    return web.json_response(body, status=fault.status, headers=headers)
                text = f"<html><body><h1>{fault.status} Server Error</h1></body></html>"
                return web.Response(status=fault.status, text=text, content_type="text/html", headers=headers)
            if fault.kind == "busy":
                return web.json_response(self._busy_body(), status=fault.status)
            if fault.kind == "html":
                text = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>"
                return web.Response(status=200, text=text, content_type="text/html")
            if fault.kind == "truncated":
                response = await handler(request)
                whole = response.body if isinstance(response, web.Response) else None
                if isinstance(whole, bytes | bytearray) and len(whole) > 1:
                    return web.Response(
                        status=200, body=bytes(whole[: len(whole) // 2]), content_type="application/json"
                    )
                return web.Response(status=200, text='{"code": 0, "da', content_type="application/json")
            if fault.kind == "silent":
                assert self._stopping is not None
                await self._stopping.wait()
                raise asyncio.CancelledError
            if fault.kind == "malformed":
                return web.Response(
                    status=200,
                    text='{"symbols": [{"symbol": "BTCUSDT", "sta',
                    content_type="application/json",
                )
            if fault.kind == "drop":
                transport = request.transport
                if transport is not None:
                    transport.abort()
                raise asyncio.CancelledError
        return await handler(request)

    def _reject_response(self, code: int, msg: str | None) -> web.StreamResponse:
        """The exchange's rejection of an order (a venue app may give its own, else Binance's)."""
        rejection = getattr(self.source, "reject_response", None)
        if callable(rejection):
            response: web.StreamResponse = rejection(code, msg)
            return response
        err = binance_reject(code, msg)
        return web.json_response({"code": err.code, "msg": err.msg}, status=err.status)

    def _busy_body(self) -> Any:
        """The exchange's own "busy" error body (a venue app may give its own, else Binance's)."""
        busy = getattr(self.source, "busy_body", None)
        return busy() if callable(busy) else {"code": -1001, "msg": "busy"}

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if hasattr(self.source, "handle"):
            response = await self.source.handle(request)
            if response is not None:
                return response
            return self._unserved(request)
        route = ROUTES.get(request.path)
        if route is None:
            return self._unserved(request)
        kind, method = route
        body = await _read_body(request)
        query: dict[str, Any] = dict(request.query) | (body if isinstance(body, dict) else {})
        if kind in ("signed", "trade") and not (
            request.headers.get("X-MBX-APIKEY") and "signature" in query and "timestamp" in query
        ):
            return web.json_response({"code": -2014, "msg": "API-key format invalid."}, status=401)
        try:
            if kind == "trade":
                await self._prepare_orders(query.get("symbol"))
                payload = await method(self, query, request)
            else:
                payload = await method(self, query)
        except BinanceApiError as err:
            return web.json_response({"code": err.code, "msg": err.msg}, status=err.status)
        return web.json_response(payload)

    def _unserved(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self._unknown.append(request.path)
        log.error("loopback exchange: unserved path %s %s", request.method, request.path)
        return web.json_response(
            {"code": -5000, "msg": f"Path {request.path} not served by loopback"}, status=404
        )

    # ----------------------------------------------------------------------------------- endpoints

    async def _time(self, q: Any) -> Any:
        return {"serverTime": int(time.time() * 1000)}

    async def _exchange_info(self, q: Any) -> Any:
        return await self.source.exchange_info()

    async def _spot_exchange_info(self, q: Any) -> Any:
        return await self.source.spot_exchange_info()

    async def _premium_index(self, q: Any) -> Any:
        return await self.source.premium_index(q.get("symbol"))

    async def _funding_rate(self, q: Any) -> Any:
        limit = bf.clamp_limit(q.get("limit"), bf.FUNDING_DEFAULT_LIMIT, bf.FUNDING_MAX_LIMIT)
        start, end = bf.opt_int(q.get("startTime"), "startTime"), bf.opt_int(q.get("endTime"), "endTime")
        return await self.source.funding_rate(q.get("symbol"), start, end, limit)

    async def _funding_info(self, q: Any) -> Any:
        return await self.source.funding_info()

    async def _klines(self, q: Any, spot: bool = False) -> Any:
        if spot:
            limit = bf.clamp_limit(q.get("limit"), bf.SPOT_KLINES_DEFAULT_LIMIT, bf.SPOT_KLINES_MAX_LIMIT)
        else:
            limit = bf.clamp_limit(q.get("limit"), bf.FAPI_KLINES_DEFAULT_LIMIT, bf.FAPI_KLINES_MAX_LIMIT)
        start, end = bf.opt_int(q.get("startTime"), "startTime"), bf.opt_int(q.get("endTime"), "endTime")
        return await self.source.klines(q.get("symbol"), q.get("interval", ""), start, end, limit, spot)

    async def _spot_klines(self, q: Any) -> Any:
        return await self._klines(q, spot=True)

    async def _ticker_24hr(self, q: Any) -> Any:
        return await self.source.ticker_24hr(q.get("symbol"))

    async def _open_interest(self, q: Any) -> Any:
        return await self.source.open_interest(q.get("symbol"))

    async def _leverage_bracket(self, q: Any) -> Any:
        return await self.source.leverage_brackets(q.get("symbol"))

    async def _balance(self, q: Any) -> Any:
        return self.account.balance()

    async def _account_v2(self, q: Any) -> Any:
        return self.account.account(2)

    async def _account_v3(self, q: Any) -> Any:
        return self.account.account(3)

    async def _position_risk_v2(self, q: Any) -> Any:
        return self.account.position_risk(2)

    async def _position_risk_v3(self, q: Any) -> Any:
        return self.account.position_risk(3)

    async def _empty_list(self, q: Any) -> Any:
        return []

    # ------------------------------------------------------------------------------ order endpoints

    async def _prepare_orders(self, symbol: str | None) -> None:
        """The symbol's filters (from exchangeInfo) and a mark (the served mark price) for the book."""
        book = self.account.orders
        if not symbol:
            return
        if symbol not in book.filters:
            info = await self.source.exchange_info()
            entry = next((s for s in info.get("symbols", []) if s.get("symbol") == symbol), None)
            if entry is None:
                raise bf.bad_symbol()
            book.filters[symbol] = Filters.from_entry(entry)
        if symbol not in self.account.marks:
            premium = await self.source.premium_index(symbol)
            self.account.marks[symbol] = float(premium["markPrice"])

    async def _order(self, q: Any, request: web.Request) -> Any:
        book = self.account.orders
        if request.method == "POST":
            return book.new_order(q, request.get(PARTIAL_FILL))
        if request.method == "DELETE":
            return book.cancel(q, algo=False)
        if request.method == "PUT":
            return book.edit(q)
        return book.query(q, algo=False)

    async def _algo_order(self, q: Any, request: web.Request) -> Any:
        book = self.account.orders
        if request.method == "POST":
            return book.new_algo_order(q)
        if request.method == "DELETE":
            return book.cancel(q, algo=True)
        return book.query(q, algo=True)

    async def _set_leverage(self, q: Any, request: web.Request) -> Any:
        """POST /fapi/v1/leverage: 1 to 125 (the brackets' cap is not checked here)."""
        symbol = str(q.get("symbol"))
        try:
            leverage = int(q.get("leverage", ""))
        except ValueError:
            raise BinanceApiError(400, -1130, "Data sent for parameter 'leverage' is not valid.") from None
        if not 1 <= leverage <= 125:
            raise BinanceApiError(400, -4028, "Leverage is not valid")
        self.account.symbol_leverage[symbol] = leverage
        return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": symbol}

    async def _set_margin_type(self, q: Any, request: web.Request) -> Any:
        """POST /fapi/v1/marginType: ISOLATED or CROSSED; the same again is -4046, as Binance answers."""
        symbol, wanted = str(q.get("symbol")), str(q.get("marginType", "")).upper()
        if wanted not in ("ISOLATED", "CROSSED"):
            raise BinanceApiError(400, -1130, "Data sent for parameter 'marginType' is not valid.")
        if self.account.margin_types.get(symbol, "CROSSED") == wanted:
            raise BinanceApiError(400, -4046, "No need to change margin type.")
        self.account.margin_types[symbol] = wanted
        return {"code": 200, "msg": "success"}

    async def _batch_orders(self, q: Any, request: web.Request) -> Any:
        if request.method != "POST":
            raise BinanceApiError(405, -1000, f"{request.method} /fapi/v1/batchOrders not served by loopback")
        return self.account.orders.batch(q, request.get(PARTIAL_FILL))

    async def _open_orders(self, q: Any, request: web.Request) -> Any:
        return self.account.orders.open_list(q, algo=False)

    async def _open_algo_orders(self, q: Any, request: web.Request) -> Any:
        return self.account.orders.open_list(q, algo=True)

    async def _all_open_orders(self, q: Any, request: web.Request) -> Any:
        return self.account.orders.cancel_all(q, algo=False)

    async def _algo_open_orders(self, q: Any, request: web.Request) -> Any:
        return self.account.orders.cancel_all(q, algo=True)

    async def _user_trades(self, q: Any, request: web.Request) -> Any:
        return self.account.orders.user_trades(q)


async def _read_body(request: web.Request) -> Any:
    """A request's body: a form as a dict (Binance's signed POST/PUT), JSON (Hyperliquid, Bybit), or None."""
    # body_exists, not can_read_body: the latter turns False once the middleware has read (and cached) it.
    if request.method not in ("POST", "PUT", "DELETE") or not request.body_exists:
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(await request.post())
    with contextlib.suppress(ValueError):
        return await request.json()
    return None


ROUTES: dict[str, tuple[str, Callable[..., Any]]] = {
    "/fapi/v1/time": ("public", LoopbackExchange._time),
    "/api/v3/time": ("public", LoopbackExchange._time),
    "/fapi/v1/ping": ("public", LoopbackExchange._empty_list),
    "/fapi/v1/exchangeInfo": ("public", LoopbackExchange._exchange_info),
    "/api/v3/exchangeInfo": ("public", LoopbackExchange._spot_exchange_info),
    "/fapi/v1/premiumIndex": ("public", LoopbackExchange._premium_index),
    "/fapi/v1/fundingRate": ("public", LoopbackExchange._funding_rate),
    "/fapi/v1/fundingInfo": ("public", LoopbackExchange._funding_info),
    "/fapi/v1/klines": ("public", LoopbackExchange._klines),
    "/api/v3/klines": ("public", LoopbackExchange._spot_klines),
    "/fapi/v1/ticker/24hr": ("public", LoopbackExchange._ticker_24hr),
    "/fapi/v1/openInterest": ("public", LoopbackExchange._open_interest),
    "/fapi/v1/leverageBracket": ("signed", LoopbackExchange._leverage_bracket),
    "/fapi/v2/balance": ("signed", LoopbackExchange._balance),
    "/fapi/v3/balance": ("signed", LoopbackExchange._balance),
    "/fapi/v2/account": ("signed", LoopbackExchange._account_v2),
    "/fapi/v3/account": ("signed", LoopbackExchange._account_v3),
    "/fapi/v2/positionRisk": ("signed", LoopbackExchange._position_risk_v2),
    "/fapi/v3/positionRisk": ("signed", LoopbackExchange._position_risk_v3),
    "/sapi/v1/capital/config/getall": ("signed", LoopbackExchange._empty_list),
    # "trade" routes: signed, answered by the order book (tests/loopback/binance_orders.py), by method.
    "/fapi/v1/order": ("trade", LoopbackExchange._order),
    "/fapi/v1/algoOrder": ("trade", LoopbackExchange._algo_order),
    "/fapi/v1/batchOrders": ("trade", LoopbackExchange._batch_orders),
    "/fapi/v1/openOrders": ("trade", LoopbackExchange._open_orders),
    "/fapi/v1/openAlgoOrders": ("trade", LoopbackExchange._open_algo_orders),
    "/fapi/v1/allOpenOrders": ("trade", LoopbackExchange._all_open_orders),
    "/fapi/v1/algoOpenOrders": ("trade", LoopbackExchange._algo_open_orders),
    "/fapi/v1/userTrades": ("trade", LoopbackExchange._user_trades),
    "/fapi/v1/leverage": ("trade", LoopbackExchange._set_leverage),
    "/fapi/v1/marginType": ("trade", LoopbackExchange._set_margin_type),
}
