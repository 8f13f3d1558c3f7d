"""The loopback exchange itself (Binance paging rules, unknown paths, signed endpoints) and the core ccxt
checks in both modes: real captured data and the demo market served in Binance's format."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from perptui.domain.errors import ExchangeUnavailable
from perptui.services.exchanges import CcxtExchange
from tests.loopback import fixtures
from tests.loopback.binance_format import window
from tests.loopback.server import LoopbackExchange

loopback = fixtures.loopback
loopback_real = fixtures.loopback_real


def get(server: LoopbackExchange, path: str, headers: dict[str, str] | None = None) -> tuple[int, object]:
    request = urllib.request.Request(server.base_url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_window_follows_binance_paging() -> None:
    times = [10, 20, 30, 40, 50]
    assert list(window(times, 20, None, 2)) == [1, 2]  # startTime: first `limit` from it
    assert list(window(times, 20, 40, 10)) == [1, 2, 3]  # both bounds inclusive
    assert list(window(times, None, 40, 2)) == [2, 3]  # endTime only: the last `limit` up to it
    assert list(window(times, None, None, 2)) == [3, 4]  # neither: the latest
    assert list(window(times, 60, None, 2)) == []


def test_funding_rate_endpoint_pages_like_binance(loopback_real: LoopbackExchange) -> None:
    status, rows = get(loopback_real, "/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=1577836800000&limit=3")
    assert status == 200 and [r["fundingTime"] for r in rows] == [1577836800000, 1577865600000, 1577894400000]
    assert rows[0]["fundingRate"] == "-0.00012359"
    _, rows = get(loopback_real, "/fapi/v1/fundingRate?symbol=BTCUSDT&endTime=1577894400000&limit=2")
    assert [r["fundingTime"] for r in rows] == [1577865600000, 1577894400000]
    _, rows = get(loopback_real, "/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=0&limit=5000")
    assert len(rows) == 1000  # Binance's maximum
    _, rows = get(loopback_real, "/fapi/v1/fundingRate?symbol=BTCUSDT")
    assert len(rows) == 100  # default limit, the latest prints


def test_bad_symbol_and_unknown_path_and_unsigned_requests(loopback_real: LoopbackExchange) -> None:
    status, body = get(loopback_real, "/fapi/v1/klines?symbol=NOPEUSDT&interval=1h")
    assert (status, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
    status, body = get(loopback_real, "/fapi/v1/leverageBracket")
    assert status == 401 and body["code"] == -2014
    status, body = get(
        loopback_real, "/fapi/v1/leverageBracket?timestamp=1&signature=anything", {"X-MBX-APIKEY": "k"}
    )
    assert status == 200 and any(e["symbol"] == "BTCUSDT" for e in body)  # type: ignore[union-attr]
    status, _ = get(loopback_real, "/fapi/v9/nothing")
    assert status == 404
    assert loopback_real.unknown_paths == ["/fapi/v9/nothing"]
    loopback_real._unknown.clear()  # this test asked for it on purpose; the fixture would fail otherwise
    assert [r.path for r in loopback_real.requests][:2] == ["/fapi/v1/klines", "/fapi/v1/leverageBracket"]
    assert loopback_real.requests[2].signed and not loopback_real.requests[1].signed


# --------------------------------------------------------------------- the core checks, in both modes


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def adapter(server: LoopbackExchange, keys: bool = False) -> CcxtExchange:
    extra = {"api_key": SecretStr("k-123456"), "api_secret": SecretStr("s-654321")} if keys else {}
    return CcxtExchange("binanceusdm", api_base_url=server.base_url, backoff_base_s=0.01, **extra)  # type: ignore[arg-type]


def btc_of(server: LoopbackExchange) -> str:
    return "BTCDEMO/USDT:USDT" if server.mode == "demo" else "BTC/USDT:USDT"


def test_core_markets_tiers_and_account(loopback: LoopbackExchange) -> None:
    symbol = btc_of(loopback)

    async def go() -> tuple:
        ex = adapter(loopback, keys=True)
        try:
            markets = {m.symbol: m for m in await ex.load_markets()}
            return markets, await ex.fetch_balance(), await ex.fetch_positions()
        finally:
            await ex.close()

    markets, balance, positions = run(go())
    btc = markets[symbol]
    assert btc.amount_step and btc.price_tick and btc.min_notional and btc.max_qty
    assert btc.tiers and not btc.tiers_approximate and btc.max_leverage
    assert btc.spot_symbol == symbol.partition(":")[0]
    if loopback.mode == "demo":
        assert len(markets) >= 30 and all("DEMO" in s for s in markets)
        from perptui.services.clock import FrozenClock
        from perptui.services.demo import DemoExchange
        from tests.conftest import FROZEN_NOW_MS

        async def demo_markets() -> dict:
            demo = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))
            return {m.symbol: m for m in await demo.load_markets()}

        truth = run(demo_markets())[symbol]
        assert (btc.amount_step, btc.price_tick, btc.min_qty, btc.min_notional) == (
            truth.amount_step,
            truth.price_tick,
            truth.min_qty,
            truth.min_notional,
        )
        got = [(t.min_notional, t.mmr, t.maint_amount, t.max_leverage) for t in btc.tiers]
        assert got == [(t.min_notional, t.mmr, t.maint_amount, t.max_leverage) for t in truth.tiers]
    assert balance.currency == "USDT" and balance.total
    assert positions == [] or positions[0].qty > 0


def test_core_funding_paging_and_klines(loopback: LoopbackExchange) -> None:
    symbol = btc_of(loopback)
    day = 86_400_000
    since = 1_740_000_000_000 if loopback.mode == "demo" else 1_700_000_000_000

    async def go() -> tuple:
        ex = adapter(loopback)
        try:
            prints: list = []
            cursor = since
            while len(prints) < 40:
                page = await ex.fetch_funding_history(symbol, cursor, since + 20 * day, limit=7)
                if not page:
                    break
                prints.extend(page)
                cursor = page[-1].time + 1
            candles = await ex.fetch_ohlcv(symbol, "1h", since, since + day)
            rates = await ex.fetch_funding_rates([symbol])
            return prints, candles, rates
        finally:
            await ex.close()

    prints, candles, rates = run(go())
    times = [p.time for p in prints]
    assert (
        times == sorted(set(times)) and len(prints) >= 7 and all(since <= t < since + 20 * day for t in times)
    )
    assert len(candles) == 24 and since <= candles[0].time < since + 3_600_000
    assert rates[symbol].rate is not None and rates[symbol].interval_hours
    if loopback.mode == "demo":
        from perptui.services.clock import FrozenClock
        from perptui.services.demo import DemoExchange
        from tests.conftest import FROZEN_NOW_MS

        async def truth() -> tuple:
            demo = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))
            history = await demo.fetch_funding_history(symbol, since, since + 20 * day)
            bars = await demo.fetch_ohlcv(symbol, "1h", since, since + day)
            return history, bars

        history, bars = run(truth())
        assert [(p.time, p.rate) for p in prints] == [(p.time, p.rate) for p in history][: len(prints)]
        assert [(c.time, c.close) for c in candles] == [(c.time, c.close) for c in bars]


def test_core_retry_then_give_up(loopback: LoopbackExchange) -> None:
    loopback.faults.http(429, "/fapi/v1/exchangeInfo", times=2, retry_after=0.01)

    async def go(retries: int) -> int:
        ex = CcxtExchange(
            "binanceusdm", api_base_url=loopback.base_url, backoff_base_s=0.01, max_retries=retries
        )
        try:
            return len(await ex.load_markets())
        finally:
            await ex.close()

    assert run(go(2)) > 0
    loopback.faults.http(503, "/fapi/v1/exchangeInfo", times=None)
    with pytest.raises(ExchangeUnavailable, match="gave up after 2 attempts"):
        run(go(1))
    assert all(r.path.startswith(("/fapi/", "/api/")) for r in loopback.requests)
