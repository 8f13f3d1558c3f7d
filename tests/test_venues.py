"""The tests that run on the Binance loopback, on every other exchange's loopback (tests/loopback/venues):
markets, tickers, a 90-day funding backfill that stores every served print and resumes with nothing to
ask, the scanner's statistics against a pandas recomputation of the served prints, and a one-year
backtest (its data fetched through the exchange: daily bars and funding) whose funding ledger holds
every served print.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import tests.loopback.venues  # noqa: F401  (imports every venue module, which registers itself)
from perptui.domain.backtest.engine import run_backtest
from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding
from perptui.services.backtest_data import load_history
from perptui.services.clock import SystemClock
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.scan import HISTORY_DAYS, history_stats_of
from perptui.services.store import Store
from tests.backtest_data import always, book
from tests.funding_reference import check, expected_stats_of, reference_frame
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.registry import VENUE_LOOPBACKS

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")


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


def test_a_one_year_backtest_funding_ledger_holds_every_served_print(
    venue: LoopbackExchange, store: Store
) -> None:
    """The backtest's data loading (``load_history`` online: markets, daily bars, funding, tiers) through
    the venue, then a 1x long in every served perp held throughout: the history carries every served
    print of the span, and the funding ledger pays each one the engine's rule says is paid (every print
    after the first bar's open and before the last bar's close). A venue serving less than a year is
    read over all it serves."""
    app = venue.source
    symbols = list(app.funding_symbols)
    until = app.now_ms + 1
    oldest = min(app.served_funding(s)[0][0] for s in symbols)
    since = max(until - 365 * DAY_MS, oldest - oldest % DAY_MS)

    async def scenario():
        async with exchange_on(venue) as ex:
            return await load_history(
                ex, store, app.exchange_id, symbols, "1d", (since, until), SystemClock(), spot=False
            )

    history = asyncio.run(scenario())
    assert list(history.symbols) == symbols
    # Order rules off: a stand-in price series may be far from the market's lot size (the funding is
    # what is under test here, not the rounding of quantities).
    history = dataclasses.replace(history, rules=(None,) * len(symbols))
    weight = 0.5 / len(symbols)
    long_all = always(book([weight] * len(symbols), leverage=[1.0] * len(symbols)))
    result = run_backtest(history, [(long_all, 10_000.0)])
    first_open, last_close = int(history.times[0]), int(history.times[-1]) + history.bar_ms
    for j, symbol in enumerate(symbols):
        served = floored([(t, r) for t, r in app.served_funding(symbol) if since <= t < until])
        assert len(served) >= min(365, len(app.served_funding(symbol))), symbol  # a year (or all) of prints
        carried = history.funding_symbol == j
        assert pairs(history.funding_time[carried], history.funding_rate[carried]) == served, symbol
        paid = result.funding.symbol == j
        held = [(t, r) for t, r in served if first_open < t < last_close]
        assert pairs(result.funding.time[paid], result.funding.rate[paid]) == held, symbol
        assert np.all(result.funding.qty[paid] > 0), symbol


def pairs(times: np.ndarray, rates: np.ndarray) -> list[tuple[int, float]]:
    return list(zip(times.tolist(), rates.tolist(), strict=True))
