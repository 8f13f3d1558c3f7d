"""Real ccxt binanceusdm against the loopback exchange serving the captured Binance data."""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import math
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from perptui.domain.errors import AuthenticationError, UnknownSymbol
from perptui.domain.timeframes import parse_utc
from perptui.services.exchanges import CcxtExchange
from tests.conftest import BINANCE_DATA
from tests.loopback import fixtures
from tests.loopback.fixtures import make_real, serve
from tests.loopback.server import LoopbackExchange

loopback_real = fixtures.loopback_real

KEY, SECRET = "loopback-key-5f3a9c", "loopback-secret-8e1d77"


def exchange(server: LoopbackExchange, keys: bool = False, **kwargs: object) -> CcxtExchange:
    if keys:
        kwargs |= {"api_key": SecretStr(KEY), "api_secret": SecretStr(SECRET)}
    return CcxtExchange("binanceusdm", api_base_url=server.base_url, backoff_base_s=0.01, **kwargs)  # type: ignore[arg-type]


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def markets_of(ex: CcxtExchange) -> dict:
    try:
        return {m.symbol: m for m in await ex.load_markets()}
    finally:
        await ex.close()


def real_tiers(symbol: str) -> list[tuple[float, float, float, float, float]]:
    raw = json.loads((BINANCE_DATA / "leverage_tiers_2024-10-24.json").read_text())[symbol]
    return [
        (
            t["minNotional"],
            t["maxNotional"],
            t["maintenanceMarginRate"],
            float(t["info"]["cum"]),
            t["maxLeverage"],
        )
        for t in raw
    ]


def test_btc_market_matches_the_real_exchange_info(loopback_real: LoopbackExchange) -> None:
    markets = run(markets_of(exchange(loopback_real)))
    btc = markets["BTC/USDT:USDT"]
    assert (btc.amount_step, btc.price_tick, btc.min_notional, btc.max_qty, btc.min_qty) == (
        0.001,
        0.1,
        5.0,
        1000.0,
        0.001,
    )
    assert (btc.id, btc.base, btc.quote, btc.settle, btc.contract_size) == (
        "BTCUSDT",
        "BTC",
        "USDT",
        "USDT",
        1.0,
    )
    assert btc.spot_symbol == "BTC/USDT"
    assert btc.taker_fee is not None and btc.maker_fee is not None
    eth = markets["ETH/USDT:USDT"]
    assert (eth.amount_step, eth.price_tick) == (0.001, 0.01)
    # 152 PERPETUAL entries plus BTCSTUSDT (blank contractType, perpetual delivery date); dated
    # futures (BTCUSDT_220624) are not perps.
    assert len(markets) == 153 and "BTCST/USDT:USDT" in markets
    assert all(s.endswith((":USDT", ":BUSD")) for s in markets)
    # Without keys Binance's brackets are out of reach and there is no cache: the default, flagged.
    assert btc.tiers_approximate and btc.tiers and btc.max_leverage is None
    assert "/fapi/v1/leverageBracket" not in loopback_real.paths()


