"""OKX through real ccxt against the OKX loopback (tests/loopback/venues/okx.py): funding history paged
by OKX's newest-first windows, the settled rate stored, daily candles paged by the same windows (recent
and history endpoints), tiers in contracts with a worked liquidation, swap tickers with their volume in
contracts, the exchange's error bodies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from perptui.domain.liquidation import liquidation_price, tier_for_notional
from perptui.domain.timeframes import DAY_MS
from perptui.services.backfill import backfill_funding, backfill_ohlcv
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.exchanges.venues import Venue
from perptui.services.store import Store
from tests.loopback.fixtures import serve
from tests.loopback.server import LoopbackExchange
from tests.loopback.venues.common import binance_bars
from tests.loopback.venues.okx import HISTORY_CANDLES_PATH, RECENT_CANDLES_PATH, OkxVenueApp
from tests.loopback.venues.okx_hl_shared import ccxt_fixture

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
BTC, ETH, LTC = "BTC/USDT:USDT", "ETH/USDT:USDT", "LTC/USDT:USDT"
HISTORY = "/api/v5/public/funding-rate-history"
HOUR_MS = 3_600_000


@pytest.fixture
def okx() -> Iterator[LoopbackExchange]:
    yield from serve(LoopbackExchange(OkxVenueApp(None), mode="okx"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def exchange_on(server: LoopbackExchange) -> CcxtExchange:
    return CcxtExchange("okx", api_base_url=server.base_url, timeout_ms=60_000, backoff_base_s=0.01)


def served_in(app: OkxVenueApp, symbol: str, since: int, until: int) -> list[tuple[int, float]]:
    return [(t, r) for t, r in app.served_funding(symbol) if since <= t < until]


def backfill(server: LoopbackExchange, store: Store, symbol: str, since: int, until: int, venue=None) -> int:
    async def scenario() -> int:
        async with exchange_on(server) as ex:
            if venue is not None:
                ex.venue = venue
            await ex.load_markets()
            server.clear_requests()
            return await backfill_funding(ex, store, symbol, since, until)

    return asyncio.run(scenario())


def stored(store: Store, symbol: str) -> list[tuple[int, float]]:
    return [(p.time, p.rate) for p in store.load_funding("okx", symbol)]


# ------------------------------------------------------------------------------------------- funding


def test_ccxts_unified_call_alone_stores_only_the_newest_100_of_270(
    okx: LoopbackExchange, store: Store
) -> None:
    """The issue's finding, reproduced on the loopback: the generic behaviour is wrong on OKX."""
    app = okx.source
    until = app.now_ms + 1
    since = until - 90 * DAY_MS
    backfill(okx, store, BTC, since, until, venue=Venue())
    assert len(served_in(app, BTC, since, until)) == 270
    assert len(stored(store, BTC)) == 100


def test_a_90_day_8h_backfill_pages_okx_windows_ascending_from_since(
    okx: LoopbackExchange, store: Store
) -> None:
    app = okx.source
    until = app.now_ms + 1
    since = until - 90 * DAY_MS
    added = backfill(okx, store, BTC, since, until)
    served = served_in(app, BTC, since, until)
    assert added == 270 and stored(store, BTC) == served

    pages = [r.query for r in okx.requests_to(HISTORY)]
    # 270 prints, at most 99 a window, then the span after the last print is found empty.
    assert len(pages) == 4
    cursor = since
    for query in pages:
        # OKX's window: newer than `before`, older than `after`, at most 100, 100 intervals wide.
        assert query["instId"] == "BTC-USDT-SWAP" and query["limit"] == "100"
        assert int(query["before"]) == cursor - 1
        assert int(query["after"]) == min(cursor + 99 * 8 * HOUR_MS, until)
        in_page = [t for t, _ in served if cursor <= t < int(query["after"])]
        cursor = in_page[-1] + 1 if in_page else until
    assert cursor == until


def test_a_one_year_hourly_backfill_stores_every_print(okx: LoopbackExchange, store: Store) -> None:
    """LTC-USDT-SWAP is hourly here: the first window, sized for 8h, holds 800 prints and is walked
    down with `after`; the interval is learnt from them and later windows are 100 hours."""
    app = okx.source
    until = app.now_ms + 1
    since = until - 365 * DAY_MS
    added = backfill(okx, store, LTC, since, until)
    served = served_in(app, LTC, since, until)
    assert len(served) == 8760
    assert added == len(served) and stored(store, LTC) == served

    first = [r.query for r in okx.requests_to(HISTORY)[:8]]
    assert [int(q["after"]) for q in first[1:]] == sorted((int(q["after"]) for q in first[1:]), reverse=True)
    assert all(int(q["before"]) == since - 1 for q in first)
    assert len(okx.requests_to(HISTORY)) <= 8 + 8760 // 99 + 2


