"""Gate through real ccxt against the Gate loopback: funding pages as Gate serves them (newest 1000 of the
window, seconds), risk limit tiers in USDT with Gate's deduction (the bulk call needs the swap type),
swap tickers for a perp scan, contracts of 0.0001 BTC traded whole, candles in windows of at most 2000
points (a window before a market's first bar read on past), volumes restated from contracts to base.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import ccxt.async_support as ccxt
import pytest

import tests.loopback.venues  # noqa: F401
from perptui.domain.liquidation import liquidation_price
from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding, backfill_ohlcv
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.store import Store
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.gate_kucoin_shared import request_fixtures, stand_in_bars
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
BTC = "BTC/USDT:USDT"
FUNDING_PATH = "/api/v4/futures/usdt/funding_rate"


@pytest.fixture
def gate() -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(VENUE_LOOPBACKS["gate"](None), mode="gate"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange("gate", api_base_url=server.base_url, timeout_ms=60_000)


def test_funding_history_request_is_the_one_ccxt_fixture_records(gate: LoopbackExchange) -> None:
    (fixture,) = [f for f in request_fixtures("gate", "fetchFundingRateHistory") if len(f["input"]) == 4]
    symbol, since, _limit, params = fixture["input"]

    async def scenario() -> None:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            gate.clear_requests()
            await ex.ex.fetch_funding_rate_history(symbol, since, None, params)

    asyncio.run(scenario())
    (sent,) = gate.requests_to(FUNDING_PATH)
    url = urlsplit(fixture["url"])
    assert url.path == FUNDING_PATH and sent.query == dict(parse_qsl(url.query))


def test_a_one_year_backfill_stores_every_print_in_pages_gate_allows(
    gate: LoopbackExchange, store: Store
) -> None:
    app = gate.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            gate.clear_requests()
            return await backfill_funding(ex, store, BTC, since, until)

    added = asyncio.run(scenario())
    served = [(t, r) for t, r in app.served_funding(BTC) if since <= t < until]
    assert [(p.time, p.rate) for p in store.load_funding("gate", BTC)] == served
    assert added == len(served) > 1000  # more than one page of Gate's: the window was not cut short
    pages = gate.requests_to(FUNDING_PATH)
    assert all(int(r.query["limit"]) <= 1000 and int(r.query["from"]) < int(r.query["to"]) for r in pages)
    assert len(pages) <= 4


def test_the_loopback_serves_the_newest_page_of_a_long_window(gate: LoopbackExchange) -> None:
    """What the venue works around: a 90-day window asked with limit 100 is cut at its START."""
    app = gate.source
    since = app.now_ms - 90 * DAY_MS

    async def scenario() -> list[dict]:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            return await ex.ex.fetch_funding_rate_history(BTC, since, 100, {"until": app.now_ms})

    rows = asyncio.run(scenario())
    assert len(rows) == 100 and rows[-1]["timestamp"] == app.now_ms and rows[0]["timestamp"] > since + DAY_MS


def test_tiers_are_gate_risk_limits_in_usdt_and_give_gates_liquidation_price(gate: LoopbackExchange) -> None:
    """Gate's USDT-margined formula (https://www.gate.com/post/status/20181113, Gate's own article):
    long liquidation price = (entry - margin / multiplier / size) / [1 - (maintenance rate + taker fee
    rate)], with the maintenance margin of a tier = value x maintenance_rate - deduction (APIv4
    ``risk_limit_tiers``: "deduction: maintenance margin quick calculation deduction"). perptui leaves the
    closing fee out, so the cases set the taker term to 0; everything else is Gate's."""

    async def scenario():
        async with exchange_on(gate) as ex:
            markets = {m.symbol: m for m in await ex.load_markets()}
            return markets[BTC], [r.path for r in gate.requests]

    market, paths = asyncio.run(scenario())
    assert "/api/v4/futures/usdt/risk_limit_tiers" in paths
    tiers = list(market.tiers)
    assert not market.tiers_approximate and market.max_leverage == 200
    assert [(t.max_notional, t.mmr, t.maint_amount) for t in tiers[:3]] == [
        (500_000, 0.003, 0),
        (1_000_000, 0.0035, 250),
        (1_500_000, 0.004, 750),
    ]
    multiplier = market.contract_size
    assert multiplier == 0.0001

    def gate_long(entry: float, margin: float, size: int, mmr: float, deduction: float) -> float:
        return (entry - (margin + deduction) / multiplier / size) / (1 - (mmr + 0.0))

    # 10,000 contracts (1 BTC) at 60,000 with 600 USDT isolated margin: tier 1 (60k USDT < 500k).
    one = liquidation_price("long", 10_000 * multiplier, 60_000, 600, tiers)
    assert one is not None and one.price == pytest.approx(gate_long(60_000, 600, 10_000, 0.003, 0), rel=1e-12)
    assert one.price == pytest.approx(59_578.736208626, rel=1e-12)
    # 100,000 contracts (10 BTC, 600k USDT) with 6,000 margin: tier 2, its 250 USDT deduction counts.
    two = liquidation_price("long", 100_000 * multiplier, 60_000, 6_000, tiers)
    assert two is not None and two.tier.mmr == 0.0035
    assert two.price == pytest.approx(gate_long(60_000, 6_000, 100_000, 0.0035, 250), rel=1e-12)


