"""KuCoin futures through real ccxt against the KuCoin loopback: funding pages of at most 100, newest
first, anchored at ``to`` (ms); risk limits per symbol, in USDT, with no deduction; XBTUSDTM contracts of
0.001 BTC traded whole; candles in windows of 500 bars from ``since`` (KuCoin answers a longer window with its
last 500), volumes restated from lots to base.
"""

from __future__ import annotations

import asyncio
import time
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
FUNDING_PATH = "/api/v1/contract/funding-rates"


@pytest.fixture
def kucoin() -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(VENUE_LOOPBACKS["kucoinfutures"](None), mode="kucoinfutures"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange("kucoinfutures", api_base_url=server.base_url, timeout_ms=60_000)


def test_funding_history_request_is_the_one_ccxt_fixture_records(kucoin: LoopbackExchange) -> None:
    (fixture,) = [
        f for f in request_fixtures("kucoinfutures", "fetchFundingRateHistory") if len(f["input"]) == 4
    ]
    symbol, since, _limit, params = fixture["input"]

    async def scenario() -> None:
        async with exchange_on(kucoin) as ex:
            await ex.load_markets()
            kucoin.clear_requests()
            await ex.ex.fetch_funding_rate_history(symbol, since, None, params)

    asyncio.run(scenario())
    (sent,) = kucoin.requests_to(FUNDING_PATH)
    url = urlsplit(fixture["url"])
    assert url.path == FUNDING_PATH and sent.query == dict(parse_qsl(url.query))


def test_a_one_year_backfill_stores_every_print(kucoin: LoopbackExchange, store: Store) -> None:
    app = kucoin.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(kucoin) as ex:
            await ex.load_markets()
            kucoin.clear_requests()
            return await backfill_funding(ex, store, BTC, since, until)

    added = asyncio.run(scenario())
    served = [(t, r) for t, r in app.served_funding(BTC) if since <= t < until]
    assert [(p.time, p.rate) for p in store.load_funding("kucoinfutures", BTC)] == served
    assert added == len(served) == 1095  # three prints a day, 04/12/20 UTC
    assert all(p.time % (8 * 3_600_000) == 4 * 3_600_000 for p in store.load_funding("kucoinfutures", BTC))
    pages = kucoin.requests_to(FUNDING_PATH)
    assert len(pages) == 12  # windows of 99 intervals: one page of at most 100 each


def test_the_loopback_serves_the_newest_100_of_a_long_window(kucoin: LoopbackExchange) -> None:
    app = kucoin.source
    since = app.now_ms - 90 * DAY_MS

    async def scenario() -> list[dict]:
        async with exchange_on(kucoin) as ex:
            await ex.load_markets()
            return await ex.ex.fetch_funding_rate_history(BTC, since, None, {"until": app.now_ms})

    rows = asyncio.run(scenario())
    assert len(rows) == 100 and rows[-1]["timestamp"] == app.now_ms and rows[0]["timestamp"] > since + DAY_MS


def test_tiers_are_asked_per_symbol_and_give_kucoins_liquidation_price(kucoin: LoopbackExchange) -> None:
    """KuCoin's USDT-margined formula (https://www.kucoin.com/support/26694703491737):
    LP = (notional - position margin) / [size x multiplier x (1 - side x MMR - side x liquidation fee
    rate)], with the MMR of the position's risk limit level (maintenance margin = value x MMR, "300,000 x
    0.004 = 1,200"). perptui leaves the liquidation fee out, so the cases set it to 0."""

    async def scenario():
        async with exchange_on(kucoin) as ex:
            markets = {m.symbol: m for m in await ex.load_markets()}
            loaded = [r.path for r in kucoin.requests]
            kucoin.clear_requests()
            return markets, loaded, await ex.fetch_leverage_tiers([BTC])

    markets, loaded, tiers = asyncio.run(scenario())
    assert not any("risk-limit" in p for p in loaded) and markets[BTC].tiers_approximate  # none unasked
    assert kucoin.paths() == ["/api/v1/contracts/risk-limit/XBTUSDTM"]
    ladder = tiers[BTC]
    assert [(t.min_notional, t.max_notional, t.mmr, t.maint_amount, t.max_leverage) for t in ladder] == [
        (0, 500_000, 0.004, 0, 125),
        (500_000, 1_000_000, 0.005, 0, 100),
        (1_000_000, 2_000_000, 0.007, 0, 75),
    ]
    multiplier = markets[BTC].contract_size
    assert multiplier == 0.001

    def kucoin_long(entry: float, lots: int, margin: float, mmr: float) -> float:
        return (entry * lots * multiplier - margin) / (lots * multiplier * (1 - mmr - 0.0))

    # 10,000 lots (10 BTC) at 30,000, 10x: 30,000 USDT margin; level 1 (notional at LP ~271k).
    one = liquidation_price("long", 10_000 * multiplier, 30_000, 30_000, ladder)
    assert one is not None and one.price == pytest.approx(
        kucoin_long(30_000, 10_000, 30_000, 0.004), rel=1e-12
    )
    assert one.price == pytest.approx(27_108.433734940, rel=1e-12)
    # 20,000 lots (600k USDT) with 60,000 margin: level 2 at the liquidation price, 0.5% of the whole value.
    two = liquidation_price("long", 20_000 * multiplier, 30_000, 60_000, ladder)
    assert two is not None and two.tier.mmr == 0.005
    assert two.price == pytest.approx(kucoin_long(30_000, 20_000, 60_000, 0.005), rel=1e-12)


def test_xbt_contracts_are_whole_lots_of_the_multiplier(kucoin: LoopbackExchange) -> None:
    async def scenario():
        async with exchange_on(kucoin) as ex:
            return {m.symbol: m for m in await ex.load_markets()}

    markets = asyncio.run(scenario())
    btc = markets[BTC]
    assert (btc.id, btc.contract_size, btc.amount_step, btc.min_qty) == ("XBTUSDTM", 0.001, 0.001, 0.001)
    assert "BTC/USD:BTC" not in markets  # the inverse XBTUSDM is no linear perp


# ------------------------------------------------------------------------------------------ candles

KLINE_PATH = "/api/v1/kline/query"


def fixture_query() -> dict[str, str]:
    (fixture,) = request_fixtures("kucoinfutures", "fetchOHLCV")
    url = urlsplit(fixture["url"])
    assert url.path == KLINE_PATH
    return dict(parse_qsl(url.query))


def test_ccxts_kline_request_is_the_one_its_fixture_records(kucoin: LoopbackExchange) -> None:
    """The fixture (BTC/USDT:USDT, ccxt's default 1m, no since) asks symbol, granularity in minutes and
    ``to`` = now in ms; the loopback serves no 1m bars and refuses the granularity in KuCoin's shape."""
    (fixture,) = request_fixtures("kucoinfutures", "fetchOHLCV")

    async def scenario() -> tuple[int, int, str]:
        async with exchange_on(kucoin) as ex:
            await ex.load_markets()
            kucoin.clear_requests()
            before = int(time.time() * 1000)
            with pytest.raises(ccxt.BadRequest) as err:
                await ex.ex.fetch_ohlcv(*fixture["input"])
            return before, int(time.time() * 1000), str(err.value)

    before, after, message = asyncio.run(scenario())
    (sent,) = kucoin.requests_to(KLINE_PATH)
    expected = fixture_query()
    assert sent.query.keys() == expected.keys()
    assert (sent.query["symbol"], sent.query["granularity"]) == (expected["symbol"], expected["granularity"])
    assert before <= int(sent.query["to"]) <= after  # milliseconds
    assert '"code":"400100"' in message.replace(" ", "")


def test_a_one_year_backfill_of_daily_bars_stores_every_bar(kucoin: LoopbackExchange, store: Store) -> None:
    app = kucoin.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS

    async def scenario() -> int:
        async with exchange_on(kucoin) as ex:
            await ex.load_markets()
            kucoin.clear_requests()
            return await backfill_ohlcv(ex, store, BTC, "1d", since, until)

    added = asyncio.run(scenario())
    expected = [b for b in stand_in_bars(BTC, "1d", app.now_ms) if since <= b[0] < until]
    stored = store.load_ohlcv("kucoinfutures", BTC, "1d")
    assert added == len(expected) >= 364
    assert [(c.time, c.open, c.high, c.low, c.close) for c in stored] == [b[:5] for b in expected]
    # the volume counts lots of 0.001 BTC: stored back in BTC (to the lot)
    assert all(abs(c.volume - b[5]) <= 0.001 for c, b in zip(stored, expected, strict=True))
    pages = kucoin.requests_to(KLINE_PATH)
    shape = set(fixture_query()) | {"from"}  # the fixture's request, with a start (ccxt's since)
    assert pages and all(set(r.query) == shape and r.query["granularity"] == "1440" for r in pages)
    assert all(int(r.query["to"]) - int(r.query["from"]) < 500 * DAY_MS for r in pages)
    assert int(pages[0].query["from"]) == since and len(pages) <= 2


def test_a_long_window_loses_its_start_in_ccxt_but_not_through_the_venue(kucoin: LoopbackExchange) -> None:
    """KuCoin answers a window of more than 500 bars with the 500 closest to ``to``: ccxt's own call with
    a limit of 1000 starts 500 days late; the venue asks windows of 500 from ``since``."""
    app = kucoin.source
    since = app.now_ms - 1000 * DAY_MS

    async def scenario() -> tuple[list, list]:
        async with exchange_on(kucoin) as ex:
            await ex.load_markets()
            bare = await ex.ex.fetch_ohlcv(BTC, "1d", since, 1000)
            return bare, await ex.fetch_ohlcv(BTC, "1d", since, None, 1000)

    bare, candles = asyncio.run(scenario())
    served = [b[0] for b in stand_in_bars(BTC, "1d", app.now_ms) if b[0] >= since]
    assert len(bare) == 500 and bare[0][0] > since + 400 * DAY_MS
    assert [c.time for c in candles] == served[:500]


def test_a_market_listed_after_since_gets_its_bars_from_the_first(kucoin: LoopbackExchange) -> None:
    """An empty first window (the served bars start 2020-01-01) is read on to the first bars."""
    since = 1_388_534_400_000  # 2014-01-01

    async def scenario() -> list:
        async with exchange_on(kucoin) as ex:
            return await ex.fetch_ohlcv(BTC, "1d", since)

    candles = asyncio.run(scenario())
    served = [b[0] for b in stand_in_bars(BTC, "1d", kucoin.source.now_ms)]
    assert candles and [c.time for c in candles] == served[: len(candles)]
    assert candles[0].time == 1_577_836_800_000  # 2020-01-01