def test_the_stored_rate_is_the_settled_realized_rate(okx: LoopbackExchange, store: Store) -> None:
    """OKX's history rows carry fundingRate (the predicted rate) and realizedRate (the one settled)."""
    app = okx.source
    until = app.now_ms + 1
    since = until - 30 * DAY_MS
    backfill(okx, store, ETH, since, until)
    raw = app.funding_rate_history({"instId": "ETH-USDT-SWAP", "before": str(since - 1)})
    rows = json.loads(raw.body)["data"]
    settled = {int(r["fundingTime"]): float(r["realizedRate"]) for r in rows}
    predicted = {int(r["fundingTime"]): float(r["fundingRate"]) for r in rows}
    mine = dict(stored(store, ETH))
    assert all(mine[t] == rate for t, rate in settled.items())
    assert any(mine[t] != rate for t, rate in predicted.items())


# ------------------------------------------------------------------------------------------- candles

#: 2021 in UTC: older than the 1,440 bars /api/v5/market/candles holds, so ccxt reads history-candles.
YEAR_2021 = (1_609_459_200_000, 1_640_995_200_000)


def fixture_candle_query() -> tuple[str, dict[str, str]]:
    """ccxt's request fixture for fetchOHLCV with ``since`` and ``limit`` (OKX's history endpoint)."""
    entry = next(e for e in ccxt_fixture("request", "okx")["methods"]["fetchOHLCV"] if len(e["input"]) == 4)
    parts = urlsplit(entry["url"])
    return parts.path, dict(parse_qsl(parts.query))


def backfill_bars(
    server: LoopbackExchange, store: Store, symbol: str, since: int, until: int, venue=None
) -> int:
    async def scenario() -> int:
        async with exchange_on(server) as ex:
            if venue is not None:
                ex.venue = venue
            await ex.load_markets()
            server.clear_requests()
            return await backfill_ohlcv(ex, store, symbol, "1d", since, until)

    return asyncio.run(scenario())


def bars_in(app: OkxVenueApp, symbol: str, since: int, until: int) -> list[tuple]:
    return [b for b in app.bars(symbol) if since <= b[0] < until]


def stored_bars(store: Store, symbol: str) -> list[tuple]:
    return [(c.time, c.open, c.high, c.low, c.close, c.volume) for c in store.load_ohlcv("okx", symbol, "1d")]


def candle_requests(server: LoopbackExchange) -> list:
    return [r for r in server.requests if r.path in (RECENT_CANDLES_PATH, HISTORY_CANDLES_PATH)]


def test_ccxts_unified_ohlcv_alone_stores_only_the_newest_100_days_of_a_year(
    okx: LoopbackExchange, store: Store
) -> None:
    """ccxt sends the caller's `until` as `after`: OKX answers the newest page of the whole year."""
    since, until = YEAR_2021
    backfill_bars(okx, store, BTC, since, until, venue=Venue())
    assert len(bars_in(okx.source, BTC, since, until)) == 365
    assert len(stored_bars(store, BTC)) == 100


def test_a_year_of_daily_bars_backfills_from_history_candles_in_windows_of_100(
    okx: LoopbackExchange, store: Store
) -> None:
    since, until = YEAR_2021
    added = backfill_bars(okx, store, BTC, since, until)
    served = bars_in(okx.source, BTC, since, until)
    assert len(served) == 365 and added == 365
    assert stored_bars(store, BTC) == served  # base volume (volCcy), not contracts

    fixture_path, fixture_query = fixture_candle_query()
    requests = candle_requests(okx)
    assert {r.path for r in requests} == {fixture_path} == {HISTORY_CANDLES_PATH}
    # 100 + 100 + 100 + 65 bars, then the empty span after the last bar.
    assert len(requests) == 5
    cursor = since
    for request in requests:
        query = request.query
        assert set(query) == set(fixture_query)
        assert query["instId"] == "BTC-USDT-SWAP" and query["bar"] == "1Dutc" and query["limit"] == "100"
        # OKX's window, both ends exclusive: one page of days from the cursor.
        assert int(query["before"]) == cursor - 1
        assert int(query["after"]) == min(cursor + 100 * DAY_MS, until)
        in_page = [b[0] for b in served if cursor <= b[0] < int(query["after"])]
        cursor = in_page[-1] + 1 if in_page else until
    assert cursor == until