def test_bulk_tiers_need_the_swap_type_and_fall_back_per_symbol(gate: LoopbackExchange) -> None:
    tiers_path = "/api/v4/futures/usdt/risk_limit_tiers"

    async def scenario():
        async with exchange_on(gate) as ex:
            gate.source.bulk_tiers = False  # the contract listing refused: one request per symbol
            markets = {m.symbol: m for m in await ex.load_markets()}
            assert markets[BTC].tiers_approximate
            with pytest.raises(Exception, match="only supports swap and future"):
                await ex.ex.fetch_leverage_tiers(None)  # how the adapter used to call it: no tiers at all
            return await ex.fetch_leverage_tiers([BTC, "ETH/USDT:USDT"])

    tiers = asyncio.run(scenario())
    asked = [r.query.get("contract") for r in gate.requests_to(tiers_path)]
    assert asked == [None, None, "BTC_USDT", "ETH_USDT"]  # at load, then asked per symbol
    assert [t.max_notional for t in tiers[BTC][:2]] == [500_000, 1_000_000]
    eth = gate.source.contracts["ETH_USDT"]
    assert [(t.max_notional, t.mmr) for t in tiers["ETH/USDT:USDT"]] == [
        (float(eth["risk_limit_base"]), float(eth["maintenance_rate"]))
    ]


def test_a_perp_scan_reads_swap_tickers_stamped_on_receipt(gate: LoopbackExchange) -> None:
    async def scenario():
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            gate.clear_requests()
            return await ex.fetch_tickers(None)

    tickers = asyncio.run(scenario())
    assert gate.paths() == ["/api/v4/futures/usdt/tickers"]
    btc = tickers[BTC]
    info = gate.source.contracts["BTC_USDT"]
    assert btc.timestamp > 0 and btc.last == float(info["last_price"])
    assert btc.quote_volume_24h == pytest.approx(
        float(info["position_size"]) * 0.0001 * float(info["last_price"])
    )


def test_contracts_are_whole_lots_of_the_quanto_multiplier(gate: LoopbackExchange) -> None:
    async def scenario():
        async with exchange_on(gate) as ex:
            return {m.symbol: m for m in await ex.load_markets()}

    markets = asyncio.run(scenario())
    btc, eth = markets[BTC], markets["ETH/USDT:USDT"]
    assert (btc.contract_size, btc.amount_step, btc.min_qty) == (0.0001, 0.0001, 0.0001)
    assert (eth.contract_size, eth.amount_step) == (0.01, 0.01)
    assert btc.funding_interval_hours in (None, 8.0)


# ------------------------------------------------------------------------------------------ candles

CANDLES_PATH = "/api/v4/futures/usdt/candlesticks"


