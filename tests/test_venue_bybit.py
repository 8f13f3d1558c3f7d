"""Bybit's own behaviour, through real ccxt against the Bybit loopback (tests/loopback/venues/bybit.py):
funding history read in windows of one page (Bybit answers a window with its NEWEST 200 prints), the
requests ccxt sends as its fixtures show them, tiers read across every risk-limit page, the $5 minimum
order value, ticker times stamped on receipt, and Bybit's error body."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.exchanges.venues import windows
from perptui.services.store import Store
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.bybit import make_bybit
from tests.loopback.venues.common import static

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
H8 = 8 * 3_600_000
BTC, ZRX = "BTC/USDT:USDT", "ZRX/USDT:USDT"


@pytest.fixture
def bybit() -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(make_bybit(None), mode="bybit"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange("bybit", api_base_url=server.base_url, timeout_ms=60_000)


def fixture_query(method: str, index: int = 0) -> tuple[str, dict[str, str]]:
    url = static("request", "bybit")["methods"][method][index]["url"]
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def floored(rows: list[tuple[int, float]]) -> list[tuple[int, float]]:
    return [(t - t % 1000, r) for t, r in rows]


def test_ccxt_asks_for_funding_history_as_its_fixture_shows(bybit: LoopbackExchange) -> None:
    """ZRX (hourly), since 1769529863000, limit 3: startTime and endTime = startTime + 3 x 1h."""
    entry = static("request", "bybit")["methods"]["fetchFundingRateHistory"][0]
    path, query = fixture_query("fetchFundingRateHistory")

    async def scenario() -> None:
        async with exchange_on(bybit) as ex:
            await ex.load_markets()
            await ex.ex.fetch_funding_rate_history(*entry["input"])

    asyncio.run(scenario())
    assert bybit.requests_to(path)[-1].query == query


def test_a_one_year_backfill_reads_windows_of_one_page_and_stores_every_print(
    bybit: LoopbackExchange, store: Store
) -> None:
    """The issue: a one-year backtest got 200 of 1005 prints (ccxt sends the whole year as the window
    and Bybit answers with its newest 200). Each request here is a window of 200 intervals from the
    cursor, so every print of the year arrives, oldest first, in six requests (and a seventh finding
    nothing newer)."""
    app = bybit.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(bybit) as ex:
            await ex.load_markets()
            bybit.clear_requests()
            return await backfill_funding(ex, store, BTC, since, until)

    added = asyncio.run(scenario())
    served = floored([(t, r) for t, r in app.served_funding(BTC) if since <= t < until])
    assert len(served) >= 1095 and added == len(served)
    assert [(p.time, p.rate) for p in store.load_funding("bybit", BTC)] == served
    asked = bybit.requests_to("/v5/market/funding/history")
    assert len(asked) == -(-len(served) // 200) + 1  # and the one finding nothing after the newest
    for request in asked:
        assert request.query["limit"] == "200" and request.query["category"] == "linear"
        assert int(request.query["endTime"]) - int(request.query["startTime"]) <= 200 * H8 - 1
    spans = [int(r.query["endTime"]) - int(r.query["startTime"]) for r in asked[:5]]
    assert spans == [200 * H8 - 1] * 5  # the last two stop at the end of the span


def test_an_hourly_market_stores_all_2160_prints_of_90_days(bybit: LoopbackExchange, store: Store) -> None:
    """The issue's Bybit 1h case (568 of 2160 stored, the 30-day mean APR 0.448 instead of 0.876): ZRX's
    fundingInterval is 60 minutes, so its windows are 200 hours (the statistics are checked against
    pandas in tests/test_venues.py)."""
    app = bybit.source
    until = app.now_ms + 1
    since = until - 90 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(bybit) as ex:
            await ex.load_markets()
            return await backfill_funding(ex, store, ZRX, since, until)

    added = asyncio.run(scenario())
    assert added == 90 * 24
    assert [p.time for p in store.load_funding("bybit", ZRX)] == [
        t for t, _ in floored(app.served_funding(ZRX)) if since <= t < until
    ]


def test_a_full_window_is_filled_back_to_its_start() -> None:
    """When a window holds more than a page (prints denser than the stated interval), the endpoint's
    newest-page answer is completed by asking again for the span before its oldest row."""
    prints = list(range(0, 1000, 2))  # every 2 ms, while the window assumed a step of 10
    asked: list[tuple[int, int]] = []

    async def newest_page(start: int, end: int) -> list[int]:
        asked.append((start, end))
        return sorted((t for t in prints if start <= t <= end), reverse=True)[:50]

    rows = asyncio.run(windows.from_since(newest_page, 100, None, 10_000, 10, 50, lambda t: t))
    assert rows == [t for t in prints if 100 <= t <= 599]
    assert asked[0] == (100, 599) and all(start == 100 for start, _ in asked)


def test_an_empty_first_window_reads_on_to_the_first_rows() -> None:
    """A market listed after ``since`` (or a long gap): the first window is empty, which must not read as
    "nothing to the end" (the backfill would record the whole span as empty)."""
    prints = list(range(5_000, 8_000, 10))

    async def newest_page(start: int, end: int) -> list[int]:
        return sorted((t for t in prints if start <= t <= end), reverse=True)[:50]

    rows = asyncio.run(windows.from_since(newest_page, 0, 9_000, 10_000, 10, 50, lambda t: t))
    assert rows == prints


@pytest.fixture
def bybit_3_a_page() -> Iterator[LoopbackExchange]:
    """Tiers 3 symbols a page (Bybit: 30), so the fixture's eight linear markets take three pages."""
    app = make_bybit(None)
    app.risk_limit_symbols_per_page = 3
    yield from serve(LoopbackExchange(app, mode="bybit"))