def test_recent_daily_bars_come_from_the_candles_endpoint(store: Store) -> None:
    """Bars within the latest 1,440 (ccxt's rule) are read from /api/v5/market/candles: the loopback's
    "now" moved to the last real daily bar of ../shared (2026-02-25)."""
    latest = binance_bars("ETHUSDT", "1d")[-1][0]
    for server in serve(LoopbackExchange(OkxVenueApp(latest + DAY_MS - 1), mode="okx")):
        app = server.source
        until = latest + DAY_MS
        since = until - 150 * DAY_MS
        added = backfill_bars(server, store, ETH, since, until)
        served = bars_in(app, ETH, since, until)
        assert len(served) == 150 and added == 150
        assert [b[0] for b in stored_bars(store, ETH)] == [b[0] for b in served]
        requests = candle_requests(server)
        assert {r.path for r in requests} == {RECENT_CANDLES_PATH}
        assert [int(r.query["before"]) for r in requests[:2]] == [since - 1, since + 99 * DAY_MS]


def test_candle_error_bodies_become_ccxt_errors(okx: LoopbackExchange) -> None:
    import ccxt.async_support as ccxt

    async def scenario():
        async with exchange_on(okx) as ex:
            await ex.load_markets()
            api = ex.ex
            with pytest.raises(ccxt.BadSymbol):
                await api.public_get_market_history_candles({"instId": "NOPE-USDT-SWAP", "bar": "1Dutc"})
            with pytest.raises(ccxt.BadRequest, match="Parameter bar error"):
                await api.public_get_market_history_candles({"instId": "BTC-USDT-SWAP", "bar": "7D"})
            with pytest.raises(ccxt.BadRequest, match="Parameter after error"):
                await api.public_get_market_candles({"instId": "BTC-USDT-SWAP", "bar": "1Dutc", "after": "x"})

    asyncio.run(scenario())


# --------------------------------------------------------------------------------------------- tiers


def test_tiers_are_contracts_times_contract_size_times_the_mark(okx: LoopbackExchange) -> None:
    """The issue's case: a $20k BTC position is 0.4% MMR and 100x on OKX's contract tiers, not 3% and 10x
    as ccxt's copy of minSz/maxSz into minNotional/maxNotional reads (those are contracts)."""

    async def scenario():
        async with exchange_on(okx) as ex:
            tiers = await ex.fetch_leverage_tiers([BTC])
            raw = await ex.ex.fetch_market_leverage_tiers(BTC)
            return tiers[BTC], raw

    tiers, raw = asyncio.run(scenario())
    tier = tier_for_notional(tiers, 20_000)
    assert tier is not None and (tier.mmr, tier.max_leverage) == (0.004, 100)
    misread = tier_for_notional(conv.tiers_from_ccxt(raw), 20_000)
    assert misread is not None and (misread.mmr, misread.max_leverage) == (0.03, 10)

    mark = 62949.4  # the loopback's BTC-USDT-SWAP mark (/api/v5/public/mark-price)
    assert tiers[0].max_notional == pytest.approx(2000 * 0.01 * mark)
    assert tiers[1].min_notional == pytest.approx(2000 * 0.01 * mark)
    assert all(t.maint_amount == 0 for t in tiers)
    query = okx.requests_to("/api/v5/public/position-tiers")[0].query
    assert query == {"instType": "SWAP", "tdMode": "cross", "instFamily": "BTC-USDT"}