def test_candle_requests_are_the_ones_ccxt_fixtures_record(gate: LoopbackExchange) -> None:
    """Every daily swap fetchOHLCV fixture of ccxt's, replayed: the same query reaches the loopback, and
    it answers each (ranges of at most 2000 points, ``limit`` only without ``from``/``to``)."""
    fixtures = [
        f
        for f in request_fixtures("gate", "fetchOHLCV")
        if CANDLES_PATH in f["url"] and f["input"][1] == "1d"
    ]
    assert len(fixtures) == 7

    async def scenario() -> list[list[list]]:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            gate.clear_requests()
            return [await ex.ex.fetch_ohlcv(*f["input"]) for f in fixtures]

    answers = asyncio.run(scenario())
    sent = gate.requests_to(CANDLES_PATH)
    assert [r.query for r in sent] == [dict(parse_qsl(urlsplit(f["url"]).query)) for f in fixtures]
    served = stand_in_bars(BTC, "1d", gate.source.now_ms)
    for request, rows in zip(sent, answers, strict=True):
        q = {k: int(v) for k, v in request.query.items() if k in ("from", "to", "limit")}
        window = served[-q["limit"] :] if "limit" in q else [
            b for b in served if q["from"] * 1000 <= b[0] <= q["to"] * 1000
        ]  # fmt: skip
        assert [r[0] for r in rows] == [b[0] for b in window]
    assert sum(map(len, answers)) > 3000


def test_a_one_year_backfill_of_daily_bars_stores_every_bar_in_fixture_shaped_requests(
    gate: LoopbackExchange, store: Store
) -> None:
    app = gate.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            gate.clear_requests()
            return await backfill_ohlcv(ex, store, BTC, "1d", since, until)

    added = asyncio.run(scenario())
    served = stand_in_bars(BTC, "1d", app.now_ms)
    expected = [b for b in served if since <= b[0] < until]
    stored = store.load_ohlcv("gate", BTC, "1d")
    assert added == len(expected) >= 364
    assert [(c.time, c.open, c.high, c.low, c.close) for c in stored] == [b[:5] for b in expected]
    # ``v`` counts contracts of 0.0001 BTC: the stored volume is back in BTC (to the contract).
    assert all(abs(c.volume - b[5]) <= 0.0001 for c, b in zip(stored, expected, strict=True))
    (fixture,) = [f for f in request_fixtures("gate", "fetchOHLCV") if f["description"] == "swap +1d +since"]
    shape = set(dict(parse_qsl(urlsplit(fixture["url"]).query)))
    pages = gate.requests_to(CANDLES_PATH)
    assert pages and all(set(r.query) == shape for r in pages)  # contract, interval, from, to (seconds)
    assert all(int(r.query["to"]) - int(r.query["from"]) <= 1998 * 86_400 for r in pages)
    assert int(pages[0].query["from"]) == since // 1000 and len(pages) <= 2


def test_a_market_listed_after_since_gets_every_bar_from_its_first(
    gate: LoopbackExchange, store: Store
) -> None:
    """Gate answers a window before the first bar with []: ccxt's own call stops there, the venue reads on."""
    app = gate.source
    since = 1_388_534_400_000  # 2014-01-01: the served bars start on 2020-01-01, 2191 days later
    until = app.now_ms + 1

    async def scenario() -> tuple[list, int]:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            bare = await ex.ex.fetch_ohlcv(BTC, "1d", since)
            return bare, await backfill_ohlcv(ex, store, BTC, "1d", since, until)

    bare, added = asyncio.run(scenario())
    assert bare == []
    served = stand_in_bars(BTC, "1d", app.now_ms)
    assert [c.time for c in store.load_ohlcv("gate", BTC, "1d")] == [b[0] for b in served]
    assert added == len(served) > 0


def test_a_candle_range_gate_refuses_gets_gates_error_body(gate: LoopbackExchange) -> None:
    async def scenario() -> list[str]:
        async with exchange_on(gate) as ex:
            await ex.load_markets()
            messages = []
            for query in (
                {"from": 1_600_000_000, "to": 1_600_000_000 + 2000 * 86_400},  # 2001 points
                {"from": 1_600_000_000, "limit": 10},  # limit conflicts with from
                {"interval": "3d", "limit": 10},
            ):
                request = {"settle": "usdt", "contract": "BTC_USDT", "interval": "1d", **query}
                with pytest.raises(ccxt.BadRequest) as err:
                    await ex.ex.publicFuturesGetSettleCandlesticks(request)
                messages.append(str(err.value))
            return messages

    too_broad, conflict, interval = asyncio.run(scenario())
    assert '"label":"INVALID_PARAM_VALUE"' in too_broad.replace(" ", "")
    assert "Candlestick range too broad. Maximum 2000 data points are allowed per request" in too_broad
    assert "Invalid request parameter `limit` value: 10" in conflict
    assert "Invalid request parameter `interval` value: 3d" in interval