@pytest.mark.parametrize("symbol", ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"])
def test_tiers_with_keys_equal_the_real_brackets(loopback_real: LoopbackExchange, symbol: str) -> None:
    markets = run(markets_of(exchange(loopback_real, keys=True)))
    market = markets[symbol]
    got = [(t.min_notional, t.max_notional, t.mmr, t.maint_amount, t.max_leverage) for t in market.tiers]
    assert got == real_tiers(symbol)
    assert not market.tiers_approximate
    assert market.max_leverage == real_tiers(symbol)[0][4]
    signed = loopback_real.requests_to("/fapi/v1/leverageBracket")
    assert signed and all(r.signed for r in signed)


def test_fetch_leverage_tiers_without_keys_uses_the_cache(loopback_real: LoopbackExchange) -> None:
    from perptui.domain.types import LeverageTier

    cached = {
        "ETH/USDT:USDT": [LeverageTier(0, 10_000, 0.01, 0, 50), LeverageTier(10_000, math.inf, 0.5, 4900, 1)]
    }

    async def go() -> tuple:
        ex = exchange(loopback_real, cached_tiers=lambda: cached)
        try:
            tiers = await ex.fetch_leverage_tiers(["ETH/USDT:USDT", "BTC/USDT:USDT"])
            markets = {m.symbol: m for m in await ex.load_markets()}
            return tiers, markets
        finally:
            await ex.close()

    tiers, markets = run(go())
    assert tiers == cached  # BTC: neither exchange nor cache -> left out
    assert markets["ETH/USDT:USDT"].tiers == tuple(cached["ETH/USDT:USDT"])
    assert not markets["ETH/USDT:USDT"].tiers_approximate
    assert markets["BTC/USDT:USDT"].tiers_approximate


def read_funding_csv(symbol_id: str) -> list[tuple[int, float]]:
    with (BINANCE_DATA / "funding" / f"{symbol_id}.csv").open() as handle:
        return [(int(r["fundingTime"]), float(r["fundingRate"])) for r in csv.DictReader(handle)]


@pytest.mark.parametrize("symbol_id", ["BTCUSDT", "SOLUSDT"])
def test_funding_history_paging_reproduces_the_csv(loopback_real: LoopbackExchange, symbol_id: str) -> None:
    since, until = parse_utc("2022-01-01"), parse_utc("2022-12-01")
    symbol = symbol_id.replace("USDT", "/USDT:USDT")

    async def page_all() -> list:
        ex = exchange(loopback_real)
        out: list = []
        cursor = since
        try:
            while True:
                page = await ex.fetch_funding_history(symbol, cursor, until, limit=200)
                if not page:
                    return out
                out.extend(page)
                cursor = page[-1].time + 1
        finally:
            await ex.close()

    got = [(p.time, p.rate) for p in run(page_all())]
    expected = [(t, r) for t, r in read_funding_csv(symbol_id) if since <= t < until]
    assert got == expected
    assert len(got) > 1000  # SOL's 2h/4h prints of Nov 2022 included
    pages = loopback_real.requests_to("/fapi/v1/fundingRate")
    assert len(pages) == math.ceil(len(expected) / 200) + 1
    assert all(int(r.query["endTime"]) == until - 1 and r.query["limit"] == "200" for r in pages)
    assert int(pages[0].query["startTime"]) == since


def read_klines(path: Path, prefix: str = "") -> list[tuple[int, float, float, float, float, float]]:
    """Rows with every value present (the 1h files have a few hours without spot prices)."""
    opener = gzip.open if path.suffix == ".gz" else open
    keys = [prefix + k for k in ("open", "high", "low", "close", "volume")]
    with opener(path, "rt") as handle:  # type: ignore[operator]
        return [
            (int(r["openTime"]), *(float(r[k]) for k in keys))
            for r in csv.DictReader(handle)
            if all(r[k] for k in keys)
        ]


@pytest.mark.parametrize(
    ("symbol", "timeframe", "path", "prefix"),
    [
        ("BTC/USDT:USDT", "1h", "ohlcv_1h/BTCUSDT.csv.gz", ""),
        ("ETH/USDT:USDT", "8h", "ohlcv_8h_perp/ETHUSDT.csv", ""),
        ("ETH/USDT", "8h", "ohlcv_8h_spot/ETHUSDT.csv", ""),
        ("SOL/USDT", "1h", "ohlcv_1h/SOLUSDT.csv.gz", "spot_"),
    ],
)
def test_klines_match_the_files(
    loopback_real: LoopbackExchange, symbol: str, timeframe: str, path: str, prefix: str
) -> None:
    since, until = parse_utc("2023-03-01"), parse_utc("2023-03-05")

    async def go() -> list:
        ex = exchange(loopback_real)
        try:
            return await ex.fetch_ohlcv(symbol, timeframe, since, until, limit=1000)
        finally:
            await ex.close()

    got = [(c.time, c.open, c.high, c.low, c.close, c.volume) for c in run(go())]
    expected = [row for row in read_klines(BINANCE_DATA / path, prefix) if since <= row[0] < until]
    assert got == expected and expected
    wanted = "/api/v3/klines" if ":" not in symbol else "/fapi/v1/klines"
    assert loopback_real.requests_to(wanted)


def test_funding_interval_inferred_from_spacing_sol_nov_2022() -> None:
    """SOLUSDT settled every 2h in Nov 2022 (FTX). Without fundingInfo the adapter infers it from the
    spacing of the latest prints, never assuming 8h; BTC at the same time is 8h."""
    server = make_real(now_ms=parse_utc("2022-11-12T13:00"), list_adjusted_intervals=False)
    for srv in serve(server):

        async def go(srv: LoopbackExchange = srv) -> tuple:
            ex = exchange(srv)
            try:
                before = {m.symbol: m for m in await ex.load_markets()}
                rates = await ex.fetch_funding_rates(["SOL/USDT:USDT", "BTC/USDT:USDT"])
                after = {m.symbol: m for m in await ex.load_markets()}
                return before, rates, after
            finally:
                await ex.close()

        before, rates, after = run(go())
        assert before["SOL/USDT:USDT"].funding_interval_hours is None  # unknown stays None
        assert rates["SOL/USDT:USDT"].interval_hours == 2.0
        assert rates["BTC/USDT:USDT"].interval_hours == 8.0
        assert after["SOL/USDT:USDT"].funding_interval_hours == 2.0
        # The current rate is the print settled at the next funding time (2022-11-12 14:00).
        assert rates["SOL/USDT:USDT"].rate == -0.00153586  # the 2022-11-12 14:00 print of the CSV
        assert rates["SOL/USDT:USDT"].next_funding_time == parse_utc("2022-11-12T14:00")


def test_funding_interval_from_funding_info_pol_4h() -> None:
    """At the end of the files POLUSDT is 4-hourly; Binance lists it in fundingInfo. POL is not in the
    2022 exchangeInfo, so check SOL via a time when it was 4-hourly instead: the first FTX days."""
    server = make_real(now_ms=parse_utc("2022-11-10T05:00"))
    for srv in serve(server):
        markets = run(markets_of(exchange(srv)))
        assert markets["SOL/USDT:USDT"].funding_interval_hours == 4.0
        assert markets["BTC/USDT:USDT"].funding_interval_hours is None  # not listed, not guessed
        assert srv.requests_to("/fapi/v1/fundingInfo")


def test_tickers_and_open_interest_only_for_named_symbols(loopback_real: LoopbackExchange) -> None:
    async def go() -> tuple:
        ex = exchange(loopback_real)
        try:
            everything = await ex.fetch_tickers()
            oi_requests = len(loopback_real.requests_to("/fapi/v1/openInterest"))
            named = await ex.fetch_tickers(["BTC/USDT:USDT", "ethusdt"])
            return everything, oi_requests, named
        finally:
            await ex.close()

    everything, oi_requests, named = run(go())
    assert oi_requests == 0
    assert "BTC/USDT:USDT" in everything and everything["BTC/USDT:USDT"].open_interest is None
    btc = named["BTC/USDT:USDT"]
    assert btc.last and btc.mark and btc.index and btc.quote_volume_24h and btc.open_interest
    assert set(named) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    assert len(loopback_real.requests_to("/fapi/v1/openInterest")) == 2


def test_unknown_symbol_suggests_close_matches(loopback_real: LoopbackExchange) -> None:
    async def go() -> None:
        ex = exchange(loopback_real)
        try:
            await ex.fetch_funding_history("BTC/USTD:USDT", 0)
        finally:
            await ex.close()

    with pytest.raises(UnknownSymbol) as info:
        run(go())
    assert "BTC/USDT:USDT" in info.value.suggestions
    assert "did you mean BTC/USDT:USDT" in str(info.value)


def test_balance_and_positions_with_keys(loopback_real: LoopbackExchange) -> None:
    async def go() -> tuple:
        ex = exchange(loopback_real, keys=True)
        try:
            return await ex.fetch_balance(), await ex.fetch_positions()
        finally:
            await ex.close()

    balance, positions = run(go())
    assert (balance.currency, balance.total, balance.free, balance.used) == ("USDT", 1010.0, 949.0, 61.0)
    (pos,) = positions
    assert (pos.symbol, pos.side, pos.qty, pos.entry_price, pos.mark_price) == (
        "BTC/USDT:USDT",
        "long",
        0.01,
        60000.0,
        61000.0,
    )
    assert pos.unrealized_pnl == 10.0 and pos.margin_mode == "cross"
    account = [r for r in loopback_real.requests if r.path.startswith(("/fapi/v2/", "/fapi/v3/"))]
    assert account and all(r.signed for r in account)


def test_balance_and_positions_without_keys_say_a_key_is_needed(loopback_real: LoopbackExchange) -> None:
    async def go(method: str) -> None:
        ex = exchange(loopback_real)
        try:
            await getattr(ex, method)()
        finally:
            await ex.close()

    for method in ("fetch_balance", "fetch_positions"):
        with pytest.raises(AuthenticationError, match="needs an API key"):
            run(go(method))
    assert loopback_real.requests == []  # refused before any request


def test_rejected_key_gives_a_clean_error_without_secrets(loopback_real: LoopbackExchange) -> None:
    loopback_real.faults.http(401, "/fapi/v3/account", times=None)

    async def go() -> None:
        ex = exchange(loopback_real, keys=True)
        try:
            assert KEY not in repr(ex) and SECRET not in str(ex)
            await ex.fetch_balance()
        finally:
            await ex.close()

    with pytest.raises(AuthenticationError) as info:
        run(go())
    text = str(info.value) + repr(info.value) + str(info.value.args)
    assert KEY not in text and SECRET not in text
    assert "rejected the API key" in str(info.value)
    assert "{" not in str(info.value) and "http" not in str(info.value) and "\n" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
