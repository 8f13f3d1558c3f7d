"""Bitget's own behaviour, through real ccxt against the Bitget loopback (tests/loopback/venues/bitget.py):
funding history paged backwards by page number (Bitget ignores time filters), the requests ccxt sends
as its fixtures show them, swap tickers for perps (never the spot ones), tiers per symbol in USDT,
daily candles over a year, and Bitget's error body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding, backfill_ohlcv
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.store import Store
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.bitget import make_bitget
from tests.loopback.venues.common import static

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
FUNDING_PATH = "/api/v2/mix/market/history-fund-rate"


@pytest.fixture
def bitget() -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(make_bitget(None), mode="bitget"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange("bitget", api_base_url=server.base_url, timeout_ms=60_000)


def fixture_request(method: str, inputs: list) -> tuple[str, dict[str, str]]:
    """The path and query ccxt's request fixture records for ``method`` called with ``inputs``."""
    entry = next(e for e in static("request", "bitget")["methods"][method] if e["input"] == inputs)
    parts = urlsplit(entry["url"])
    return parts.path, dict(parse_qsl(parts.query))


def test_ccxt_asks_for_funding_history_as_its_fixture_shows(bitget: LoopbackExchange) -> None:
    path, query = fixture_request("fetchFundingRateHistory", [BTC])

    async def scenario() -> None:
        async with exchange_on(bitget) as ex:
            await ex.load_markets()
            await ex.ex.fetch_funding_rate_history(BTC)

    asyncio.run(scenario())
    assert path == FUNDING_PATH and bitget.requests_to(path)[-1].query == query


def test_a_90_day_backfill_pages_back_by_number_until_since(bitget: LoopbackExchange, store: Store) -> None:
    """The issue: ccxt read the newest page only (a 4h market stored 100 of 540 prints). 270 prints of
    90 days: pages 1, 2 and 3 of 100 (page 3 reaches back past ``since``); a second backfill then has
    nothing to ask."""
    app = bitget.source
    until = app.now_ms + 1
    since = until - 90 * DAY_MS

    async def scenario() -> tuple[int, int]:
        async with exchange_on(bitget) as ex:
            await ex.load_markets()
            bitget.clear_requests()
            added = await backfill_funding(ex, store, BTC, since, until)
            return added, await backfill_funding(ex, store, BTC, since, until)

    added, again = asyncio.run(scenario())
    served = [(t - t % 1000, r) for t, r in app.served_funding(BTC) if since <= t < until]
    assert len(served) == 270 and added == 270 and again == 0
    assert [(p.time, p.rate) for p in store.load_funding("bitget", BTC)] == served
    asked = [(r.query["pageNo"], r.query["pageSize"]) for r in bitget.requests_to(FUNDING_PATH)]
    assert asked == [("1", "100"), ("2", "100"), ("3", "100")]
    assert all("startTime" not in r.query for r in bitget.requests_to(FUNDING_PATH))


def test_perps_get_the_swap_tickers_never_the_spot_ones(bitget: LoopbackExchange) -> None:
    """The scanner reads every ticker (no symbols): ccxt alone asks Bitget's SPOT tickers then, and the
    perps get nothing; the venue asks for the USDT-M swap tickers, as ccxt's fixture with subType linear."""
    path, query = fixture_request("fetchTickers", [None, {"subType": "linear"}])

    async def scenario():
        async with exchange_on(bitget) as ex:
            await ex.load_markets()
            plain = await ex.ex.fetch_tickers()
            bitget.clear_requests()
            return plain, await ex.fetch_tickers()

    plain, tickers = asyncio.run(scenario())
    assert BTC not in plain and "BTC/USDT" in plain  # ccxt by itself: spot
    assert set(tickers) == {BTC, ETH}
    assert all(t.quote_volume_24h and t.mark for t in tickers.values())
    assert bitget.paths() == [path] and bitget.requests[0].query == query
    assert tickers[BTC].timestamp == bitget.source.now_ms  # Bitget's own ``ts``


def test_tiers_are_read_per_symbol_in_usdt(bitget: LoopbackExchange) -> None:
    """Bitget's BTCUSDT ladder (ccxt's fixture): up to 150,000 USDT at 125x and 0.4%."""

    async def scenario():
        async with exchange_on(bitget) as ex:
            await ex.load_markets()
            return await ex.fetch_leverage_tiers([BTC])

    tiers = asyncio.run(scenario())[BTC]
    assert [(t.min_notional, t.max_notional, t.mmr, t.max_leverage) for t in tiers[:2]] == [
        (0.0, 150_000.0, 0.004, 125.0),
        (150_000.0, 900_000.0, 0.005, 100.0),
    ]
    asked = bitget.requests_to("/api/v2/mix/market/query-position-lever")
    assert [r.query["symbol"] for r in asked] == ["BTCUSDT"]
    assert asked[0].query["productType"] == "USDT-FUTURES"


def test_a_year_of_daily_candles_arrives_in_windows_of_90(bitget: LoopbackExchange, store: Store) -> None:
    """For old bars ccxt uses the history endpoint and asks for the bars ENDING at ``until`` (90 days at
    most for a swap), whatever ``since`` is; each request here is the window of 90 days from the cursor."""
    app = bitget.source
    until = app.now_ms + 1
    since = until - until % DAY_MS - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(bitget) as ex:
            await ex.load_markets()
            return await backfill_ohlcv(ex, store, BTC, "1d", since, until)

    added = asyncio.run(scenario())
    served = [b for b in app.bars(BTC, "1d") if since <= b[0] < until]
    assert added == len(served) >= 365
    assert [c.time for c in store.load_ohlcv("bitget", BTC, "1d", since, until)] == [b[0] for b in served]
    asked = bitget.requests_to("/api/v2/mix/market/history-candles")
    assert all(r.query["limit"] == "90" and r.query["granularity"] == "1Dutc" for r in asked)
    assert len(asked) <= 6


def test_an_unknown_symbol_gets_bitgets_error_body(bitget: LoopbackExchange) -> None:
    import ccxt.async_support as ccxt

    async def scenario() -> None:
        async with exchange_on(bitget) as ex:
            await ex.load_markets()
            await ex.ex.publicMixGetV2MixMarketHistoryFundRate(
                {"symbol": "NOPEUSDT", "productType": "USDT-FUTURES"}
            )

    with pytest.raises(ccxt.ExchangeError, match="NOPEUSDT does not exist"):
        asyncio.run(scenario())