@pytest.mark.parametrize(("contracts", "leverage", "mmr"), [(50, 50, 0.004), (2500, 20, 0.005)])
def test_worked_liquidation_on_okx_tiers(
    okx: LoopbackExchange, contracts: int, leverage: int, mmr: float
) -> None:
    """OKX's isolated margin, USDT-margined swaps (OKX Help Center, "Introduction to margin ratio and
    liquidation"; tiers: https://www.okx.com/docs-v5/en/#public-data-rest-api-get-position-tiers):

        margin ratio = (margin balance + PnL) / (face value x |contracts| x mark x (tier MMR + fee rate))

    liquidated when it reaches 100%; the tier is the one holding the position's size in contracts and
    its MMR applies to the whole position. Solved for the mark of a long, fee rate 0 (perptui's
    liquidation price leaves the liquidation fee out):

        mark = (margin - face value x contracts x entry) / (face value x contracts x (MMR - 1))
    """
    entry, face = 62949.4, 0.01

    async def scenario():
        async with exchange_on(okx) as ex:
            return (await ex.fetch_leverage_tiers([BTC]))[BTC]

    tiers = asyncio.run(scenario())
    qty = contracts * face
    margin = qty * entry / leverage
    okx_price = (margin - face * contracts * entry) / (face * contracts * (mmr - 1))
    result = liquidation_price("long", qty, entry, margin, tiers)
    assert result is not None and result.tier.mmr == mmr
    assert result.price == pytest.approx(okx_price, rel=1e-12)
    # At that mark the margin ratio is exactly 100%.
    ratio = (margin + qty * (result.price - entry)) / (face * contracts * result.price * mmr)
    assert ratio == pytest.approx(1.0, rel=1e-12)


# ------------------------------------------------------------------------------------------- tickers


def test_perps_read_the_swap_tickers_with_volume_in_contracts_times_ct_val(okx: LoopbackExchange) -> None:
    app = okx.source

    async def scenario():
        async with exchange_on(okx) as ex:
            await ex.load_markets()
            okx.clear_requests()
            return await ex.fetch_tickers()

    tickers = asyncio.run(scenario())
    ticker_requests = okx.requests_to("/api/v5/market/tickers")
    assert [r.query for r in ticker_requests] == [{"instType": "SWAP"}]
    fixture = next(
        e
        for e in ccxt_fixture("request", "okx")["methods"]["fetchTickers"]
        if e["description"] == "swap tickers"
    )
    assert dict(parse_qsl(urlsplit(fixture["url"]).query)) == ticker_requests[0].query

    for symbol in app.funding_symbols:
        raw = app._ticker(app.id_of[symbol])
        ticker = tickers[symbol]
        expected = float(raw["vol24h"]) * app.contract_size(symbol) * float(raw["last"])
        assert ticker.quote_volume_24h == pytest.approx(expected, rel=1e-9)
        assert ticker.quote_volume_24h == pytest.approx(
            float(raw["volCcy24h"]) * float(raw["last"]), rel=1e-9
        )
        assert ticker.timestamp == app.now_ms  # OKX stamps its tickers (ts)
        assert ticker.mark == float(raw["last"])  # from /api/v5/public/mark-price
    assert okx.requests_to("/api/v5/public/mark-price")[0].query == {"instType": "SWAP"}


def test_markets_are_in_base_units_from_contracts(okx: LoopbackExchange) -> None:
    async def scenario():
        async with exchange_on(okx) as ex:
            return {m.symbol: m for m in await ex.load_markets()}

    btc = asyncio.run(scenario())[BTC]
    assert btc.contract_size == 0.01
    assert btc.amount_step == pytest.approx(0.0001) and btc.min_qty == pytest.approx(
        0.0001
    )  # lotSz 0.01 contracts


def test_okx_error_bodies_become_ccxt_errors(okx: LoopbackExchange) -> None:
    import ccxt.async_support as ccxt

    async def scenario():
        async with exchange_on(okx) as ex:
            await ex.load_markets()
            with pytest.raises(ccxt.BadSymbol):
                await ex.ex.public_get_public_funding_rate_history({"instId": "NOPE-USDT-SWAP"})
            with pytest.raises(ccxt.BadRequest):
                await ex.ex.public_get_public_funding_rate_history({"instId": "BTC-USDT-SWAP", "after": "x"})

    asyncio.run(scenario())


def test_current_funding_rates_carry_each_markets_interval(okx: LoopbackExchange) -> None:
    """/api/v5/public/funding-rate?instId=ANY (the fixture's request): the interval is nextFundingTime
    minus fundingTime, 8h for BTC and 1h for the hourly LTC market here."""
    app = okx.source

    async def scenario():
        async with exchange_on(okx) as ex:
            return await ex.fetch_funding_rates([BTC, LTC])

    rates = asyncio.run(scenario())
    assert (rates[BTC].interval_hours, rates[LTC].interval_hours) == (8, 1)
    assert rates[BTC].rate == app.served_funding(BTC)[-1][1]
    queries = [r.query for r in okx.requests_to("/api/v5/public/funding-rate")]
    fixture = ccxt_fixture("request", "okx")["methods"]["fetchFundingRates"][0]["url"]
    assert dict(parse_qsl(urlsplit(fixture).query)) in queries
