"""The tests that run on the Binance loopback, on every other exchange's loopback (tests/loopback/venues):
markets, tickers, a 90-day funding backfill that stores every served print and resumes with nothing to
ask, and the scanner's statistics against a pandas recomputation of the served prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.loopback.venues  # noqa: F401  (imports every venue module, which registers itself)
from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.scan import HISTORY_DAYS, history_stats_of
from perptui.services.store import Store
from tests.funding_reference import check, expected_stats_of, reference_frame
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.registry import VENUE_LOOPBACKS


@pytest.fixture(params=sorted(VENUE_LOOPBACKS))
def venue(request: pytest.FixtureRequest) -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(VENUE_LOOPBACKS[request.param](None), mode=request.param))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange(server.source.exchange_id, api_base_url=server.base_url, timeout_ms=60_000)


def floored(rows: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """As the cache stores prints: times floored to the second."""
    return [(t - t % 1000, r) for t, r in rows]


def test_markets_carry_the_fixture_contract_sizes(venue: LoopbackExchange) -> None:
    app = venue.source

    async def scenario():
        async with exchange_on(venue) as ex:
            return {m.symbol: m for m in await ex.load_markets()}

    markets = asyncio.run(scenario())
    for symbol in app.funding_symbols:
        assert markets[symbol].contract_size == app.contract_size(symbol), symbol


def test_tickers_have_a_time_and_a_24h_volume(venue: LoopbackExchange) -> None:
    app = venue.source

    async def scenario():
        async with exchange_on(venue) as ex:
            return await ex.fetch_tickers(list(app.funding_symbols))

    tickers = asyncio.run(scenario())
    assert set(tickers) == set(app.funding_symbols)
    for ticker in tickers.values():
        assert ticker.timestamp > 0 and ticker.last is not None and ticker.quote_volume_24h is not None


@pytest.mark.parametrize("days", [90])
def test_funding_backfill_stores_every_served_print_then_asks_nothing(
    venue: LoopbackExchange, store: Store, days: int
) -> None:
    app = venue.source
    until = app.now_ms + 1
    since = until - days * DAY_MS

    async def scenario() -> tuple[dict[str, int], int]:
        async with exchange_on(venue) as ex:
            await ex.load_markets()
            added = {s: await backfill_funding(ex, store, s, since, until) for s in app.funding_symbols}
            venue.clear_requests()
            again = sum([await backfill_funding(ex, store, s, since, until) for s in app.funding_symbols])
            return added, again

    added, again = asyncio.run(scenario())
    for symbol in app.funding_symbols:
        served = floored([(t, r) for t, r in app.served_funding(symbol) if since <= t < until])
        stored = [(p.time, p.rate) for p in store.load_funding(app.exchange_id, symbol)]
        assert len(served) > days  # a real history, at least one print a day
        assert stored == served, symbol
        assert added[symbol] == len(served)
    assert again == 0 and venue.requests == []


def test_scanner_statistics_equal_a_pandas_recomputation(venue: LoopbackExchange, store: Store) -> None:
    app = venue.source
    asof = app.now_ms
    since = asof - (HISTORY_DAYS + 1) * DAY_MS

    async def scenario():
        async with exchange_on(venue) as ex:
            markets = {m.symbol: m for m in await ex.load_markets()}
            for symbol in app.funding_symbols:
                await backfill_funding(ex, store, symbol, since, asof + 1)
            return [markets[s] for s in app.funding_symbols]

    markets = asyncio.run(scenario())
    stats = history_stats_of(store, app.exchange_id, markets, asof)
    for market in markets:
        served = floored([(t, r) for t, r in app.served_funding(market.symbol) if since <= t <= asof])
        frame = reference_frame([t for t, _ in served], [r for _, r in served])
        check(stats[market.symbol], expected_stats_of(frame, asof))