def test_tiers_arrive_from_every_risk_limit_page(bybit_3_a_page: LoopbackExchange) -> None:
    """Each page's cursor is followed until the empty one; a symbol alone is asked for by ``symbol=``.
    riskLimitValue is USDT of position value."""
    server = bybit_3_a_page

    async def scenario():
        async with exchange_on(server) as ex:
            markets = {m.symbol: m for m in await ex.load_markets()}
            one = await ex.venue.leverage_tiers(ex, [BTC])
            return markets, one

    markets, one = asyncio.run(scenario())
    linear = sorted(s for s, m in static("markets", "bybit").items() if m.get("linear") and m.get("swap"))
    assert len(linear) == 8
    assert all(not markets[s].tiers_approximate and len(markets[s].tiers) == 6 for s in linear)
    btc = markets[BTC].tiers
    assert [(t.min_notional, t.max_notional, t.mmr) for t in btc[:2]] == [
        (0.0, 2_000_000.0, 0.005),
        (2_000_000.0, 4_000_000.0, 0.01),
    ]
    assert btc[1].maint_amount == pytest.approx(2_000_000 * 0.005)
    asked = [r.query for r in server.requests_to("/v5/market/risk-limit")]
    assert [q.get("cursor") for q in asked[:-1]] == [None, "cursor=3", "cursor=6"]
    assert asked[-1] == {"category": "linear", "symbol": "BTCUSDT"}
    assert [t["maxNotional"] for t in one[BTC]] == [t.max_notional for t in btc]


def test_the_five_dollar_minimum_order_value_is_read(bybit: LoopbackExchange) -> None:
    async def scenario():
        async with exchange_on(bybit) as ex:
            return {m.symbol: m for m in await ex.load_markets()}

    markets = asyncio.run(scenario())
    info = static("markets", "bybit")[BTC]["info"]["lotSizeFilter"]
    assert info["minNotionalValue"] == "5" and markets[BTC].min_notional == 5.0


def test_tickers_carry_no_time_so_they_are_stamped_on_receipt(bybit: LoopbackExchange) -> None:
    """Bybit's ticker records have no time of their own (the issue: stored at 1970)."""

    async def scenario():
        async with exchange_on(bybit) as ex:
            await ex.load_markets()
            before = int(time.time() * 1000)
            tickers = await ex.fetch_tickers([BTC, ZRX])
            return before, tickers, int(time.time() * 1000)

    before, tickers, after = asyncio.run(scenario())
    for ticker in tickers.values():
        assert before <= ticker.timestamp <= after
        assert ticker.quote_volume_24h and ticker.quote_volume_24h > 0


def test_an_unknown_symbol_gets_bybits_error_body(bybit: LoopbackExchange) -> None:
    import ccxt.async_support as ccxt

    async def scenario() -> None:
        async with exchange_on(bybit) as ex:
            await ex.load_markets()
            await ex.ex.publicGetV5MarketFundingHistory({"category": "linear", "symbol": "NOPEUSDT"})

    with pytest.raises(ccxt.BadRequest, match="Symbol Is Invalid"):
        asyncio.run(scenario())
